"""The smooth share: SSIM's windows whose variance is below C2."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter, uniform_filter
from skimage import data

from imgsim.metrics import C2, local_variance, smooth_share
from tests.helpers.images import noise_image


def reference_variance(image: np.ndarray, convention: str) -> np.ndarray:
    """The variance scikit-image's structural_similarity (0.25) computes, cropped as it crops.

    skimage/metrics/_structural_similarity.py: ``uniform_filter`` (or
    ``gaussian_filter`` with sigma 1.5, truncate 3.5) over float64, times
    ``NP / (NP - 1)`` for the sample covariance, then ``crop(S, pad)``.
    """
    x = image.astype(np.float64)
    if convention == "skimage":
        mean, mean_sq, norm, pad = uniform_filter(x, 7), uniform_filter(x * x, 7), 49 / 48, 3
    else:
        options = {"sigma": 1.5, "truncate": 3.5}
        mean, mean_sq = gaussian_filter(x, **options), gaussian_filter(x * x, **options)
        norm, pad = 1.0, 5
    return ((mean_sq - mean * mean) * norm)[pad:-pad, pad:-pad]


@pytest.mark.parametrize("convention", ["skimage", "gaussian", "ms-ssim"])
def test_local_variance_matches_scikit_image_windows(convention):
    image = data.camera()[100:260, 50:290]
    ours = local_variance(image, convention)
    assert ours.shape[-1] == 1
    np.testing.assert_allclose(ours[..., 0], reference_variance(image, convention), atol=1e-6)


def test_colour_variance_is_per_channel():
    image = data.astronaut()[:64, :80]
    ours = local_variance(image)
    assert ours.shape == (58, 74, 3)
    for channel in range(3):
        expected = reference_variance(image[:, :, channel], "skimage")
        np.testing.assert_allclose(ours[..., channel], expected, atol=1e-6)


@pytest.mark.parametrize("value", [0, 7, 255])
def test_constant_image_is_wholly_smooth(value):
    assert smooth_share(np.full((32, 40), value, np.uint8)) == 1.0


def test_noise_is_not_smooth():
    assert smooth_share(noise_image((64, 64), seed=1)) == 0.0


@pytest.mark.parametrize("sigma, expected", [(5.0, 1.0), (11.0, 0.0)])
def test_threshold_is_c2_on_the_window_variance(sigma, expected):
    # Stripes of +-a have a window variance near a^2: sigma 5 is below
    # sqrt(C2) = 7.65 in every window, sigma 11 above it in every window.
    stripes = np.where(np.arange(64) % 2, 128 + sigma, 128 - sigma)
    image = np.tile(stripes, (64, 1)).round().astype(np.uint8)
    variance = local_variance(image)
    assert (variance < C2).all() == (expected == 1.0)
    assert smooth_share(image) == expected


def test_share_is_a_fraction_of_windows():
    image = np.zeros((32, 64), np.uint8)
    image[:, 32:] = noise_image((32, 32), seed=2)
    share = smooth_share(image)
    # The left half's windows away from the seam are flat; the noise half's are not.
    assert 0.4 < share < 0.5


def test_smaller_than_the_window_is_refused_with_the_size():
    with pytest.raises(ValueError, match="at least 11; got 10 x 20"):
        smooth_share(np.zeros((20, 10), np.uint8), "gaussian")
