"""Classification by similarity: labels, k-nearest neighbours, leave-one-out, clusters.

Works on a `Comparison`: its score matrices are the only input, so the numbers
are exactly those `compare` gives under the same settings.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
from scipy.cluster.hierarchy import fcluster, leaves_list, linkage
from scipy.spatial.distance import squareform

from imgsim.analyses._compare import Comparison

METRICS = ("ssim", "mse", "psnr")
DEFAULT_THRESHOLD = 0.9
TOP_MATCHES = 3

_LEADING_WORD = re.compile(r"^([^\d_\-\s.]+)")


# Leading words that mark a file as a query rather than a class.
UNLABELLED_WORDS = frozenset({"unknown", "query", "unlabelled", "unlabeled"})


def label_from_name(name: str) -> str | None:
    """The leading word of a file name, before a digit, "-", "_" or the extension.

    ``dog-1.png`` and ``Dog_03.jpg`` give ``dog``; ``001.png`` and
    ``query-2.png`` give None (unlabelled: a query).
    """
    match = _LEADING_WORD.match(PurePath(name).name)
    word = match.group(1).lower() if match else None
    return None if word in UNLABELLED_WORDS else word


def label_from_folder(path: str) -> str | None:
    """The name of the folder that holds the file; None when there is none."""
    parent = PurePath(path).parent.name
    return parent or None


def labels_from_csv(text: str) -> dict[str, str]:
    """``name,label`` rows (an optional header ``name,label`` is skipped).

    Raises
    ------
    ValueError
        For a row that does not have two columns, naming its line.
    """
    labels: dict[str, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2:
            columns = f"{len(row)} column{'' if len(row) == 1 else 's'}"
            raise ValueError(
                f"line {number} of the labels CSV has {columns}; expected two: name,label"
            )
        name, label = (cell.strip() for cell in row)
        if number == 1 and (name.lower(), label.lower()) == ("name", "label"):
            continue
        labels[name] = label
    return labels


def closeness(result: Comparison, metric: str) -> np.ndarray:
    """An N x N matrix where larger means closer: SSIM, PSNR, or minus MSE."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
    if metric == "mse":
        return -result.mse
    return result.ssim if metric == "ssim" else result.psnr


def display_score(value: float, metric: str) -> float:
    """A closeness value back in the metric's own units."""
    return -value if metric == "mse" else value


@dataclass(frozen=True)
class Neighbour:
    index: int
    name: str
    label: str | None
    score: float  # in the metric's units
    flags: tuple[str, ...] = ()  # the pair's, from `imgsim.analyses.FLAGS`: why it may mislead


@dataclass(frozen=True)
class Prediction:
    """The k-NN vote for one image, from the labelled images other than itself."""

    index: int
    name: str
    label: str | None
    predicted: str | None
    neighbours: tuple[Neighbour, ...]  # the best matches, closest first
    margin: float | None  # best score minus the best score of any other class


def predict(
    close: np.ndarray,
    labels: Sequence[str | None],
    names: Sequence[str],
    index: int,
    k: int,
    metric: str,
    flags: Callable[[int, int], tuple[str, ...]] | None = None,
) -> Prediction:
    """k-nearest-neighbour vote for image ``index`` among the other labelled images.

    The majority label of the ``k`` closest wins; a tie goes to the label whose
    tied neighbours have the higher mean score, then to the alphabetically first.
    ``flags`` (such as `Comparison.flags`) gives each shown neighbour its pair's
    flags; they never change the vote.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}")
    labelled = {j: label for j, label in enumerate(labels) if label is not None and j != index}
    candidates = list(labelled)
    # Closest first; equal scores keep input order, so results are reproducible.
    order = sorted(candidates, key=lambda j: (-close[index, j], j))
    nearest = order[:k]
    votes = Counter(labelled[j] for j in nearest)
    predicted = None
    if votes:
        top = max(votes.values())
        tied = sorted(label for label, count in votes.items() if count == top)

        def mean_score(label: str) -> float:
            return float(np.mean([close[index, j] for j in nearest if labels[j] == label]))

        predicted = max(tied, key=lambda label: (mean_score(label), -tied.index(label)))
    margin = None
    if predicted is not None:
        best = max(close[index, j] for j in candidates if labels[j] == predicted)
        others = [close[index, j] for j in candidates if labels[j] != predicted]
        if others:
            margin = float(best - max(others))  # closeness: the same for every metric
    shown = tuple(
        Neighbour(
            j,
            names[j],
            labels[j],
            display_score(float(close[index, j]), metric),
            () if flags is None else flags(index, j),
        )
        for j in order[:TOP_MATCHES]
    )
    return Prediction(index, names[index], labels[index], predicted, shown, margin)


@dataclass(frozen=True)
class LeaveOneOut:
    """Leave-one-out evaluation of k-NN on the labelled images."""

    metric: str
    accuracy: float | None
    per_class: dict[str, float]  # recall of each true label
    labels: tuple[str, ...]  # the confusion matrix's order
    confusion: np.ndarray  # rows: true label, columns: predicted label
    # Chance: always answering the most common label. (Answering the majority of
    # the *other* images would score 0 on a balanced set, a quirk of leaving one out.)
    baseline_accuracy: float | None
    evaluated: int


def leave_one_out(
    result: Comparison, labels: Sequence[str | None], k: int = 1, metric: str = "ssim"
) -> LeaveOneOut:
    """Predict each labelled image from all the other labelled ones."""
    close = closeness(result, metric)
    names = result.names
    truths = {index: label for index, label in enumerate(labels) if label is not None}
    held = list(truths)
    classes = tuple(sorted(set(truths.values())))
    position = {label: row for row, label in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    correct = 0
    for index in held:
        predicted = predict(close, labels, names, index, k, metric).predicted
        truth = truths[index]
        if predicted is not None:
            confusion[position[truth], position[predicted]] += 1
            correct += predicted == truth
    counts = Counter(truths[index] for index in held)
    per_class = {
        label: float(confusion[row, row] / confusion[row].sum())
        for label, row in position.items()
        if confusion[row].sum()
    }
    return LeaveOneOut(
        metric=metric,
        accuracy=correct / len(held) if held else None,
        per_class=per_class,
        labels=classes,
        confusion=confusion,
        baseline_accuracy=max(counts.values()) / len(held) if held else None,
        evaluated=len(held),
    )


def nearest_neighbours(result: Comparison, metric: str = "ssim") -> list[Neighbour | None]:
    """Each image's closest other image (any label) with the pair's flags, or None
    for a lone image."""
    close = closeness(result, metric)
    names = result.names
    found: list[Neighbour | None] = []
    for i in range(len(names)):
        others = [j for j in range(len(names)) if j != i]
        if not others:
            found.append(None)
            continue
        j = max(others, key=lambda j: (close[i, j], -j))
        score = display_score(float(close[i, j]), metric)
        found.append(Neighbour(j, names[j], None, score, result.flags(i, j)))
    return found


def _distances(result: Comparison) -> np.ndarray:
    """Condensed 1 - SSIM distances (SSIM rounding can leave -1e-16 on equal images)."""
    distance = np.clip(1.0 - result.ssim, 0.0, None)
    np.fill_diagonal(distance, 0.0)
    return squareform((distance + distance.T) / 2, checks=False)


def dendrogram_order(result: Comparison) -> list[int]:
    """Image indices in the leaf order of average-linkage clustering on 1 - SSIM."""
    if len(result.images) < 3:
        return list(range(len(result.images)))
    return [int(index) for index in leaves_list(linkage(_distances(result), "average"))]


def average_linkage(result: Comparison) -> np.ndarray:
    """SciPy's average-linkage matrix on 1 - SSIM (for drawing a dendrogram)."""
    return linkage(_distances(result), "average")


def clusters(result: Comparison, threshold: float = DEFAULT_THRESHOLD) -> list[list[int]]:
    """Groups in which every pair has SSIM of at least ``threshold``.

    Complete linkage cut at 1 - threshold; every image is in exactly one group
    (near-duplicates together, the rest alone). Largest groups first.
    """
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be an SSIM in [-1, 1]; got {threshold}")
    count = len(result.images)
    if count == 0:
        return []
    if count == 1:
        return [[0]]
    tree = linkage(_distances(result), "complete")
    # A hair of slack: an SSIM exactly at the threshold belongs inside.
    ids = fcluster(tree, t=1.0 - threshold + 1e-12, criterion="distance")
    groups: dict[int, list[int]] = {}
    for index, group in enumerate(ids):
        groups.setdefault(int(group), []).append(index)
    return sorted(groups.values(), key=lambda members: (-len(members), members[0]))


def default_labels(
    names: Sequence[str], given: Mapping[str, str] | None = None
) -> list[str | None]:
    """Labels from ``given`` (by name) where present, else from the file names."""
    given = given or {}
    return [(given[name] or None) if name in given else label_from_name(name) for name in names]


@dataclass(frozen=True, eq=False)
class Classification:
    """Everything the classify view and command report, for one comparison."""

    comparison: Comparison
    labels: tuple[str | None, ...]
    k: int
    metric: str
    threshold: float
    loo: dict[str, LeaveOneOut]  # by metric: the chosen one and the others, for comparison
    predictions: tuple[Prediction, ...]  # every image; labelled ones are left out of their own vote
    clusters: tuple[tuple[int, ...], ...]

    @property
    def queries(self) -> list[Prediction]:
        return [prediction for prediction in self.predictions if prediction.label is None]

    @property
    def notes(self) -> list[str]:
        """What makes these results meaningless or misleading, one sentence each.

        The one place that decides: at most one note on the labels (none, or one
        class), and the note on k only when there are classes to tell apart, so
        that no two notes contradict each other.
        """
        labelled = [label for label in self.labels if label is not None]
        classes = sorted(set(labelled))
        notes = []
        if not labelled:
            notes.append(
                "no image has a label, so there is no accuracy to measure; label images "
                "by name (dog-1.png), by folder, or with a name,label CSV"
            )
        elif len(classes) == 1:
            notes.append(
                f"every labelled image has the label {classes[0]!r}, so accuracy is 100% "
                "by construction; label at least two classes"
            )
        others = len(labelled) - 1
        # With fewer than two classes the accuracy is already explained above.
        if len(classes) >= 2 and self.k >= others:
            notes.append(
                f"k = {self.k} is not below the {others} other labelled image(s) each one is "
                "predicted from, so every vote is the majority of all the others "
                "(on balanced classes, 0% by leaving one out); use a smaller k, or label "
                "more images"
            )
        return notes


def classify(
    result: Comparison,
    labels: Sequence[str | None],
    k: int = 1,
    metric: str = "ssim",
    threshold: float = DEFAULT_THRESHOLD,
) -> Classification:
    """Leave-one-out accuracy for every metric, predictions for every image, clusters.

    Parameters
    ----------
    result : Comparison
    labels : sequence of str or None
        One per compared image, in ``result.names`` order; None is unlabelled.
    k : int
        Neighbours that vote.
    metric : {"ssim", "mse", "psnr"}
        Closeness used for predictions (lower MSE is closer).
    threshold : float
        SSIM above which images are grouped as near-duplicates.
    """
    if len(labels) != len(result.images):
        raise ValueError(f"expected one label per image ({len(result.images)}), got {len(labels)}")
    close = closeness(result, metric)
    predictions = tuple(
        predict(close, labels, result.names, index, k, metric, result.flags)
        for index in range(len(labels))
    )
    return Classification(
        comparison=result,
        labels=tuple(labels),
        k=k,
        metric=metric,
        threshold=threshold,
        loo={name: leave_one_out(result, labels, k, name) for name in METRICS},
        predictions=predictions,
        clusters=tuple(tuple(group) for group in clusters(result, threshold)),
    )
