"""``imgsim diff``: where two images differ, from their SSIM map."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from imgsim import outputs
from imgsim.analyses import DEFAULT_MIN_AREA, inspect_pair, map_image, side_by_side
from imgsim.cli._options import image_file, image_kinds, parse_threshold, share
from imgsim.cli._output import (
    add_command,
    check_writable,
    provenance_for,
    write_file,
    write_output,
)
from imgsim.images import ImageError, load_image
from imgsim.settings import Settings, checked_max_pixels

FORMATS = {
    "table": lambda result, record: outputs.inspection_to_table(result),
    "json": lambda result, record: outputs.to_json_text(
        outputs.with_provenance(outputs.inspection_to_dict(result), record)
    ),
}


def add_diff(commands: Any) -> None:
    """Add ``diff`` to the subcommands ``commands``."""
    parser = add_command(
        commands,
        "diff",
        run,
        FORMATS,
        help="show where two images differ",
        description="Find the regions where two images differ, from their SSIM map.",
    )
    parser.add_argument("paths", nargs=2, metavar="PATH", help="the two images")
    parser.add_argument(
        "--threshold",
        type=parse_threshold,
        default=None,
        metavar="otsu|T",
        help="dissimilarity (1 - SSIM) / 2 above which a pixel differs, in [0, 1] "
        "(default: Otsu's method)",
    )
    parser.add_argument(
        "--min-area",
        type=share,
        default=DEFAULT_MIN_AREA,
        metavar="SHARE",
        help="drop regions smaller than this share of the image, in [0, 1)",
    )
    parser.add_argument(
        "--map",
        metavar="IMAGE",
        type=image_file,
        help=f"write the SSIM map in colour (viridis) to {image_kinds()}",
    )
    parser.add_argument(
        "--boxes",
        metavar="IMAGE",
        type=image_file,
        help=f"write both images side by side with the boxes to {image_kinds()}",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Inspect the pair; 1 when either image cannot be read."""
    for image in (args.map, args.boxes):
        if image:
            check_writable(image)
    files = [Path(path) for path in args.paths]
    max_pixels = checked_max_pixels(args.limits, 2, settings)
    loaded = [load_image(path, index, max_pixels) for index, path in enumerate(files)]
    unreadable = [item for item in loaded if isinstance(item, ImageError)]
    for error in unreadable:
        print(f"imgsim: {error}", file=sys.stderr)
    if unreadable:
        return 1
    first, second = loaded
    result = inspect_pair(
        first,
        second,
        settings,
        threshold=args.threshold,
        min_area=args.min_area,
        limits=args.limits,
    )
    if args.map:
        write_image(args.map, map_image(result.ssim_map))
    if args.boxes:
        write_image(args.boxes, side_by_side(result))
    write_output(args, FORMATS[args.format](result, provenance_for(args, files)))
    return 0


def write_image(path: str, pixels: np.ndarray) -> None:
    """An image file in the format its extension names (checked by `image_file`)."""
    kind = Image.registered_extensions()[Path(path).suffix.lower()]
    write_file(path, lambda stream: Image.fromarray(pixels).save(stream, format=kind))
