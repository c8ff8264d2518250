"""Classification by similarity: labels, k-NN, leave-one-out, clustering."""

from __future__ import annotations

import numpy as np
import pytest

import imgsim
from imgsim.analyses._classify import (
    classify,
    clusters,
    default_labels,
    dendrogram_order,
    label_from_folder,
    label_from_name,
    labels_from_csv,
    leave_one_out,
    nearest_neighbours,
    predict,
)
from imgsim.analyses._compare import Comparison
from imgsim.images._sources import ImageInfo
from tests.helpers.images import noise_image
from tests.helpers.shapes import shape


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("dog-1.png", "dog"),
        ("cat_03.jpg", "cat"),
        ("Dog2.PNG", "dog"),
        ("gate.png", "gate"),
        ("park gate 1.png", "park"),
        ("001.png", None),
        ("_x.png", None),
        ("query-4.png", None),
        ("unknown_7.jpg", None),
    ],
)
def test_labels_come_from_the_leading_word_of_the_name(name, label):
    assert label_from_name(name) == label


def test_labels_can_come_from_folders():
    assert label_from_folder("photos/cats/tom.png") == "cats"
    assert label_from_folder("tom.png") is None


def test_labels_load_from_csv_with_or_without_a_header():
    assert labels_from_csv("name,label\na.png,dog\nb.png, cat \n\n") == {
        "a.png": "dog",
        "b.png": "cat",
    }
    assert labels_from_csv("a.png,dog\n") == {"a.png": "dog"}
    assert default_labels(["a.png", "cat-1.png", "c.png"], {"a.png": "dog", "c.png": ""}) == [
        "dog",
        "cat",
        None,
    ]


def test_a_bad_csv_row_is_named_by_its_line():
    with pytest.raises(ValueError, match="line 2 of the labels CSV has 3 columns"):
        labels_from_csv("a.png,dog\nb.png,cat,extra\n")


@pytest.fixture(scope="module")
def shapes():
    inputs = [
        (f"{kind}-{number}.png", shape(kind, seed=100 * index + number))
        for index, kind in enumerate(("circle", "square", "triangle"))
        for number in range(5)
    ]
    return imgsim.compare(inputs, size=(64, 64))


@pytest.mark.parametrize("k", [1, 3])
def test_ssim_classifies_shapes_perfectly_with_a_diagonal_confusion_matrix(shapes, k):
    loo = leave_one_out(shapes, default_labels(shapes.names), k=k, metric="ssim")
    assert loo.accuracy == 1.0
    assert loo.labels == ("circle", "square", "triangle")
    np.testing.assert_array_equal(loo.confusion, np.diag([5, 5, 5]))
    assert loo.per_class == {"circle": 1.0, "square": 1.0, "triangle": 1.0}
    assert loo.baseline_accuracy == pytest.approx(1 / 3)


def comparison(ssim, mse=None, names=None) -> Comparison:
    ssim = np.asarray(ssim, dtype=float)
    count = len(ssim)
    mse = np.zeros_like(ssim) if mse is None else np.asarray(mse, dtype=float)
    names = names or [f"image-{index}.png" for index in range(count)]
    infos = tuple(ImageInfo(name, 10, 10) for name in names)
    return Comparison(imgsim.Settings(), infos, (), mse, ssim, np.full_like(ssim, 20.0), ())


def test_a_tie_goes_to_the_label_with_the_higher_mean_score():
    # Query 0; neighbours 1 (dog, 0.9), 2 (cat, 0.8), 3 (cat, 0.5), 4 (dog, 0.3).
    scores = np.eye(5)
    scores[0, 1:] = scores[1:, 0] = [0.9, 0.8, 0.5, 0.3]
    labels = [None, "dog", "cat", "cat", "dog"]
    result = comparison(scores)
    two = predict(result.ssim, labels, result.names, 0, k=2, metric="ssim")
    assert two.predicted == "dog"  # 1-1 vote: dog's 0.9 beats cat's 0.8
    four = predict(result.ssim, labels, result.names, 0, k=4, metric="ssim")
    assert four.predicted == "cat"  # 2-2 vote: cat's mean 0.65 beats dog's 0.6


def test_an_exact_tie_goes_to_the_alphabetically_first_label():
    equal = np.eye(3)
    equal[0, 1:] = equal[1:, 0] = 0.7
    tied = comparison(equal)
    assert predict(tied.ssim, [None, "zebra", "ant"], tied.names, 0, 2, "ssim").predicted == "ant"


def test_lower_mse_is_closer():
    mse = np.zeros((3, 3))
    mse[0, 1] = mse[1, 0] = 500.0
    mse[0, 2] = mse[2, 0] = 20.0
    ssim = np.eye(3)
    ssim[0, 1] = ssim[1, 0] = 0.9  # SSIM prefers image 1, MSE prefers image 2
    result = comparison(ssim, mse)
    labels = [None, "far", "near"]
    by_mse = predict(-result.mse, labels, result.names, 0, 1, "mse")
    assert by_mse.predicted == "near"
    assert by_mse.neighbours[0].score == 20.0  # reported in MSE units
    assert predict(result.ssim, labels, result.names, 0, 1, "ssim").predicted == "far"
    assert nearest_neighbours(result, "mse")[0].name == "image-2.png"


def test_margin_is_the_lead_over_the_best_other_class():
    scores = np.eye(4)
    scores[0, 1:] = scores[1:, 0] = [0.9, 0.85, 0.3]
    result = comparison(scores)
    query = predict(result.ssim, [None, "dog", "dog", "cat"], result.names, 0, 1, "ssim")
    assert query.margin == pytest.approx(0.6)
    assert [n.name for n in query.neighbours] == ["image-1.png", "image-2.png", "image-3.png"]


def test_clustering_groups_exact_duplicates_and_splits_unrelated_images():
    a, b, c = (noise_image((48, 48), seed) for seed in range(3))
    result = imgsim.compare([("a", a), ("b", b), ("a copy", a.copy()), ("c", c)], size=(48, 48))
    assert clusters(result, 0.99) == [[0, 2], [1], [3]]
    order = dendrogram_order(result)
    assert abs(order.index(0) - order.index(2)) == 1  # duplicates sit together


def test_classify_predicts_queries_and_reports_every_metric(shapes):
    labels = default_labels(shapes.names)
    labels[0] = None  # circle-0 becomes a query
    result = classify(shapes, labels, k=1, metric="ssim", threshold=0.9)
    assert [query.name for query in result.queries] == ["circle-0.png"]
    assert result.queries[0].predicted == "circle"
    assert result.queries[0].margin > 0
    assert set(result.loo) == {"ssim", "mse", "psnr"}
    assert result.loo["ssim"].evaluated == 14


@pytest.mark.parametrize(
    ("labels", "k", "expected"),
    [
        ([None, None], 1, ["no image has a label"]),
        (["cat", "cat"], 1, ["accuracy is 100% by construction"]),
        (["cat", "cat", "cat"], 2, ["accuracy is 100% by construction"]),
        (["cat", "dog"], 1, ["every vote is the majority of all the others"]),
        (["cat", "dog", "cat", "dog"], 1, []),
    ],
)
def test_classification_notes_never_contradict_each_other(labels, k, expected):
    """One note on why there is no accuracy; the note on k only with classes to tell apart."""
    result = classify(comparison(np.eye(len(labels))), labels, k=k, metric="ssim")
    assert len(result.notes) == len(expected)
    for note, phrase in zip(result.notes, expected, strict=True):
        assert phrase in note
