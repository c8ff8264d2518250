"""All-pairs similarity of prepared images."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from imgsim import metrics
from imgsim.settings import Settings, SsimConvention


@dataclass(frozen=True, eq=False)
class PairScores:
    """N x N matrices of every pair's scores (symmetric).

    The diagonal holds each image against itself: MSE 0, SSIM 1, PSNR inf.
    """

    mse: np.ndarray
    ssim: np.ndarray
    psnr: np.ndarray


def score_all_pairs(
    images: Sequence[np.ndarray],
    convention: SsimConvention,
    on_pair: Callable[[int, int], None] | None = None,
) -> PairScores:
    """MSE, SSIM and PSNR of every pair of equally shaped ``uint8`` images.

    Parameters
    ----------
    images : sequence of ndarray of uint8, all of one shape (H, W) or (H, W, C)
    convention : {"skimage", "gaussian"}
    on_pair : callable, optional
        Called with ``(i, j)`` after each pair ``i < j`` is scored.
    """
    count = len(images)
    mse = np.zeros((count, count))
    ssim = np.ones((count, count))
    for i in range(count):
        for j in range(i + 1, count):
            mse[i, j] = mse[j, i] = metrics.mse(images[i], images[j])
            ssim[i, j] = ssim[j, i] = metrics.ssim(images[i], images[j], convention)
            if on_pair is not None:
                on_pair(i, j)
    psnr = np.vectorize(metrics.psnr_from_mse, otypes=[float])(mse)
    return PairScores(mse=mse, ssim=ssim, psnr=psnr)


# Measured on the 2-core development machine (bench/): seconds per compared
# value (pixel x channel) for one pair, and for preparing one image.
SECONDS_PER_PAIR_VALUE = 1.5e-7
SECONDS_PER_PREPARED_VALUE = 2e-8


def estimate_seconds(image_count: int, settings: Settings) -> float:
    """Rough time to compare ``image_count`` images under ``settings``."""
    values = settings.width * settings.height * (1 if settings.grayscale else 3)
    pairs = image_count * (image_count - 1) / 2
    return values * (pairs * SECONDS_PER_PAIR_VALUE + image_count * SECONDS_PER_PREPARED_VALUE)
