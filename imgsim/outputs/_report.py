"""Results as JSON, CSV or text tables: the CLI's output formats.

The JSON schemas are contracts that scripts rely on (see the README):
compare ``{"settings", "images": [{"name", "width", "height", "upsampled",
"smooth"}], "errors", "pairs": [{"a", "b", "mse", "ssim", "psnr", "flags"}],
"provenance"}`` (with the terms, each pair also has ``"terms":
{"luminance", "contrast", "structure"}``; ``flags`` lists names from
`imgsim.analyses.FLAGS`, ``[]`` for none), sweep ``{"settings", "images",
"errors", "sizes", "pairs": [{"a", "b", "ssim": [...], "mse": [...]}],
"kendall_tau"}``, diff ``{"settings", "a",
"b", "ssim", "mse", "psnr", "threshold", "regions", "changed_fraction", "terms":
{"luminance", "contrast", "structure"}}``,
classify ``{"settings", "images": [{"name", "width", "height", "upsampled",
"smooth", "label"}], "errors", "loo", "predictions": [{"name", "label",
"predicted", "neighbours": [{"name", "label", "score", "flags"}], "margin"}],
"clustering": "complete-linkage", "clusters"}`` (a neighbour's ``flags`` are its
pair's, from `imgsim.analyses.FLAGS`).
Under the MS-SSIM convention, every ``"ssim"`` key above that holds the score
is ``"ms_ssim"`` instead (`Settings.score_key`); a region's ``"ssim"`` stays, as
it is the local SSIM map's mean. Every CLI document ends with ``"provenance"``
(`provenance`): versions and the SHA-256 of each input. Infinite PSNR
(identical images) is null; no NaN or Infinity ever appears.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import numpy.typing as npt

from imgsim.analyses import (
    SMOOTH_SHARE,
    Classification,
    Comparison,
    Pair,
    PairInspection,
    Sweep,
)
from imgsim.metrics import TERM_NAMES, Scales, dominant_difference
from imgsim.outputs._format import (
    align_columns,
    csv_number,
    errors_list,
    finite_or_none,
    flag_notes_block,
    flags_after_score,
    images_list,
    to_json_text,
)
from imgsim.outputs._provenance import with_provenance
from imgsim.settings import MS_SSIM_ZERO_NOTE, Settings

CSV_COLUMNS = ("a", "b", "ssim", "mse", "psnr")  # "ssim" is the convention's `score_key`
# A pair's flags in one CSV cell: ";" never needs quoting and no flag holds it.
CSV_FLAG_SEPARATOR = ";"
# Appended after the contract's columns, so readers by column name are unaffected.
CSV_PROVENANCE_COLUMNS = ("a_sha256", "b_sha256", "versions")


def to_dict(result: Comparison) -> dict[str, Any]:
    """The JSON contract as plain Python values (no NaN or infinity)."""
    return {
        "settings": result.settings.to_dict(),
        "images": images_list(result.images, result.image_flags),
        "errors": errors_list(result.errors),
        "pairs": [_pair_dict(pair, result.settings.score_key) for pair in result.pairs()],
    }


def _pair_dict(pair: Pair, score: str) -> dict[str, Any]:
    entry = {
        "a": pair.a,
        "b": pair.b,
        "mse": pair.mse,
        score: pair.ssim,
        "psnr": finite_or_none(pair.psnr),
    }
    if pair.terms is not None:  # only with --terms: the contract is otherwise unchanged
        entry["terms"] = pair.terms.to_dict()
    entry["flags"] = list(pair.flags)
    return entry


def to_json(result: Comparison, record: dict[str, Any] | None = None) -> str:
    """The JSON contract, with ``record`` (see `provenance`) as ``"provenance"``."""
    return to_json_text(with_provenance(to_dict(result), record))


def to_csv(result: Comparison, record: dict[str, Any] | None = None) -> str:
    """One row per pair: a, b, ssim, mse, psnr (``inf`` for identical images).

    With the terms (``compare(..., terms=True)``), luminance, contrast and
    structure follow psnr. Then ``flags``: the pair's flags joined by ``;``
    (empty for none).

    With ``record`` (see `provenance`), each row also has both inputs' SHA-256
    and the versions, in columns after the contract's.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # The terms' columns (with --terms) follow the contract's, before the provenance.
    term_columns = TERM_NAMES if result.terms is not None else ()
    columns = (CSV_COLUMNS[0], CSV_COLUMNS[1], result.settings.score_key, *CSV_COLUMNS[3:])
    writer.writerow(
        columns + term_columns + ("flags",) + (CSV_PROVENANCE_COLUMNS if record else ())
    )
    for pair in result.pairs():
        row = [pair.a, pair.b, *map(csv_number, (pair.ssim, pair.mse, pair.psnr))]
        if pair.terms is not None:
            row += [csv_number(value) for value in pair.terms.to_dict().values()]
        row.append(CSV_FLAG_SEPARATOR.join(pair.flags))
        writer.writerow(row + _provenance_cells(record, pair.a, pair.b))
    return buffer.getvalue()


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


def zero_footnote(settings: Settings, scores: npt.ArrayLike) -> list[str]:
    """The lines that say what an MS-SSIM of 0 is, when any score shown is one."""
    if settings.ssim_convention != "ms-ssim" or not (np.asarray(scores) == 0).any():
        return []
    return ["", MS_SSIM_ZERO_NOTE]


def to_table(result: Comparison) -> str:
    """Aligned text table of every pair, most similar first (with the terms after the score).

    When any pair is flagged, a last column lists its flags, and notes under
    the table say what each flag means and which images raise them.
    """
    pairs = sorted(result.pairs(), key=lambda pair: pair.ssim, reverse=True)
    with_terms = result.terms is not None
    flagged = any(pair.flags for pair in pairs)
    heads = TERM_NAMES if with_terms else ()
    score = result.settings.score_name
    rows = [("image A", "image B", score, *heads, "MSE", "PSNR dB", *(("flags",) * flagged))] + [
        (
            pair.a,
            pair.b,
            f"{pair.ssim:.4f}",
            # pair.terms is set exactly when result.terms is (`Comparison.pairs`).
            *(
                f"{value:.4f}"
                for value in (pair.terms.to_dict().values() if pair.terms is not None else ())
            ),
            f"{pair.mse:.2f}",
            f"{pair.psnr:.2f}",
            *((", ".join(pair.flags),) * flagged),
        )
        for pair in pairs
    ]
    settings = result.settings
    header = (
        f"{len(result.images)} images at {settings.width}x{settings.height}, "
        f"{settings_line(settings)}"
    )
    footnote = zero_footnote(settings, [pair.ssim for pair in pairs])
    notes = flag_notes_block(flag for pair in pairs for flag in pair.flags)
    if notes:
        notes += ["", "Flagged images:", *image_notes(result)]
    lines = [header, "", align_columns(rows, left=2, last_left=flagged), *footnote, *notes]
    return "\n".join(lines) + "\n"


def image_notes(result: Comparison) -> list[str]:
    """One line for each image that raises a flag: its enlargement and smooth share."""
    return [
        f"  {image.name} ({image.width}x{image.height}): enlarged {flags.upsampled:.3g}x, "
        f"{flags.smooth:.0%} of its windows smooth"
        for image, flags in zip(result.images, result.image_flags, strict=True)
        if flags.flags or flags.smooth > SMOOTH_SHARE
    ]


def sweep_to_dict(result: Sweep) -> dict[str, Any]:
    """The sweep's JSON contract; ``kendall_tau`` is against the largest size."""
    return {
        "settings": result.settings.to_dict(),
        "images": images_list(result.images),
        "errors": errors_list(result.errors),
        "sizes": [_size(size) for size in result.sizes],
        "pairs": [
            {
                "a": result.names[i],
                "b": result.names[j],
                result.settings.score_key: result.ssim[:, i, j].tolist(),
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
    columns = ("a", "b", "width", "height", result.settings.score_key, "mse")
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
    lines = [header, "", align_columns(rows, left=2), result.verdict(), *footnote]
    return "\n".join(lines) + "\n"


def inspection_to_dict(result: PairInspection) -> dict[str, Any]:
    """The diff command's JSON: scores, regions (resized pixels), changed share."""
    return {
        "settings": result.settings.to_dict(),
        "a": result.names[0],
        "b": result.names[1],
        result.settings.score_key: result.ssim,
        "mse": result.mse,
        "psnr": finite_or_none(result.psnr),
        "threshold": result.threshold,
        "regions": [
            {
                "x": region.x,
                "y": region.y,
                "width": region.width,
                "height": region.height,
                # The local SSIM map's mean (MS-SSIM's finest scale): SSIM whatever the convention.
                "ssim": region.ssim,
            }
            for region in result.regions
        ],
        "changed_fraction": result.changed_fraction,
        "terms": result.terms.to_dict(),
        # Only for MS-SSIM: its five factors, the full size first (see imgsim.metrics._msssim).
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
    lines = [head, dominant_difference(result.terms), found, "", align_columns(rows, left=0)]
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
        lines += ["", "MS-SSIM scale by scale:", align_columns(scale_rows, left=0)]
        lines += zero_footnote(result.settings, [result.ssim])
    return "\n".join(lines) + "\n"


def classification_to_dict(result: Classification, labels_source: str) -> dict[str, Any]:
    """The classify command's JSON contract (the chosen metric's leave-one-out)."""
    comparison = result.comparison
    names = comparison.names
    loo = result.loo[result.metric]
    images = images_list(comparison.images, comparison.image_flags)
    return {
        "settings": {
            **result.comparison.settings.to_dict(),
            "k": result.k,
            "metric": result.metric,
            "threshold": result.threshold,
            "labels": labels_source,
        },
        # Each image's size, enlargement and smooth share (as compare's), then its label.
        "images": [
            {**image, "label": label} for image, label in zip(images, result.labels, strict=True)
        ],
        "errors": errors_list(result.comparison.errors),
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
                        "flags": list(neighbour.flags),
                    }
                    for neighbour in prediction.neighbours
                ],
                "margin": finite_or_none(prediction.margin),
            }
            for prediction in result.predictions
        ],
        # Complete linkage: every pair inside a cluster reaches the threshold
        # (unlike neighbours' chained groups).
        "clustering": "complete-linkage",
        "clusters": [[names[index] for index in group] for group in result.clusters],
    }


def classification_to_table(result: Classification) -> str:
    """Leave-one-out accuracy of each metric, recall, queries and near-duplicate groups."""
    names = result.comparison.names
    settings = result.comparison.settings
    predictor = settings.metric_name(result.metric)
    lines = [f"{len(names)} images, k = {result.k}, predicting with {predictor}", ""]
    accuracy_rows = [("leave-one-out", "accuracy")]
    for metric, loo in result.loo.items():
        accuracy_rows.append(
            (settings.metric_name(metric), "" if loo.accuracy is None else f"{loo.accuracy:.1%}")
        )
    chance = result.loo[result.metric].baseline_accuracy
    accuracy_rows.append(("chance (majority label)", "" if chance is None else f"{chance:.1%}"))
    lines += [align_columns(accuracy_rows, left=1), ""]
    recall = result.loo[result.metric].per_class
    if recall:
        recall_rows = [("label", "recall")]
        recall_rows += [(label, f"{value:.1%}") for label, value in recall.items()]
        lines += [align_columns(recall_rows, left=1), ""]
    if result.queries:
        query_rows = [("query", "predicted", "margin", "best matches")]
        for query in result.queries:
            matches = ", ".join(
                f"{n.name} ({n.score:.3f}{flags_after_score(n.flags)})" for n in query.neighbours
            )
            margin = "" if finite_or_none(query.margin) is None else f"{query.margin:.3f}"
            query_rows.append((query.name, str(query.predicted), margin, matches))
        lines += [align_columns(query_rows, left=4), ""]
    groups = [group for group in result.clusters if len(group) > 1]
    lines.append(
        f"near-duplicate groups ({settings.score_name} >= {result.threshold}, complete "
        f"linkage: every pair in a group at or above it): {len(groups)}"
    )
    lines += ["  " + ", ".join(names[index] for index in group) for group in groups]
    lines += flag_notes_block(
        flag for query in result.queries for n in query.neighbours for flag in n.flags
    )
    return "\n".join(lines) + "\n"
