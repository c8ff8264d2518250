"""Formatting shared by every output: strict JSON, CSV numbers, aligned columns."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from imgsim.analyses import FLAGS, ImageFlags, flags_text
from imgsim.images import ImageError, ImageInfo


def csv_number(value: float) -> str:
    """A number as CSV text: the repr of a Python float (``inf`` for infinity).

    NumPy scalars' repr is ``np.float64(0.5)``, which no CSV reader parses as a
    number, so every value is made a Python float first.
    """
    return repr(float(value))


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def to_json_text(document: dict[str, Any]) -> str:
    """Strictly valid JSON (``allow_nan=False`` guards every contract)."""
    return json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def images_list(
    images: Iterable[ImageInfo], flags: Sequence[ImageFlags] = ()
) -> list[dict[str, Any]]:
    """Each image's name and size; with ``flags``, also ``upsampled`` and ``smooth``."""
    listed = [
        {"name": image.name, "width": image.width, "height": image.height} for image in images
    ]
    for entry, image_flags in zip(listed, flags, strict=False):
        entry["upsampled"] = image_flags.upsampled
        entry["smooth"] = image_flags.smooth
    return listed


def flag_notes(flags: Iterable[str]) -> list[str]:
    """What each flag that appears means, one line each, in the vocabulary's order."""
    shown = set(flags)
    return [f"{flag}: {meaning}" for flag, meaning in FLAGS.items() if flag in shown]


def errors_list(errors: Iterable[ImageError]) -> list[dict[str, str]]:
    return [{"name": error.name, "error": error.error} for error in errors]


def align_columns(rows: Sequence[Sequence[str]], left: int, last_left: bool = False) -> str:
    """Columns padded to width: the first ``left`` to the left, the rest to the right.

    With ``last_left``, the last column (text, such as flags) is left-aligned too.
    """
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width)
            if column < left or (last_left and column == len(widths) - 1)
            else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def flags_after_score(flags: Sequence[str]) -> str:
    """Flags after a score in a text table, ``"0.93" + ", smooth"``; ``""`` for none."""
    return f", {flags_text(flags)}" if flags else ""


def flag_notes_block(flags: Iterable[str]) -> list[str]:
    """The lines under a text table that say what the flags it shows mean; none
    when it shows none."""
    notes = flag_notes(flags)
    if not notes:
        return []
    return ["", "The scores are exact; a flag says why one may mislead:", *notes]
