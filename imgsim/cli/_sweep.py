"""``imgsim sweep``: every pair compared at each size of a list."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from imgsim import outputs
from imgsim.analyses import DEFAULT_SIDES, settings_at, sweep, sweep_sizes
from imgsim.cli._options import (
    UsageError,
    checked_settings,
    parse_sizes_option,
    settings_from_args,
)
from imgsim.cli._output import add_command, enough_images, provenance_for, write_output
from imgsim.cli._paths import FOLDERS_HELP, expand_paths
from imgsim.cli._progress import terminal_progress
from imgsim.settings import LimitError, Limits, Settings

FORMATS = {
    "table": lambda result, record: outputs.sweep_to_table(result),
    "csv": outputs.sweep_to_csv,
    "json": lambda result, record: outputs.to_json_text(
        outputs.with_provenance(outputs.sweep_to_dict(result), record)
    ),
}


def add_sweep(commands: Any) -> None:
    """Add ``sweep`` to the subcommands ``commands``."""
    parser = add_command(
        commands,
        "sweep",
        run,
        FORMATS,
        help="compare every pair at several sizes",
        description=f"Compare every pair at each size of a list. {FOLDERS_HELP}",
    )
    parser.set_defaults(make_settings=sweep_settings)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    parser.add_argument(
        "--sizes",
        type=parse_sizes_option,
        metavar="N,N,...",
        help="square sides (or WxH sizes), separated by commas or spaces; each size once "
        f"(default: {','.join(map(str, DEFAULT_SIDES))}, less those below the SSIM "
        "convention's smallest side)",
    )
    parser.add_argument(
        "--keep-aspect",
        action="store_true",
        help="take each N as a width and keep the aspect of --size",
    )


def sweep_settings(args: argparse.Namespace, limits: Limits) -> Settings:
    """The settings to sweep with; --size is checked only with --keep-aspect, which uses it.

    Without it, a --size that makes no valid settings is not an error: the
    settings take the size the sweep ends at (its reference) instead, which
    `checked_sweep_sizes` checks with the others.
    """
    if args.keep_aspect:
        return checked_settings(args, limits)
    try:
        return settings_from_args(args)
    except ValueError:
        pass
    sides = args.sizes or [(side, side) for side in DEFAULT_SIDES]
    args.size = max(sides, key=lambda size: size[0] * size[1])
    try:
        return settings_from_args(args)
    except ValueError:
        args.size = (max(DEFAULT_SIDES),) * 2
        return settings_from_args(args)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compare every pair at each size; 1 when fewer than two images could be read."""
    sizes = checked_sweep_sizes(args, settings)
    files = expand_paths(args.paths, sys.stderr)
    with terminal_progress() as bar:
        result = sweep(files, sizes, settings, progress=bar, limits=args.limits)
    if not enough_images(result, len(files), args.paths):
        return 1
    write_output(args, FORMATS[args.format](result, provenance_for(args, files)))
    return 0


def checked_sweep_sizes(args: argparse.Namespace, settings: Settings) -> list[tuple[int, int]]:
    """The sizes to sweep: --sizes, checked, or the default sizes that fit the convention.

    Each size is checked as sweep() checks it, against the limits in force
    (``args.limits``): the size bound first (a `LimitError`, reported by main
    as a request over the limits), then the SSIM window. Default sizes below
    the window are left out with a note; typed ones are a usage error naming
    every size that is too small.
    """
    sides = args.sizes or [(side, side) for side in DEFAULT_SIDES]
    if args.keep_aspect:
        sizes = sweep_sizes([width for width, _ in sides], aspect_of=settings.size)
    else:
        sizes = sides
    fitting, small = [], []
    for size in sizes:
        try:
            settings_at(settings, size, args.limits)
        except LimitError:
            raise
        except ValueError:
            small.append(f"{size[0]}x{size[1]}")
            continue
        fitting.append(size)
    rule = f"below the {settings.ssim_convention} convention's smallest side, {settings.min_side}"
    if small and args.sizes:
        raise UsageError(
            f"--sizes: {', '.join(small)} {'is' if len(small) == 1 else 'are'} {rule}; "
            f"give sizes of at least {settings.min_side}x{settings.min_side}"
        )
    if not fitting:
        raise UsageError(
            f"every default size ({', '.join(small)}) is {rule}; give --sizes larger ones"
        )
    if small:
        print(f"imgsim: default sizes {', '.join(small)} left out: {rule}", file=sys.stderr)
    return fitting
