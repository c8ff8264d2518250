"""Metrics against scikit-image, and their invariants.

Reference values come from ``skimage.metrics`` called on the same arrays with
the settings each convention names (scikit-image 0.26 defaults; Wang et al.
2004 for ``gaussian``). Tolerance: 1e-6 absolute on every score.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import (
    mean_squared_error,
    peak_signal_noise_ratio,
    structural_similarity,
)

import imgsim
from imgsim.metrics._engine import score_all_pairs
from tests.helpers.images import noise_image

TOLERANCE = 1e-6


def reference_ssim(a: np.ndarray, b: np.ndarray, convention: str) -> float:
    if convention == "gaussian":
        options = {
            "gaussian_weights": True,
            "sigma": 1.5,
            "use_sample_covariance": False,
        }
    else:
        options = {}
    channel_axis = 2 if a.ndim == 3 else None
    return structural_similarity(a, b, data_range=255, channel_axis=channel_axis, **options)


def photo_pair(shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth image and a noisy, shifted copy: a realistic, related pair."""
    rng = np.random.default_rng(seed)
    base = np.cumsum(np.cumsum(rng.normal(size=shape), axis=0), axis=1)
    base = (base - base.min()) / (np.ptp(base) + 1e-9) * 255
    other = np.roll(base, 2, axis=1) + rng.normal(0, 12, shape)
    return (
        np.clip(np.rint(base), 0, 255).astype(np.uint8),
        np.clip(np.rint(other), 0, 255).astype(np.uint8),
    )


SHAPES = [(11, 11), (13, 40), (64, 64), (100, 75, 3), (256, 256), (128, 96, 3)]
CASES = [("skimage", (7, 7))] + [
    (convention, shape) for convention in ("skimage", "gaussian") for shape in SHAPES
]


@pytest.mark.parametrize(("convention", "shape"), CASES, ids=str)
def test_ssim_equals_scikit_image(convention, shape):
    a, b = photo_pair(shape, seed=sum(shape))
    expected = reference_ssim(a, b, convention)
    assert imgsim.ssim(a, b, convention) == pytest.approx(expected, abs=TOLERANCE)


@pytest.mark.parametrize("shape", [(40, 30), (40, 30, 3)])
def test_mse_and_psnr_equal_scikit_image(shape):
    a, b = photo_pair(shape, seed=3)
    assert imgsim.mse(a, b) == pytest.approx(mean_squared_error(a, b), rel=1e-12)
    assert imgsim.psnr(a, b) == pytest.approx(
        peak_signal_noise_ratio(a, b, data_range=255), rel=1e-12
    )


@pytest.mark.parametrize("convention", ["skimage", "gaussian"])
@pytest.mark.parametrize("colour", [False, True])
def test_all_pairs_engine_equals_scikit_image_for_every_pair(convention, colour):
    shape = (48, 64, 3) if colour else (48, 64)
    images = [
        *photo_pair(shape, seed=10),
        noise_image(shape, 11),
        np.full(shape, 90, np.uint8),
    ]
    scores = score_all_pairs(images, convention)
    for i in range(len(images)):
        for j in range(len(images)):
            expected_ssim = 1.0 if i == j else reference_ssim(images[i], images[j], convention)
            assert scores.ssim[i, j] == pytest.approx(expected_ssim, abs=TOLERANCE)
            assert scores.mse[i, j] == pytest.approx(
                mean_squared_error(images[i], images[j]), rel=1e-12
            )


@pytest.mark.parametrize("convention", ["skimage", "gaussian"])
@pytest.mark.parametrize("shape", [(32, 32), (20, 30, 3)])
def test_ssim_of_an_image_with_itself_is_one(convention, shape):
    image = noise_image(shape, seed=4)
    assert imgsim.ssim(image, image, convention) == pytest.approx(1.0, abs=1e-12)


def test_ssim_of_a_constant_image_with_itself_is_one():
    flat = np.full((20, 20), 37, np.uint8)
    assert imgsim.ssim(flat, flat) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("convention", ["skimage", "gaussian"])
def test_ssim_is_symmetric(convention):
    a, b = photo_pair((50, 60), seed=5)
    assert imgsim.ssim(a, b, convention) == pytest.approx(imgsim.ssim(b, a, convention), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_ssim_stays_within_minus_one_and_one(seed):
    a = noise_image((32, 32), seed)
    for b in (255 - a, noise_image((32, 32), seed + 100), np.zeros_like(a)):
        assert -1.0 <= imgsim.ssim(a, b) <= 1.0


def test_ssim_of_an_inverted_image_is_negative():
    a, _ = photo_pair((64, 64), seed=6)
    assert imgsim.ssim(a, 255 - a) < 0


def test_mse_of_an_image_with_itself_is_zero_and_psnr_infinite():
    image = noise_image((10, 10, 3), seed=7)
    assert imgsim.mse(image, image) == 0.0
    assert imgsim.psnr(image, image) == math.inf


def test_mse_is_symmetric_and_bounded():
    black, white = np.zeros((5, 5), np.uint8), np.full((5, 5), 255, np.uint8)
    assert imgsim.mse(black, white) == imgsim.mse(white, black) == 255.0**2
    assert imgsim.psnr(black, white) == 0.0


def test_mse_does_not_wrap_around_in_uint8():
    assert imgsim.mse(np.array([[0]], np.uint8), np.array([[1]], np.uint8)) == 1.0


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8), "same shape"),
        (np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.float64), "uint8"),
    ],
)
def test_mismatched_inputs_are_refused_with_a_fix(a, b, message):
    with pytest.raises(ValueError, match=message):
        imgsim.ssim(a, b)
    with pytest.raises(ValueError, match=message):
        imgsim.mse(a, b)


@pytest.mark.parametrize(("convention", "side"), [("skimage", 6), ("gaussian", 10)])
def test_images_smaller_than_the_window_are_a_clear_error(convention, side):
    tiny = np.zeros((side, side), np.uint8)
    with pytest.raises(ValueError, match=r"smaller than the .* SSIM window"):
        imgsim.ssim(tiny, tiny, convention)
