"""Results as JSON, CSV or text tables: the CLI's output formats.

The JSON schemas are contracts that scripts rely on (see the README):
compare ``{"settings", "images", "errors", "pairs": [{"a", "b", "mse", "ssim",
"psnr"}], "provenance"}`` (with the terms, each pair also has ``"terms":
{"luminance", "contrast", "structure"}``), sweep ``{"settings", "images",
"errors", "sizes", "pairs": [{"a", "b", "ssim": [...], "mse": [...]}],
"kendall_tau"}``, diff ``{"settings", "a",
"b", "ssim", "mse", "psnr", "threshold", "regions", "changed_fraction", "terms":
{"luminance", "contrast", "structure"}}``,
classify ``{"settings", "images", "errors", "loo", "predictions", "clusters"}``.
Every CLI document ends with ``"provenance"`` (`provenance`): versions and the
SHA-256 of each input. Infinite PSNR (identical images) is null; no NaN or
Infinity ever appears.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from imgsim.classify import Classification
from imgsim.comparison import Comparison, Pair
from imgsim.differences import PairInspection
from imgsim.engine import Scales
from imgsim.settings import MS_SSIM_ZERO_NOTE, Settings
from imgsim.sweep import Sweep
from imgsim.terms import TERM_NAMES, dominant_difference

CSV_COLUMNS = ("a", "b", "ssim", "mse", "psnr")
# Appended after the contract's columns, so readers by column name are unaffected.
CSV_PROVENANCE_COLUMNS = ("a_sha256", "b_sha256", "versions")
# The distributions whose versions decide the numbers.
LIBRARIES = {
    "numpy": "numpy",
    "opencv": "opencv-python-headless",
    "scikit-image": "scikit-image",
    "pillow": "pillow",
}


def sha256_of(source: str | Path | bytes) -> str:
    """SHA-256 of a file's bytes (a path, read in chunks) or of bytes, in hex."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return hashlib.sha256(source).hexdigest()
    with open(source, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def library_versions() -> dict[str, str]:
    """imgsim's version and those of the libraries that decide the numbers."""
    from imgsim import __version__

    versions = {"imgsim": __version__}
    for name, distribution in LIBRARIES.items():
        try:
            versions[name] = version(distribution)
        except PackageNotFoundError:
            # Installed under another distribution name (opencv-python, say).
            versions[name] = _module_version(name)
    return versions


def _module_version(name: str) -> str:
    import cv2
    import numpy
    import PIL
    import skimage

    modules = {"numpy": numpy, "opencv": cv2, "scikit-image": skimage, "pillow": PIL}
    return str(modules[name].__version__)


def provenance(inputs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """What a result needs to be reproduced and audited: versions and input digests.

    Parameters
    ----------
    inputs : sequence of (name, sha256)
        Every input in input order, named as in ``images`` and ``errors``
        (files that could not be read included, with the digest of their bytes;
        a file that could not be opened has ``None``).

    Returns
    -------
    dict
        ``{"versions": {"imgsim", "numpy", "opencv", "scikit-image", "pillow"},
        "inputs": [{"name", "sha256"}]}``, ready for any JSON output.
    """
    return {
        "versions": library_versions(),
        "inputs": [{"name": name, "sha256": digest} for name, digest in inputs],
    }


def with_provenance(document: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """The document with a ``"provenance"`` key last, when there is one."""
    return document if record is None else {**document, "provenance": record}


def to_dict(result: Comparison) -> dict[str, Any]:
    """The JSON contract as plain Python values (no NaN or infinity)."""
    return {
        "settings": result.settings.to_dict(),
        "images": _images(result.images),
        "errors": _errors(result.errors),
        "pairs": [_pair_dict(pair) for pair in result.pairs()],
    }


def _pair_dict(pair: Pair) -> dict[str, Any]:
    entry = {
        "a": pair.a,
        "b": pair.b,
        "mse": pair.mse,
        "ssim": pair.ssim,
        "psnr": finite_or_none(pair.psnr),
    }
    if pair.terms is not None:  # only with --terms: the contract is otherwise unchanged
        entry["terms"] = pair.terms.to_dict()
    return entry


def to_json(result: Comparison, record: dict[str, Any] | None = None) -> str:
    """The JSON contract, with ``record`` (see `provenance`) as ``"provenance"``."""
    return to_json_text(with_provenance(to_dict(result), record))


def to_csv(result: Comparison, record: dict[str, Any] | None = None) -> str:
    """One row per pair: a, b, ssim, mse, psnr (``inf`` for identical images).

    With the terms (``compare(..., terms=True)``), luminance, contrast and
    structure follow psnr.

    With ``record`` (see `provenance`), each row also has both inputs' SHA-256
    and the versions, in columns after the contract's.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # The terms' columns (with --terms) follow the contract's, before the provenance.
    term_columns = TERM_NAMES if result.terms is not None else ()
    writer.writerow(CSV_COLUMNS + term_columns + (CSV_PROVENANCE_COLUMNS if record else ()))
    for pair in result.pairs():
        row = [pair.a, pair.b, *map(csv_number, (pair.ssim, pair.mse, pair.psnr))]
        if pair.terms is not None:
            row += [csv_number(value) for value in pair.terms.to_dict().values()]
        writer.writerow(row + _provenance_cells(record, pair.a, pair.b))
    return buffer.getvalue()


def csv_number(value: float) -> str:
    """A number as CSV text: the repr of a Python float (``inf`` for infinity).

    NumPy scalars' repr is ``np.float64(0.5)``, which no CSV reader parses as a
    number, so every value is made a Python float first.
    """
    return repr(float(value))


def _provenance_cells(record: dict[str, Any] | None, a: str, b: str) -> list[str]:
    if record is None:
        return []
    digests = {entry["name"]: entry["sha256"] for entry in record["inputs"]}
    versions = "; ".join(f"{name} {value}" for name, value in record["versions"].items())
    return [digests.get(a) or "", digests.get(b) or "", versions]


def settings_line(settings: Settings) -> str:
    """The settings as the text tables' first line says them (after the image count)."""
    score = (
        settings.score_name
        if settings.ssim_convention == "ms-ssim"
        else f"{settings.score_name} {settings.ssim_convention}"
    )
    return (
        f"{'grayscale' if settings.grayscale else 'colour'}, fit {settings.fit}, "
        f"{settings.interp} interpolation, {score}"
    )


def zero_footnote(settings: Settings, scores: np.ndarray) -> list[str]:
    """The lines that say what an MS-SSIM of 0 is, when any score shown is one."""
    if settings.ssim_convention != "ms-ssim" or not (np.asarray(scores) == 0).any():
        return []
    return ["", MS_SSIM_ZERO_NOTE]


def to_table(result: Comparison) -> str:
    """Aligned text table of every pair, most similar first (with the terms after the score)."""
    pairs = sorted(result.pairs(), key=lambda pair: pair.ssim, reverse=True)
    with_terms = result.terms is not None
    heads = TERM_NAMES if with_terms else ()
    score = result.settings.score_name
    rows = [("image A", "image B", score, *heads, "MSE", "PSNR dB")] + [
        (
            pair.a,
            pair.b,
            f"{pair.ssim:.4f}",
            *(f"{value:.4f}" for value in (pair.terms.to_dict().values() if with_terms else ())),
            f"{pair.mse:.2f}",
            f"{pair.psnr:.2f}",
        )
        for pair in pairs
    ]
    settings = result.settings
    header = (
        f"{len(result.images)} images at {settings.width}x{settings.height}, "
        f"{settings_line(settings)}"
    )
    footnote = zero_footnote(settings, [pair.ssim for pair in pairs])
    return "\n".join([header, "", _align(rows, left=2), *footnote]) + "\n"


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def sweep_to_dict(result: Sweep) -> dict[str, Any]:
    """The sweep's JSON contract; ``kendall_tau`` is against the largest size."""
    return {
        "settings": result.settings.to_dict(),
        "images": _images(result.images),
        "errors": _errors(result.errors),
        "sizes": [_size(size) for size in result.sizes],
        "pairs": [
            {
                "a": result.names[i],
                "b": result.names[j],
                "ssim": result.ssim[:, i, j].tolist(),
                "mse": result.mse[:, i, j].tolist(),
            }
            for i, j in result.pair_indices()
        ],
        "kendall_tau": result.kendall_tau(),
        "reference": dict(
            zip(("width", "height"), result.sizes[result.reference_index], strict=True)
        ),
    }


def _size(size: tuple[int, int]) -> dict[str, int]:
    return {"width": size[0], "height": size[1]}


def sweep_to_csv(result: Sweep, record: dict[str, Any] | None = None) -> str:
    """One row per pair and size: a, b, width, height, ssim, mse (and provenance, as `to_csv`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ("a", "b", "width", "height", "ssim", "mse")
    writer.writerow(columns + (CSV_PROVENANCE_COLUMNS if record else ()))
    for i, j in result.pair_indices():
        a, b = result.names[i], result.names[j]
        for index, (width, height) in enumerate(result.sizes):
            row = (result.ssim[index, i, j], result.mse[index, i, j])
            writer.writerow(
                [a, b, width, height, *map(csv_number, row), *_provenance_cells(record, a, b)]
            )
    return buffer.getvalue()


def sweep_to_table(result: Sweep) -> str:
    """The settings, the score of each pair (rows) at each size (columns), and the verdict."""
    settings = result.settings
    header = (
        f"{len(result.images)} images at {len(result.sizes)} sizes, {settings_line(settings)}; "
        f"{settings.score_name} of each pair at each size"
    )
    labels = [f"{w}" if w == h else f"{w}x{h}" for w, h in result.sizes]
    rows = [("image A", "image B", *labels)] + [
        (result.names[i], result.names[j], *(f"{v:.4f}" for v in result.ssim[:, i, j]))
        for i, j in result.pair_indices()
    ]
    taus = ["" if tau is None else f"{tau:.2f}" for tau in result.kendall_tau()]
    rows.append(("Kendall's tau", f"vs {labels[result.reference_index]}", *taus))
    footnote = zero_footnote(settings, [result.ssim[:, i, j] for i, j in result.pair_indices()])
    lines = [header, "", _align(rows, left=2), result.verdict(), *footnote]
    return "\n".join(lines) + "\n"


def inspection_to_dict(result: PairInspection) -> dict[str, Any]:
    """The diff command's JSON: scores, regions (resized pixels), changed share."""
    return {
        "settings": result.settings.to_dict(),
        "a": result.names[0],
        "b": result.names[1],
        "ssim": result.ssim,
        "mse": result.mse,
        "psnr": finite_or_none(result.psnr),
        "threshold": result.threshold,
        "regions": [
            {
                "x": region.x,
                "y": region.y,
                "width": region.width,
                "height": region.height,
                "ssim": region.ssim,
            }
            for region in result.regions
        ],
        "changed_fraction": result.changed_fraction,
        "terms": result.terms.to_dict(),
        # Only for MS-SSIM: its five factors, the full size first (see imgsim.msssim).
        **({} if result.scales is None else {"scales": scales_to_list(result.scales)}),
    }


def scales_to_list(scales: Scales) -> list[dict[str, Any]]:
    """MS-SSIM's scales as JSON: ``{"size": [w, h], "value", "weight"}`` each, finest first.

    ``value`` is the mean contrast-structure (SSIM at the coarsest scale),
    clipped at 0 and averaged over channels: MS-SSIM is the product of
    ``value ** weight`` (for grayscale).
    """
    return [
        {"size": [width, height], "value": float(value), "weight": float(weight)}
        for (width, height), value, weight in zip(
            scales.sizes, scales.values, scales.weights, strict=True
        )
    ]


def inspection_to_table(result: PairInspection) -> str:
    """Scores, then one line per region."""
    settings = result.settings
    head = (
        f"{result.names[0]} vs {result.names[1]} at {settings.width}x{settings.height}: "
        f"{settings.score_name} {result.ssim:.4f}, MSE {result.mse:.2f}, "
        f"PSNR {result.psnr:.2f} dB; "
        f"{result.changed_fraction:.1%} of pixels differ "
        f"(dissimilarity above {result.threshold:.3f})"
    )
    rows = [("x", "y", "width", "height", "mean SSIM")] + [
        (str(r.x), str(r.y), str(r.width), str(r.height), f"{r.ssim:.3f}") for r in result.regions
    ]
    found = f"{len(result.regions)} differing region(s)"
    lines = [head, dominant_difference(result.terms), found, "", _align(rows, left=0)]
    if result.scales is not None:
        scale_rows = [("scale", "size", "value", "weight")] + [
            (
                str(number),
                f"{item['size'][0]}x{item['size'][1]}",
                f"{item['value']:.4f}",
                f"{item['weight']:.4f}",
            )
            for number, item in enumerate(scales_to_list(result.scales), start=1)
        ]
        lines += ["", "MS-SSIM scale by scale:", _align(scale_rows, left=0)]
        lines += zero_footnote(result.settings, [result.ssim])
    return "\n".join(lines) + "\n"


def to_json_text(document: dict[str, Any]) -> str:
    """Strictly valid JSON (``allow_nan=False`` guards every contract)."""
    return json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def _images(images) -> list[dict[str, Any]]:
    return [{"name": image.name, "width": image.width, "height": image.height} for image in images]


def _errors(errors) -> list[dict[str, str]]:
    return [{"name": error.name, "error": error.error} for error in errors]


def _align(rows: list[tuple[str, ...]], left: int) -> str:
    """Columns padded to width: the first ``left`` to the left, the rest to the right."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if column < left else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def classification_to_dict(result: Classification, labels_source: str) -> dict[str, Any]:
    """The classify command's JSON contract (the chosen metric's leave-one-out)."""
    names = result.comparison.names
    loo = result.loo[result.metric]
    return {
        "settings": {
            **result.comparison.settings.to_dict(),
            "k": result.k,
            "metric": result.metric,
            "threshold": result.threshold,
            "labels": labels_source,
        },
        "images": [
            {"name": name, "label": label} for name, label in zip(names, result.labels, strict=True)
        ],
        "errors": _errors(result.comparison.errors),
        "loo": {
            "accuracy": loo.accuracy,
            "per_class": loo.per_class,
            "confusion": {"labels": list(loo.labels), "matrix": loo.confusion.tolist()},
            "baseline_accuracy": loo.baseline_accuracy,
        },
        "predictions": [
            {
                "name": prediction.name,
                "label": prediction.label,
                "predicted": prediction.predicted,
                "neighbours": [
                    {
                        "name": neighbour.name,
                        "label": neighbour.label,
                        "score": finite_or_none(neighbour.score),
                    }
                    for neighbour in prediction.neighbours
                ],
                "margin": finite_or_none(prediction.margin),
            }
            for prediction in result.predictions
        ],
        "clusters": [[names[index] for index in group] for group in result.clusters],
    }


def classification_to_table(result: Classification) -> str:
    """Leave-one-out accuracy of each metric, recall, queries and near-duplicate groups."""
    names = result.comparison.names
    settings = result.comparison.settings
    predictor = settings.metric_name(result.metric)
    lines = [f"{len(names)} images, k = {result.k}, predicting with {predictor}", ""]
    rows = [("leave-one-out", "accuracy")]
    for metric, loo in result.loo.items():
        rows.append(
            (settings.metric_name(metric), "" if loo.accuracy is None else f"{loo.accuracy:.1%}")
        )
    chance = result.loo[result.metric].baseline_accuracy
    rows.append(("chance (majority label)", "" if chance is None else f"{chance:.1%}"))
    lines += [_align(rows, left=1), ""]
    recall = result.loo[result.metric].per_class
    if recall:
        rows = [("label", "recall")] + [(label, f"{value:.1%}") for label, value in recall.items()]
        lines += [_align(rows, left=1), ""]
    if result.queries:
        rows = [("query", "predicted", "margin", "best matches")]
        for query in result.queries:
            matches = ", ".join(f"{n.name} ({n.score:.3f})" for n in query.neighbours)
            margin = "" if finite_or_none(query.margin) is None else f"{query.margin:.3f}"
            rows.append((query.name, str(query.predicted), margin, matches))
        lines += [_align(rows, left=4), ""]
    groups = [group for group in result.clusters if len(group) > 1]
    lines.append(
        f"near-duplicate groups ({settings.score_name} >= {result.threshold}): {len(groups)}"
    )
    lines += ["  " + ", ".join(names[index] for index in group) for group in groups]
    return "\n".join(lines) + "\n"
