"""What every command shares: the parser, the settings options, argument types, help.

Each argument type turns the text of one option into its value, or raises
`argparse.ArgumentTypeError` with a message naming what was expected; argparse
then shows the command's usage and exits with 2.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from imgsim.analyses import parse_sizes
from imgsim.settings import (
    ALPHA_MODES,
    DEFAULT_SIZE,
    FITS,
    INTERPS,
    SSIM_CONVENTIONS,
    Limits,
    Settings,
)


class UsageError(Exception):
    """A command line that cannot be run as given: exit 2 with the command's usage."""


# The image outputs' help names these (those that Pillow here writes); `image_file`
# accepts every extension Pillow writes.
IMAGE_EXTENSION_EXAMPLES = (".png", ".jpg", ".webp", ".bmp", ".tif")


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default (when it has a meaningful one)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "%(default)" in text
            or not action.option_strings
            or action.default in (None, False, argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: %(default)s)"


class CommandParser(argparse.ArgumentParser):
    """An `argparse.ArgumentParser` whose options take values such as ``-5x5`` or ``-1e-3``.

    argparse takes an argument that starts with ``-`` for an option unless it
    is a plain negative number (``-1``, ``-0.5``), and then says "expected one
    argument". These commands have no option that starts with a digit, so a
    ``-`` followed by a digit (or a point) right after an option that takes one
    value is that option's value: it is joined to it (``--size=-5x5``, the form
    argparse documents for such values) and reaches the option's own check.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Set before argparse's own __init__, which already adds -h.
        self.value_options: set[str] = set()
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """As `argparse.ArgumentParser.add_argument`, noting the options with one value."""
        action = super().add_argument(*args, **kwargs)
        if action.option_strings and action.nargs is None:  # exactly one value
            self.value_options.update(action.option_strings)
        return action

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """As `argparse.ArgumentParser.parse_known_args`, negative values joined first."""
        given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(joined_values(given, self.value_options), namespace)


def joined_values(arguments: Sequence[str], value_options: set[str]) -> list[str]:
    """``arguments`` with each ``OPTION -digit...`` joined into ``OPTION=-digit...``.

    Only for the ``value_options`` (those that take one value), and never after ``--``.
    """
    joined: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--":
            return joined + list(arguments[index:])
        following = arguments[index + 1] if index + 1 < len(arguments) else ""
        if argument in value_options and NEGATIVE_VALUE.match(following):
            joined.append(f"{argument}={following}")
            index += 2
            continue
        joined.append(argument)
        index += 1
    return joined


NEGATIVE_VALUE = re.compile(r"-[\d.]")


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """The options that make a `Settings`, shared by every command that compares."""
    default = Settings()
    parser.add_argument(
        "--size",
        type=parse_size,
        default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}",
        metavar="WxH",
        help="resize every image to W x H pixels; N means NxN",
    )
    parser.add_argument(
        "--color", action="store_true", help="compare in colour (default: grayscale)"
    )
    parser.add_argument("--fit", choices=FITS, default=default.fit, help="aspect handling")
    parser.add_argument("--interp", choices=INTERPS, default=default.interp, help="interpolation")
    parser.add_argument(
        "--alpha", choices=ALPHA_MODES, default=default.alpha, help="transparent pixels"
    )
    parser.add_argument(
        "--ssim",
        choices=SSIM_CONVENTIONS,
        default=default.ssim_convention,
        help="SSIM convention",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The `Settings` that the options of `add_settings_options` describe."""
    return Settings(
        size=args.size,
        grayscale=not args.color,
        fit=args.fit,
        interp=args.interp,
        alpha=args.alpha,
        ssim_convention=args.ssim,
    )


def checked_settings(args: argparse.Namespace, limits: Limits) -> Settings:
    """The settings of the options, --size checked against ``limits`` first.

    Raises
    ------
    LimitError
        For a --size over the size bound (refused as such, not by another rule).
    UsageError
        For settings that cannot be used (a size below the SSIM window).
    """
    limits.check_side(args.size)
    try:
        return settings_from_args(args)
    except ValueError as error:
        raise UsageError(str(error)) from None


def parse_sizes_option(text: str) -> list[tuple[int, int]]:
    """A list of sizes (``64,128`` or ``64x48 128x96``), each once."""
    try:
        return parse_sizes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def parse_ssim(text: str) -> float:
    """An SSIM, in [-1, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected an SSIM in [-1, 1] such as 0.9, got {text!r}")
    return value


def parse_threshold(text: str) -> float | None:
    """``otsu`` (None: Otsu's method) or a dissimilarity in [0, 1]."""
    if text.lower() == "otsu":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected otsu or a number in [0, 1], got {text!r}")
    return value


def parse_size(text: str) -> tuple[int, int]:
    """``WxH``, or ``N`` for ``NxN``; both sides positive."""
    parts = text.lower().split("x")
    try:
        sides = [int(part) for part in parts] if len(parts) in (1, 2) else []
    except ValueError:
        sides = []
    if not sides:
        raise argparse.ArgumentTypeError(f"expected WxH such as 256x256, got {text!r}")
    if min(sides) < 1:
        raise argparse.ArgumentTypeError(f"expected positive sides such as 256x256, got {text!r}")
    return sides[0], sides[-1]


def share(text: str) -> float:
    """A share of the image, in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a share in [0, 1) such as 0.001, got {text!r}")
    return value


def writes_images(suffix: str) -> bool:
    """Whether Pillow writes an image for a file name ending in ``suffix`` (``.png``)."""
    kind = Image.registered_extensions().get(suffix.lower())
    return kind is not None and kind in Image.SAVE


def image_file(text: str) -> str:
    """A file name whose extension names an image format Pillow can write.

    Whether it can be written is checked with the other outputs (`check_writable`).
    """
    suffix = Path(text).suffix.lower()
    if not writes_images(suffix):
        raise argparse.ArgumentTypeError(
            f"{text}: {suffix or 'no extension'} is not an image format; use .png"
        )
    return text


def image_kinds() -> str:
    """The image files that `image_file` accepts, as help text."""
    examples = [suffix for suffix in IMAGE_EXTENSION_EXAMPLES if writes_images(suffix)]
    return f"an image file: {', '.join(examples)} or any other extension Pillow writes"
