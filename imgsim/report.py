"""A `Comparison` as JSON, CSV or a text table (the CLI's output formats).

The JSON schema is a contract that scripts rely on:
``{"settings", "images": [{"name", "width", "height"}], "errors": [{"name",
"error"}], "pairs": [{"a", "b", "mse", "ssim", "psnr"}]}``, with ``psnr`` null
where it is infinite (identical images).
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from imgsim.comparison import Comparison

CSV_COLUMNS = ("a", "b", "ssim", "mse", "psnr")


def to_dict(result: Comparison) -> dict[str, Any]:
    """The JSON contract as plain Python values (no NaN or infinity)."""
    return {
        "settings": result.settings.to_dict(),
        "images": [
            {"name": image.name, "width": image.width, "height": image.height}
            for image in result.images
        ],
        "errors": [{"name": error.name, "error": error.error} for error in result.errors],
        "pairs": [
            {
                "a": pair.a,
                "b": pair.b,
                "mse": pair.mse,
                "ssim": pair.ssim,
                "psnr": finite_or_none(pair.psnr),
            }
            for pair in result.pairs()
        ],
    }


def to_json(result: Comparison) -> str:
    """Strictly valid JSON (``allow_nan=False`` guards the contract)."""
    return json.dumps(to_dict(result), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def to_csv(result: Comparison) -> str:
    """One row per pair: a, b, ssim, mse, psnr (``inf`` for identical images)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for pair in result.pairs():
        writer.writerow([pair.a, pair.b, repr(pair.ssim), repr(pair.mse), repr(pair.psnr)])
    return buffer.getvalue()


def to_table(result: Comparison) -> str:
    """Aligned text table of every pair, most similar first."""
    pairs = sorted(result.pairs(), key=lambda pair: pair.ssim, reverse=True)
    rows = [("image A", "image B", "SSIM", "MSE", "PSNR dB")] + [
        (pair.a, pair.b, f"{pair.ssim:.4f}", f"{pair.mse:.2f}", f"{pair.psnr:.2f}")
        for pair in pairs
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = [
        "  ".join(
            cell.ljust(width) if column < 2 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    settings = result.settings
    header = (
        f"{len(result.images)} images at {settings.width}x{settings.height}, "
        f"{'grayscale' if settings.grayscale else 'colour'}, fit {settings.fit}, "
        f"{settings.interp} interpolation, SSIM {settings.ssim}"
    )
    return "\n".join([header, "", *lines]) + "\n"


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
