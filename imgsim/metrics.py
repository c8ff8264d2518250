"""Similarity of one pair of prepared images: MSE, PSNR and SSIM.

Pure functions on ``uint8`` arrays of equal shape, ``(H, W)`` for gray or
``(H, W, C)`` for colour. Data range is 255 throughout.
"""

from __future__ import annotations

import math

import numpy as np
from skimage.metrics import structural_similarity

from imgsim.settings import SSIM_CONVENTIONS, SSIM_WINDOW, SsimConvention

DATA_RANGE = 255.0


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared difference over all values, in float64.

    Parameters
    ----------
    a, b : ndarray of uint8, same shape (H, W) or (H, W, C)

    Returns
    -------
    float
        0 for identical images; at most 255**2.
    """
    _check_pair(a, b)
    difference = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(difference * difference))


def psnr_from_mse(mse_value: float) -> float:
    """Peak signal-to-noise ratio in dB for data range 255; infinite for MSE 0."""
    if mse_value == 0:
        return math.inf
    return 10.0 * math.log10(DATA_RANGE**2 / mse_value)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (data range 255); ``inf`` when identical."""
    return psnr_from_mse(mse(a, b))


def ssim(a: np.ndarray, b: np.ndarray, convention: SsimConvention = "skimage") -> float:
    """Mean structural similarity of two images, in [-1, 1].

    Parameters
    ----------
    a, b : ndarray of uint8, same shape (H, W) or (H, W, C)
        Colour images give the mean of the per-channel SSIM, as scikit-image's
        ``channel_axis`` does.
    convention : {"skimage", "gaussian"}
        ``"skimage"``: scikit-image's defaults (7x7 uniform window, sample
        covariance). ``"gaussian"``: Wang et al. 2004 (Gaussian window,
        sigma 1.5, population covariance).

    Returns
    -------
    float
    """
    _check_pair(a, b)
    if convention not in SSIM_CONVENTIONS:
        raise ValueError(
            f"convention must be one of {', '.join(SSIM_CONVENTIONS)}; got {convention!r}"
        )
    window = SSIM_WINDOW[convention]
    if min(a.shape[:2]) < window:
        raise ValueError(
            f"images of {a.shape[1]}x{a.shape[0]} pixels are smaller than the "
            f"{window}x{window} SSIM window; resize them to at least {window}x{window}"
        )
    gaussian = convention == "gaussian"
    return float(
        structural_similarity(
            a,
            b,
            data_range=DATA_RANGE,
            channel_axis=-1 if a.ndim == 3 else None,
            gaussian_weights=gaussian,
            sigma=1.5,
            use_sample_covariance=not gaussian,
        )
    )


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"images must have the same shape; got {a.shape} and {b.shape}. "
            "Prepare both with the same Settings first."
        )
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8; got {a.dtype} and {b.dtype}. "
            "Decode them with imgsim.decode or imgsim.from_array first."
        )
