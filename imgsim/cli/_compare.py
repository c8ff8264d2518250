"""``imgsim compare``: every pair of images, as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from imgsim import outputs
from imgsim.analyses import compare
from imgsim.cli._output import add_command, enough_images, provenance_for, write_output
from imgsim.cli._paths import FOLDERS_HELP, expand_paths
from imgsim.cli._progress import terminal_progress
from imgsim.settings import Settings

FORMATS = {
    "table": lambda result, record: outputs.to_table(result),
    "csv": outputs.to_csv,
    "json": outputs.to_json,
}


def add_compare(commands: Any) -> None:
    """Add ``compare`` to the subcommands ``commands``."""
    parser = add_command(
        commands,
        "compare",
        run,
        FORMATS,
        help="compare every pair of images",
        description=f"Compare every pair of images. {FOLDERS_HELP}",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    parser.add_argument(
        "--terms",
        action="store_true",
        help="also give each pair's SSIM luminance, contrast and structure (several times slower)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compare every pair of the images; 1 when fewer than two could be read."""
    files = expand_paths(args.paths, sys.stderr)
    with terminal_progress() as bar:
        result = compare(files, settings, progress=bar, limits=args.limits, terms=args.terms)
    if not enough_images(result, len(files), args.paths):
        return 1
    write_output(args, FORMATS[args.format](result, provenance_for(args, files)))
    return 0
