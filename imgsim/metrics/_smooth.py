"""How much of an image is too smooth for SSIM's structure term to mean anything.

SSIM's contrast-structure factor is (2σxy + C2) / (σx² + σy² + C2). Where a
window's variance is below C2 = (0.03 · 255)² ≈ 58.5 (σ below about 7.6 grey
levels), C2 outweighs the signal: two such windows score close to 1 whatever
their content, and a window beside one scores at least C2 / (σx² + σy² + C2).
`smooth_share` counts those windows, with the window and variance of the
convention SSIM uses, so that it speaks of exactly the windows SSIM averages.
"""

from __future__ import annotations

import cv2
import numpy as np

from imgsim.metrics._checks import check_images
from imgsim.metrics._windows import BORDER, C2, GAUSSIAN_SIZE, UNIFORM_SIZE, gaussian_weights
from imgsim.settings import SSIM_WINDOW, SsimConvention


def local_variance(image: np.ndarray, convention: SsimConvention = "skimage") -> np.ndarray:
    """The variance of every window SSIM averages, as that convention computes it.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, C)
        A prepared image, each side at least the convention's window.
    convention : {"skimage", "gaussian", "ms-ssim"}
        ``"skimage"``: 7 x 7 uniform window, sample variance. ``"gaussian"``
        and ``"ms-ssim"`` (its finest scale): 11 x 11 Gaussian window,
        sigma 1.5, population variance.

    Returns
    -------
    ndarray of float64, shape (H - w + 1, W - w + 1, C)
        One value per window that lies wholly inside the image (scikit-image
        crops the same border before averaging), per channel; ``C`` is 1 for
        gray images.
    """
    check_images([image])
    side = SSIM_WINDOW[convention]
    height, width = image.shape[:2]
    if min(height, width) < side:
        raise ValueError(
            f"the {convention} convention's window is {side} x {side}, so an image needs "
            f"both sides of at least {side}; got {width} x {height}. Compare at a larger size."
        )
    planes = image.reshape(height, width, -1).astype(np.float64)
    pad = side // 2
    variances = []
    for channel in range(planes.shape[2]):
        plane = np.ascontiguousarray(planes[:, :, channel])
        if convention == "skimage":
            mean = cv2.blur(plane, (UNIFORM_SIZE, UNIFORM_SIZE), borderType=BORDER)
            mean_sq = cv2.blur(plane * plane, (UNIFORM_SIZE, UNIFORM_SIZE), borderType=BORDER)
            count = UNIFORM_SIZE * UNIFORM_SIZE
            variance = (mean_sq - mean * mean) * (count / (count - 1))
        else:
            weights = gaussian_weights(GAUSSIAN_SIZE)
            mean = cv2.sepFilter2D(plane, -1, weights, weights, borderType=BORDER)
            mean_sq = cv2.sepFilter2D(plane * plane, -1, weights, weights, borderType=BORDER)
            variance = mean_sq - mean * mean
        variances.append(variance[pad : height - pad, pad : width - pad])
    # Rounding can leave a constant window a hair below zero.
    return np.maximum(np.stack(variances, axis=-1), 0.0)


def smooth_share(image: np.ndarray, convention: SsimConvention = "skimage") -> float:
    """The share of SSIM's windows whose variance is below C2.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, C)
        A prepared image, each side at least the convention's window.
    convention : {"skimage", "gaussian", "ms-ssim"}
        Whose windows and variance to use (see `local_variance`).

    Returns
    -------
    float
        In [0, 1]: 1 for a constant image, near 0 for a textured photo. For
        colour images, the mean over channels, as SSIM averages its channels.
    """
    return float(np.mean(local_variance(image, convention) < C2))
