"""Metrics: MSE, PSNR, SSIM (two conventions), MS-SSIM and SSIM's three terms.

`score_all_pairs` and `score_block_pairs` are the fused engine that scores
every pair at once; `mse`, `psnr`, `ssim` and `ssim_map` score one pair with
the same code. Images are prepared ``uint8`` arrays of one shape, ``(H, W)``
or ``(H, W, C)``, data range 255.
"""

from imgsim.metrics._checks import check_images
from imgsim.metrics._engine import (
    PairScores,
    Scales,
    ms_ssim_scales,
    score_all_pairs,
    score_block_pairs,
    ssim_map,
    warm_up,
)
from imgsim.metrics._mse import mse, psnr, psnr_from_mse
from imgsim.metrics._msssim import SCALES, WEIGHTS, combine, downsample, pyramid
from imgsim.metrics._pair import ssim
from imgsim.metrics._pool import worker_count
from imgsim.metrics._smooth import local_variance, smooth_share
from imgsim.metrics._terms import (
    TERM_NAMES,
    PairTerms,
    TermMaps,
    Terms,
    all_pair_terms,
    dominant_difference,
    pair_terms,
    term_maps,
)
from imgsim.metrics._windows import C1, C2, DATA_RANGE, GAUSSIAN_SIGMA, gaussian_weights

__all__ = [
    "C1",
    "C2",
    "DATA_RANGE",
    "GAUSSIAN_SIGMA",
    "SCALES",
    "TERM_NAMES",
    "WEIGHTS",
    "PairScores",
    "PairTerms",
    "Scales",
    "TermMaps",
    "Terms",
    "all_pair_terms",
    "check_images",
    "combine",
    "dominant_difference",
    "downsample",
    "gaussian_weights",
    "local_variance",
    "ms_ssim_scales",
    "mse",
    "pair_terms",
    "psnr",
    "psnr_from_mse",
    "pyramid",
    "score_all_pairs",
    "score_block_pairs",
    "smooth_share",
    "ssim",
    "ssim_map",
    "term_maps",
    "warm_up",
    "worker_count",
]
