"""`neighbours` results as JSON, CSV, Parquet or a text table (the CLI's formats).

JSON contract: ``{"settings", "images": [{"name", "width", "height",
"upsampled", "smooth"}], "references" (with --against, the same keys), "errors",
"neighbours": [{"name", "matches": [{"name", "ssim", "mse", "psnr", "flags"}]}],
"pairs": [{"a", "b", "ssim", "mse", "psnr", "exact", "flags"}], "grouping":
"chained" and "groups": [{"names", "min_ssim", "exact", "flags"}] (with
--min-ssim)}``; infinite PSNR is null, as in compare's contract. ``flags`` lists
names from `imgsim.analyses.FLAGS` (``[]`` for none): a pair's `pair_flags`, a
group's `group_flags`.
Under the MS-SSIM convention the score's keys and columns are ``ms_ssim`` and
``min_ms_ssim`` (`Settings.score_key`).
CSV and Parquet: one row per (query, rank, match, ssim, mse, psnr, flags); with
--min-ssim, sibling files (``out.pairs.parquet``, ``out.groups.parquet``) hold one
row per (a, b, ssim, mse, psnr, exact, flags) and per (group, name, min_ssim,
exact, flags). A ``flags`` cell joins the flags with ``;`` (empty for none).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from imgsim.collection import Neighbours
from imgsim.outputs._format import (
    align_columns,
    errors_list,
    finite_or_none,
    flag_notes_block,
    flags_after_score,
    images_list,
    to_json_text,
)
from imgsim.outputs._provenance import provenance, with_provenance
from imgsim.outputs._report import CSV_FLAG_SEPARATOR, settings_line, zero_footnote

ROW_COLUMNS = ("query", "rank", "match", "ssim", "mse", "psnr", "flags")
PAIR_COLUMNS = ("a", "b", "ssim", "mse", "psnr", "exact", "flags")
GROUP_COLUMNS = ("group", "name", "min_ssim", "exact", "flags")


def neighbours_with_provenance(document: dict[str, Any], result: Neighbours) -> dict[str, Any]:
    """The document with compare's ``"provenance"`` (versions, each input's SHA-256).

    ``result.digests`` already holds the digests, so no file is hashed again.
    """
    names = result.names + [image.name for image in result.references or ()]
    inputs = list(zip(names, result.digests, strict=True))
    return with_provenance(document, provenance(inputs))


def neighbours_to_dict(result: Neighbours) -> dict[str, Any]:
    """The JSON contract as plain Python values (no NaN or infinity)."""
    names, matches = result.names, result.match_names
    score = result.settings.score_key
    document: dict[str, Any] = {
        "settings": {
            **result.settings.to_dict(),
            "top": result.top,
            f"min_{score}": result.min_ssim,
        },
        "images": images_list(result.images, result.image_flags),
    }
    if result.references is not None:
        document["references"] = images_list(result.references, result.reference_flags or ())
    document["errors"] = errors_list(result.errors)
    document["neighbours"] = [
        {
            "name": names[query],
            "matches": [
                {
                    "name": match,
                    score: ssim,
                    "mse": mse,
                    "psnr": finite_or_none(psnr),
                    "flags": list(flags),
                }
                for _, match, ssim, mse, psnr, flags in _matches(result, query)
            ],
        }
        for query in range(len(names))
    ]
    if result.pairs is not None:
        pairs = result.pairs
        document["pairs"] = [
            {
                "a": names[a],
                "b": matches[b],
                score: float(ssim),
                "mse": float(mse),
                "psnr": finite_or_none(float(psnr)),
                "exact": bool(mse == 0),
                "flags": list(result.flags(a, b)),
            }
            for a, b, ssim, mse, psnr in zip(
                pairs.query, pairs.match, pairs.ssim, pairs.mse, pairs.psnr, strict=True
            )
        ]
    if result.groups is not None:
        # Chained: connected components of the pairs, so a member may reach the
        # others only through a chain (unlike classify's complete-linkage clusters).
        document["grouping"] = "chained"
        document["groups"] = [
            {
                "names": [names[i] for i in group.members],
                f"min_{score}": group.min_ssim,
                "exact": group.exact,
                "flags": list(group.flags),
            }
            for group in result.groups
        ]
    return neighbours_with_provenance(document, result)


def neighbours_to_json(result: Neighbours) -> str:
    return to_json_text(neighbours_to_dict(result))


Flags = tuple[str, ...]


def _matches(
    result: Neighbours, query: int
) -> Iterator[tuple[int, str, float, float, float, Flags]]:
    """(rank from 1, match name, ssim, mse, psnr, the pair's flags) of one query's matches."""
    names = result.match_names
    for rank, match in enumerate(result.index[query], start=1):
        if match < 0:
            return
        slot = rank - 1
        yield (
            rank,
            names[match],
            float(result.ssim[query, slot]),
            float(result.mse[query, slot]),
            float(result.psnr[query, slot]),
            result.flags(query, match),
        )


def flags_cell(flags: Flags) -> str:
    """Flags in one CSV or Parquet cell: ``"upsampled;smooth"``, ``""`` for none."""
    return CSV_FLAG_SEPARATOR.join(flags)


def neighbour_rows(
    result: Neighbours,
) -> Iterator[tuple[str, int, str, float, float, float, str]]:
    """One row per (query, rank, match, ssim, mse, psnr, flags), queries in input order."""
    for query, name in enumerate(result.names):
        for rank, match, ssim, mse, psnr, flags in _matches(result, query):
            yield name, rank, match, ssim, mse, psnr, flags_cell(flags)


def pair_rows(result: Neighbours) -> Iterator[tuple[str, str, float, float, float, bool, str]]:
    """One row per pair at or above ``min_ssim``: (a, b, ssim, mse, psnr, exact, flags),
    as JSON's."""
    pairs, names, matches = result.pairs, result.names, result.match_names
    if pairs is None:
        return
    for a, b, ssim, mse, psnr in zip(
        pairs.query, pairs.match, pairs.ssim, pairs.mse, pairs.psnr, strict=True
    ):
        yield (
            names[a],
            matches[b],
            float(ssim),
            float(mse),
            float(psnr),
            bool(mse == 0),
            flags_cell(result.flags(a, b)),
        )


def group_rows(result: Neighbours) -> Iterator[tuple[int, str, float, bool, str]]:
    """One row per member of each group: (group from 1, name, min_ssim, exact, the
    group's flags), largest first."""
    for number, group in enumerate(result.groups or (), start=1):
        for member in group.members:
            yield number, result.names[member], group.min_ssim, group.exact, flags_cell(group.flags)


# Each table: its columns and their Arrow types (by name, as pyarrow is imported late).
TABLES = {
    "rows": (
        ROW_COLUMNS,
        ("string", "int32", "string", "float64", "float64", "float64", "string"),
    ),
    "pairs": (
        PAIR_COLUMNS,
        ("string", "string", "float64", "float64", "float64", "bool_", "string"),
    ),
    "groups": (GROUP_COLUMNS, ("int32", "string", "float64", "bool_", "string")),
}
TABLE_ROWS = {"rows": neighbour_rows, "pairs": pair_rows, "groups": group_rows}


def table_columns(result: Neighbours, table: str) -> tuple[str, ...]:
    """A table's column names, the score's named by the convention (`Settings.score_key`)."""
    score = result.settings.score_key
    renamed = {"ssim": score, "min_ssim": f"min_{score}"}
    return tuple(renamed.get(column, column) for column in TABLES[table][0])


def neighbours_tables(result: Neighbours) -> list[str]:
    """The tables this result has: ``rows`` always, ``pairs`` and ``groups`` with them."""
    present = ["rows"]
    if result.pairs is not None:
        present.append("pairs")
    if result.groups is not None:
        present.append("groups")
    return present


def table_path(path: str, table: str) -> str:
    """Where a table goes next to ``path``: ``out.parquet`` -> ``out.pairs.parquet``."""
    if table == "rows":
        return path
    file = Path(path)
    return str(file.with_name(f"{file.stem}.{table}{file.suffix}"))


def neighbours_to_csv(result: Neighbours, table: str = "rows") -> str:
    """One of the `tables` as CSV (``inf`` PSNR for identical images, as compare's CSV)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table_columns(result, table))
    for row in TABLE_ROWS[table](result):
        writer.writerow([repr(value) if isinstance(value, float) else value for value in row])
    return buffer.getvalue()


def neighbours_to_parquet(result: Neighbours, path: str, table: str = "rows") -> None:
    """One of the `tables` as a Parquet file (PSNR null where infinite), for tables too
    large for JSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names, types = table_columns(result, table), TABLES[table][1]
    columns: dict[str, list] = {column: [] for column in names}
    for row in TABLE_ROWS[table](result):
        for column, value in zip(names, row, strict=True):
            columns[column].append(value)
    if "psnr" in columns:
        columns["psnr"] = [finite_or_none(value) for value in columns["psnr"]]
    schema = pa.schema(
        [(name, getattr(pa, kind)()) for name, kind in zip(names, types, strict=True)]
    )
    pq.write_table(pa.table(columns, schema=schema), path)


def neighbours_to_table(result: Neighbours) -> str:
    """Each image's matches, then the near-duplicate groups."""
    settings = result.settings
    against = "" if result.references is None else f" against {len(result.references)}"
    lines = [
        f"{len(result.images)} images{against} at {settings.width}x{settings.height}, "
        f"{settings_line(settings)}; top {result.top}",
        "",
    ]
    score = settings.score_name
    table = [("image", f"best matches ({score})")] + [
        (
            name,
            ", ".join(
                f"{match} ({ssim:.4f}{flags_after_score(flags)})"
                for _, match, ssim, _, _, flags in _matches(result, query)
            ),
        )
        for query, name in enumerate(result.names)
    ]
    lines.append(align_columns(table, left=2))
    if result.pairs is not None:
        lines += ["", f"pairs with {score} >= {result.min_ssim}: {len(result.pairs)}"]
    if result.groups is not None:
        lines.append(
            f"chained groups (images joined through pairs with {score} >= {result.min_ssim}): "
            f"{len(result.groups)}"
        )
        for group in result.groups:
            kind = "exact duplicates" if group.exact else f"min {score} {group.min_ssim:.4f}"
            names = ", ".join(result.names[i] for i in group.members)
            lines.append(f"  {names} ({kind}{flags_after_score(group.flags)})")
    lines += zero_footnote(settings, result.ssim)
    lines += flag_notes_block(_shown_flags(result))
    return "\n".join(lines) + "\n"


def _shown_flags(result: Neighbours) -> Iterator[str]:
    """Every flag the table shows: its matches' and its groups'."""
    for query in range(len(result.names)):
        for *_, flags in _matches(result, query):
            yield from flags
    for group in result.groups or ():
        yield from group.flags
