"""MSE and PSNR: the one implementation of each.

PSNR is a function of MSE alone (data range 255), so every PSNR imgsim reports,
of one pair or of all pairs, comes from `psnr_from_mse`.
"""

from __future__ import annotations

from typing import overload

import cv2
import numpy as np

from imgsim.metrics._checks import check_images
from imgsim.metrics._windows import DATA_RANGE


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared difference over all values (0 when identical, at most 255²).

    Parameters
    ----------
    a, b : ndarray of uint8, same shape (H, W) or (H, W, C)
    """
    check_images([a, b])
    difference = cv2.absdiff(a, b)  # |a - b| without uint8 wrap-around
    return float(np.sum(np.square(difference, dtype=np.uint32), dtype=np.uint64)) / a.size


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (data range 255); ``inf`` when identical."""
    return psnr_from_mse(mse(a, b))


# A 0-d array also gives a float, which the second overload leaves out: every
# caller passes a float or an N-d array of N >= 1 (a matrix of pair scores).
@overload
def psnr_from_mse(mse_value: float) -> float: ...
@overload
def psnr_from_mse(mse_value: np.ndarray) -> np.ndarray: ...
def psnr_from_mse(mse_value: float | np.ndarray) -> float | np.ndarray:
    """Peak signal-to-noise ratio in dB for data range 255; infinite where MSE is 0.

    Parameters
    ----------
    mse_value : float or ndarray of float64
        One MSE, or an array of them (every pair's).

    Returns
    -------
    float or ndarray of float64
        Of the same shape as ``mse_value`` (a float for a float or a 0-d array).
    """
    with np.errstate(divide="ignore"):
        value = 10.0 * np.log10(DATA_RANGE**2 / np.asarray(mse_value, dtype=np.float64))
    return float(value) if np.ndim(value) == 0 else value
