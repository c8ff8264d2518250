"""The default pipeline reproduces the original tutorial's numbers.

The tutorial's code, verbatim in spirit: ``cv2.imread`` -> ``cv2.resize(img,
(W, H))`` -> ``cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)`` ->
``skimage.metrics.structural_similarity(a, b)``, and MSE as
``sum((a - b) ** 2) / (H * W)``.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
import skimage.data
from skimage.metrics import structural_similarity

import imgsim
from tests.helpers.images import encode


def tutorial_scores(paths, width, height):
    grays = []
    for path in paths:
        image = cv2.imread(str(path))
        image = cv2.resize(image, (width, height))
        grays.append(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    scores = {}
    for (i, a), (j, b) in itertools.combinations(enumerate(grays), 2):
        mse = np.sum((a.astype("float") - b.astype("float")) ** 2) / float(height * width)
        scores[i, j] = (structural_similarity(a, b), mse)
    return scores


@pytest.fixture(scope="module")
def photo_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    photos = {
        "cat.png": (skimage.data.chelsea(), "PNG"),
        "coffee.jpg": (skimage.data.coffee(), "JPEG"),
        "astronaut.png": (skimage.data.astronaut(), "PNG"),
        "rocket.jpg": (skimage.data.rocket(), "JPEG"),
    }
    paths = []
    for name, (pixels, format_name) in photos.items():
        path = folder / name
        path.write_bytes(encode(pixels, format_name))
        paths.append(path)
    return paths


@pytest.mark.parametrize("size", [(512, 512), (256, 256), (300, 200), (64, 97)])
def test_default_pipeline_gives_the_tutorials_numbers(photo_files, size):
    expected = tutorial_scores(photo_files, *size)
    result = imgsim.compare(photo_files, size=size)
    for (i, j), (ssim, mse) in expected.items():
        assert result.ssim[i, j] == pytest.approx(ssim, abs=1e-6)
        assert result.mse[i, j] == pytest.approx(mse, rel=1e-12)
