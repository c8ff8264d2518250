"""Multi-scale SSIM (Wang, Simoncelli and Bovik 2003), as ``tf.image.ssim_multiscale``.

The convention is TensorFlow's (``ssim_multiscale``, ``_ssim_per_channel`` and
``_ssim_helper`` in ``tensorflow/python/ops/image_ops_impl.py``, read at commit
006af3c435a2de59c81bd4282ca190fba36cb437), which pytorch-msssim follows
except for the padding of odd sizes:

- Five scales. At each, the 11 x 11 Gaussian window with sigma 1.5 (the outer
  product of the normalised 1-D kernel, TF's ``_fspecial_gauss``), 'valid'
  filtering (only windows inside the image), K1 = 0.01, K2 = 0.03 on the
  data range (255 here: TF scales images and ``max_val`` to [0, 1] alike,
  which leaves every ratio unchanged), population covariance (TF's
  ``compensation = 1.0``).
- Scale k > 0 is scale k - 1 average-pooled over 2 x 2 blocks (stride 2,
  'VALID'). **Odd sizes:** when the height or the width of scale k - 1 is odd,
  TF first pads that axis by one row (or column) at its end, bottom or right,
  in ``SYMMETRIC`` mode, i.e. a copy of the last row (or column); so a side n
  becomes ceil(n / 2). (pytorch-msssim pads instead before its blur; its
  values differ from TF's on odd sizes.)
- At the four finer scales, the mean over the windows of the contrast-
  structure factor cs = (2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2); at
  the coarsest, the mean SSIM. Each is clipped at 0 (TF's ``relu``).
- MS-SSIM = prod_k value_k ** weight_k with weights 0.0448, 0.2856, 0.3001,
  0.2363, 0.1333 (Wang et al. 2003), per channel; colour MS-SSIM is the mean
  over channels of the per-channel MS-SSIM (TF's last ``reduce_mean``).

The coarsest scale must hold a window: a side above (11 - 1) x 2^4 = 160
pixels (`imgsim.settings.MS_SSIM_MIN_SIDE` is 161: 161, 81, 41, 21, 11).

The scales' means come from the engine's fused Gaussian kernel
(`imgsim.metrics._windows`) on each scale; this module makes the pyramid and combines
the means. Pyramid levels are float32 and exact: scale k holds multiples of
4^-k below 256 (at most 16 significant bits), and the kernel multiplies them
in float64, exactly, as it does bytes in int32.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imgsim.settings import MS_SSIM_SCALES

SCALES = MS_SSIM_SCALES
# Wang, Simoncelli and Bovik 2003, Table 1 (TF's _MSSSIM_WEIGHTS); they sum to 1.0001.
WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def downsample(image: np.ndarray) -> np.ndarray:
    """One pyramid step: TF's symmetric end padding of odd sides, then 2 x 2 averages.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)

    Returns
    -------
    ndarray of float32, shape (ceil(H / 2), ceil(W / 2)[, C])
    """
    height, width = image.shape[:2]
    level = image.astype(np.float32, copy=False)
    if height % 2 or width % 2:
        extra = ((0, height % 2), (0, width % 2)) + ((0, 0),) * (level.ndim - 2)
        level = np.pad(level, extra, mode="symmetric")
    total = (level[0::2, 0::2] + level[1::2, 0::2]) + (level[0::2, 1::2] + level[1::2, 1::2])
    return np.ascontiguousarray(total * np.float32(0.25))


def pyramid(images: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Every image at each of the five scales: the images themselves, then halved four times."""
    levels = [list(images)]
    for _ in range(SCALES - 1):
        levels.append([downsample(image) for image in levels[-1]])
    return levels


def combine(values: np.ndarray) -> np.ndarray:
    """MS-SSIM from the per-scale means.

    Parameters
    ----------
    values : ndarray, shape (5, C, ...)
        Mean contrast-structure at scales 0-3 and mean SSIM at scale 4, per
        channel (and pair).

    Returns
    -------
    ndarray, shape (...)
        prod_k max(value_k, 0) ** weight_k, averaged over the channels.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] != SCALES:
        raise ValueError(
            f"values must hold the {SCALES} scales on their first axis; got shape {values.shape}"
        )
    weights = WEIGHTS.reshape((SCALES,) + (1,) * (values.ndim - 1))
    per_channel = np.prod(np.maximum(values, 0.0) ** weights, axis=0)
    return per_channel.mean(axis=0)
