"""A plain MS-SSIM from the published formula, for the tests and the benchmark.

Wang, Simoncelli and Bovik 2003 with the choices of ``tf.image.ssim_multiscale``
(see `imgsim.metrics._msssim`), written directly in float64 with SciPy and sharing no
code with the engine: 11 x 11 Gaussian (sigma 1.5) 'valid' correlation,
K1 = 0.01, K2 = 0.03, odd sides padded at the end by repeating the last row or
column before 2 x 2 means, cs at four scales and SSIM at the fifth, clipped at
0, weighted product, mean over channels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import correlate2d


def reference_gaussian() -> np.ndarray:
    offsets = np.arange(11) - 5.0
    g = np.exp(-(offsets**2) / (2 * 1.5**2))
    g /= g.sum()
    return np.outer(g, g)


def reference_pool(x: np.ndarray) -> np.ndarray:
    """TF: pad an odd side by repeating its last row or column, then 2x2 means."""
    x = np.pad(x, ((0, x.shape[0] % 2), (0, x.shape[1] % 2)), mode="edge")
    return (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) / 4


def reference_scales(a: np.ndarray, b: np.ndarray) -> list[float]:
    """Mean cs at scales 1-4 and mean SSIM at scale 5, one channel."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    kernel = reference_gaussian()
    x, y = a.astype(np.float64), b.astype(np.float64)
    values = []
    for scale in range(5):
        if scale:
            x, y = reference_pool(x), reference_pool(y)

        def mean(z):
            return correlate2d(z, kernel, mode="valid")

        mx, my = mean(x), mean(y)
        vx, vy, cov = mean(x * x) - mx**2, mean(y * y) - my**2, mean(x * y) - mx * my
        cs = (2 * cov + c2) / (vx + vy + c2)
        luminance = (2 * mx * my + c1) / (mx**2 + my**2 + c1)
        values.append(float(cs.mean() if scale < 4 else (luminance * cs).mean()))
    return values


def reference_ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
    if a.ndim == 3:
        return float(np.mean([reference_ms_ssim(a[..., k], b[..., k]) for k in range(a.shape[2])]))
    weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    values = reference_scales(a, b)
    return math.prod(max(v, 0.0) ** w for v, w in zip(values, weights, strict=True))
