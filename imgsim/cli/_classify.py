"""``imgsim classify``: labels, k-nearest-neighbour accuracy, predictions and groups."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgsim import outputs
from imgsim.analyses import (
    DEFAULT_THRESHOLD,
    METRICS,
    classify,
    compare,
    default_labels,
    label_from_folder,
    labels_from_csv,
)
from imgsim.cli._options import parse_ssim, positive_int
from imgsim.cli._output import add_command, enough_images, provenance_for, write_output
from imgsim.cli._paths import FOLDERS_HELP, expand_paths
from imgsim.cli._progress import terminal_progress
from imgsim.images import unique_names
from imgsim.settings import Settings

FORMATS = {
    "table": lambda result, source, record: outputs.classification_to_table(result),
    "json": lambda result, source, record: outputs.to_json_text(
        outputs.with_provenance(outputs.classification_to_dict(result, source), record)
    ),
}


@dataclass(frozen=True)
class LabelSource:
    """Where classify's labels come from: file ``names``, ``folders`` or a ``csv``."""

    kind: str
    given: dict[str, str] | None = None  # the CSV's labels by image name


def label_source(text: str) -> LabelSource:
    """``names``, ``folders`` or a ``name,label`` CSV file, read at once."""
    if text in ("names", "folders"):
        return LabelSource(text)
    try:
        content = Path(text).read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise argparse.ArgumentTypeError(
            f"cannot read {text} ({reason}); expected names, folders or a name,label CSV"
        ) from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{text} is not UTF-8 text; expected a CSV") from None
    try:
        return LabelSource("csv", labels_from_csv(content))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text}: {error}") from None


def add_classify(commands: Any) -> None:
    """Add ``classify`` to the subcommands ``commands``."""
    parser = add_command(
        commands,
        "classify",
        run,
        FORMATS,
        help="classify images by their nearest neighbours",
        description="Label images (from their names, folders or a CSV), measure "
        "k-nearest-neighbour accuracy by leaving one out, predict the unlabelled "
        f"ones and group near-duplicates. {FOLDERS_HELP}",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    parser.add_argument(
        "--labels",
        default="names",
        type=label_source,
        metavar="names|folders|FILE.csv",
        help="where labels come from: the leading word of each file name (dog-1.png "
        "is a dog), the folder holding each file, or a name,label CSV",
    )
    parser.add_argument("--k", type=positive_int, default=1, help="neighbours that vote")
    parser.add_argument(
        "--metric", choices=METRICS, default="ssim", help="closeness (lower MSE is closer)"
    )
    parser.add_argument(
        "--threshold",
        type=parse_ssim,
        default=DEFAULT_THRESHOLD,
        help="SSIM from which images are near-duplicates",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Compare, then classify; 1 when fewer than two images could be read."""
    files = expand_paths(args.paths, sys.stderr)
    source = args.labels
    with terminal_progress() as bar:
        result = compare(files, settings, progress=bar, limits=args.limits)
    if not enough_images(result, len(files), args.paths):
        return 1
    given = source.given
    unmatched = sorted(set(given or {}) - set(result.names) - {e.name for e in result.errors})
    if unmatched:
        print(
            f"imgsim: --labels: no image is named {', '.join(unmatched)}; those labels are unused",
            file=sys.stderr,
        )
    if source.kind == "folders":
        by_name = dict(zip(unique_names([path.name for path in files]), files, strict=True))
        labels = [label_from_folder(str(by_name[name])) for name in result.names]
    else:
        labels = default_labels(result.names, given)
    classification = classify(result, labels, args.k, args.metric, args.threshold)
    for note in classification.notes:
        print(f"imgsim: note: {note}", file=sys.stderr)
    record = provenance_for(args, files)
    write_output(args, FORMATS[args.format](classification, source.kind, record))
    return 0
