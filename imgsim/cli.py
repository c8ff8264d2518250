"""Command line: ``python -m imgsim compare [options] PATH...``.

A thin shell over `imgsim.compare`: parse options into `Settings`, expand
folders, print a table, CSV or JSON. Exit status: 0 when at least two images
were compared, 1 when fewer than two could be read, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from imgsim import report
from imgsim.comparison import compare
from imgsim.decoding import is_image_filename
from imgsim.progress import Progress, format_duration
from imgsim.settings import (
    ALPHA_MODES,
    DEFAULT_SIZE,
    FITS,
    INTERPS,
    SSIM_CONVENTIONS,
    Settings,
)

FORMATTERS = {"table": report.to_table, "csv": report.to_csv, "json": report.to_json}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    files = expand_paths(args.paths, sys.stderr)
    bar = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    result = compare(files, settings, progress=bar)
    if bar is not None:
        bar.finish()
    for error in result.errors:
        print(f"imgsim: {error}", file=sys.stderr)
    if len(result.images) < 2:
        print(
            f"imgsim: {len(result.images)} of {len(files)} images could be read; "
            "at least two are needed to compare",
            file=sys.stderr,
        )
        return 1
    output = FORMATTERS[args.format](result)
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m imgsim",
        description="How similar are these images? MSE, PSNR and SSIM for every pair.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    compare_parser = commands.add_parser(
        "compare",
        help="compare every pair of images",
        description="Compare every pair of images (a folder stands for its images, "
        "sorted by name, not recursive).",
    )
    compare_parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    add_settings_options(compare_parser)
    compare_parser.add_argument(
        "--format",
        choices=tuple(FORMATTERS),
        default="table",
        help="output format (table)",
    )
    compare_parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE")
    return parser


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """The options that make a `Settings`, shared by every command."""
    default = Settings()
    parser.add_argument(
        "--size",
        type=parse_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help=f"resize every image to W x H pixels ({default.width}x{default.height}); N means NxN",
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
        "--ssim", choices=SSIM_CONVENTIONS, default=default.ssim, help="SSIM convention"
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The `Settings` that the options of `add_settings_options` describe."""
    return Settings(
        size=args.size,
        grayscale=not args.color,
        fit=args.fit,
        interp=args.interp,
        alpha=args.alpha,
        ssim=args.ssim,
    )


def parse_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        if len(parts) == 1:
            return int(parts[0]), int(parts[0])
        if len(parts) == 2:
            return int(parts[0]), int(parts[1])
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected WxH such as 256x256, got {text!r}")


def expand_paths(paths: Sequence[str], notes: TextIO) -> list[Path]:
    """Files as given; folders replaced by their image files sorted by name.

    Files in a folder without an image extension are skipped with a note.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            files.append(path)
            continue
        entries = sorted(
            (entry for entry in path.iterdir() if entry.is_file()),
            key=lambda entry: entry.name,
        )
        images = [entry for entry in entries if is_image_filename(entry.name)]
        skipped = [
            entry.name
            for entry in entries
            if entry not in images and not entry.name.startswith(".")
        ]
        if skipped:
            print(
                f"imgsim: {path}: skipped {len(skipped)} file(s) without an image "
                f"extension: {', '.join(skipped)}",
                file=notes,
            )
        if not images:
            print(f"imgsim: {path}: no images in this folder", file=notes)
        files.extend(images)
    return files


class TerminalProgress:
    """A one-line progress bar with the time left, redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._last = 0.0
        self._drawn = False

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and progress.fraction < 1:
            return
        self._last = now
        filled = round(progress.fraction * self._width)
        left = progress.remaining
        eta = f", {format_duration(left)} left" if left is not None and left >= 1 else ""
        line = (
            f"\r[{'#' * filled}{'.' * (self._width - filled)}] "
            f"{progress.fraction:4.0%} {progress.message}{eta}"
        )
        self._stream.write(line.ljust(79)[:100])
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self._stream.write("\r" + " " * 100 + "\r")
            self._stream.flush()
