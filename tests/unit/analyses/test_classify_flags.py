"""Classification carries each neighbour's pair flags, without changing any vote."""

from __future__ import annotations

import numpy as np
import pytest

from imgsim import compare
from imgsim.analyses import classify, default_labels, nearest_neighbours, pair_flags, predict
from imgsim.analyses._classify import closeness
from tests.helpers.flagged import SIDE, flagged_images, smooth_copy


@pytest.fixture(scope="module")
def flagged():
    images = dict(flagged_images())
    images["query-1.png"] = smooth_copy(np.random.default_rng(9), 104)  # unlabelled, smooth
    return compare(list(images.items()), size=(SIDE, SIDE))


@pytest.mark.parametrize("metric", ["ssim", "mse", "psnr"])
def test_each_shown_neighbour_carries_its_pairs_flags(flagged, metric):
    result = classify(flagged, default_labels(flagged.names), k=2, metric=metric)
    image = flagged.image_flags
    for prediction in result.predictions:
        for neighbour in prediction.neighbours:
            assert neighbour.flags == pair_flags(image[prediction.index], image[neighbour.index])
    (query,) = result.queries
    assert query.predicted == "smooth"
    assert all(neighbour.flags == ("smooth",) for neighbour in query.neighbours[:2])


@pytest.mark.parametrize("metric", ["ssim", "mse", "psnr"])
def test_flags_never_change_a_vote_or_a_score(flagged, metric):
    labels = default_labels(flagged.names)
    close = closeness(flagged, metric)
    for index in range(len(labels)):
        bare = predict(close, labels, flagged.names, index, 2, metric)
        shown = predict(close, labels, flagged.names, index, 2, metric, flagged.flags)
        assert (shown.predicted, shown.margin) == (bare.predicted, bare.margin)
        assert [(n.name, n.score) for n in shown.neighbours] == [
            (n.name, n.score) for n in bare.neighbours
        ]
        assert all(n.flags == () for n in bare.neighbours)


def test_each_images_nearest_neighbour_carries_the_pairs_flags(flagged):
    image = flagged.image_flags
    found = nearest_neighbours(flagged)
    for index, nearest in enumerate(found):
        assert nearest.flags == pair_flags(image[index], image[nearest.index])
    assert any(nearest.flags for nearest in found) and not all(nearest.flags for nearest in found)
