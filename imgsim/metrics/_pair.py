"""Similarity of one pair of prepared images: MSE, PSNR and SSIM.

Pure functions on ``uint8`` arrays of equal shape, ``(H, W)`` for gray or
``(H, W, C)`` for colour, with data range 255. SSIM comes from the same engine
that scores all pairs (`imgsim.metrics._engine`), so one implementation serves all.
"""

from __future__ import annotations

import numpy as np

from imgsim.metrics._engine import score_all_pairs
from imgsim.settings import SsimConvention


def ssim(a: np.ndarray, b: np.ndarray, convention: SsimConvention = "skimage") -> float:
    """Mean structural similarity of two images, in [-1, 1].

    Parameters
    ----------
    a, b : ndarray of uint8, same shape (H, W) or (H, W, C)
        Colour images give the mean of the per-channel SSIM, as scikit-image's
        ``channel_axis`` does.
    convention : {"skimage", "gaussian", "ms-ssim"}
        ``"skimage"``: scikit-image's defaults (7x7 uniform window, sample
        covariance). ``"gaussian"``: Wang et al. 2004 (Gaussian window,
        sigma 1.5, population covariance). ``"ms-ssim"``: multi-scale SSIM
        as ``tf.image.ssim_multiscale`` (`imgsim.metrics._msssim`), in [0, 1], for
        sides of at least 161.
    """
    return float(score_all_pairs([a, b], convention).ssim[0, 1])
