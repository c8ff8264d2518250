"""All-pairs similarity engine: MSE, PSNR and SSIM of every pair of images.

Equal to ``skimage.metrics`` (SSIM within 1e-6, MSE exactly) and fast:

- Rows are processed in strips that carry the window's halo, on a thread pool,
  so memory grows with width × strip height × images, never with image area;
  the same code serves 7 × 7 and 10000 × 10000.
- In each strip, every image's local statistics are computed once
  (`imgsim.windows`); per pair only the products x·y are filtered. Pairs are
  taken in batches (image i against images j > i) so one NumPy or OpenCV call
  serves many pairs.
- MSE comes from Σx² per image and Σx·y per pair (the products the SSIM cross
  term needs anyway), exact in integers.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from imgsim.settings import SSIM_CONVENTIONS, SSIM_WINDOW, SsimConvention
from imgsim.windows import BORDER, DATA_RANGE, WINDOWS, StripStats, Window, Workspace

# Working memory of one strip task (two run at once on two cores): the images'
# statistics set the strip height; a batch of pairs is kept small enough to stay
# in cache (measured fastest around 4 MB on a 2-core EPYC with 1 MB L2 per core).
STATS_BUDGET_BYTES = 24 * 2**20
BATCH_BUDGET_BYTES = 4 * 2**20
MIN_STRIP_ROWS = 16


@dataclass(frozen=True, eq=False)
class PairScores:
    """N x N matrices of every pair's scores (symmetric).

    The diagonal holds each image against itself: MSE 0, SSIM 1, PSNR inf.
    """

    mse: np.ndarray
    ssim: np.ndarray
    psnr: np.ndarray


@dataclass(frozen=True)
class _Strip:
    """Output rows [start, stop) of the (padded) images, and the rows it owns for MSE."""

    start: int
    stop: int
    mse_start: int
    mse_stop: int


@dataclass(frozen=True)
class _Plan:
    window: Window
    strips: tuple[_Strip, ...]
    cols: slice  # output columns
    batch: int  # pairs per call
    keep_map: bool


@dataclass(frozen=True, eq=False)
class _StripSums:
    ssim: np.ndarray  # (N, N): Σ local SSIM over the strip's windows and channels, i < j
    products: np.ndarray  # (N, N): Σx·y over the strip's MSE rows, i < j
    squares: np.ndarray  # (N,): Σx² over the strip's MSE rows
    local_map: np.ndarray | None  # (rows, cols, channels) of pair (0, 1), when asked for


class _Scratch:
    """A batch of pairs' arrays, taken from the worker's workspace."""

    def __init__(
        self, window: Window, workspace: Workspace, batch: int, rows_in: int, width: int, shape
    ) -> None:
        def take(name: str, size: tuple[int, ...], dtype: type) -> np.ndarray:
            return workspace.take(name, (batch, *size), dtype)

        self.products = take("products", (rows_in, width), window.value_dtype)
        self.filtered = take("pair_filtered", (rows_in, width), window.filter_dtype)
        self.mean_product = take("mean_product", shape, window.mean_dtype)
        self.covariance = take("covariance", shape, window.mean_dtype)
        self.numerator = take("numerator", shape, window.formula_dtype)
        self.factor = take("factor", shape, window.formula_dtype)
        self.denominator = take("denominator", shape, window.formula_dtype)


def _plane_views(image: np.ndarray, start: int, stop: int) -> list[np.ndarray]:
    if image.ndim == 2:
        return [image[start:stop]]
    return [image[start:stop, :, c] for c in range(image.shape[2])]


def _batch(
    window: Window,
    stats: StripStats,
    i: int,
    others: slice,
    rows: slice,
    cols: slice,
    mse_rows: slice,
    scratch: _Scratch,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image i against images ``others``: quarter SSIM maps, their sums, Σx·y.

    (2a + c1)(2b + c2) / (d·e) is computed as 4·(a + c1/2)(b + c2/2) / (d·e):
    two fewer passes; the factor 4 is applied to the sums (exactly).
    """
    count = others.stop - others.start
    width = stats.values.shape[2]
    products = scratch.products[:count]
    np.multiply(stats.values[i], stats.values[others], out=products)
    filtered = window.filter(
        products.reshape(-1, width), out=scratch.filtered[:count].reshape(-1, width)
    ).reshape(products.shape)
    mean_product, covariance = scratch.mean_product[:count], scratch.covariance[:count]
    np.multiply(stats.mean[i], stats.mean[others], out=mean_product)
    window.covariance(filtered[:, rows, cols], mean_product, out=covariance)
    quarter, factor, denominator = (
        scratch.numerator[:count],
        scratch.factor[:count],
        scratch.denominator[:count],
    )
    formula = window.formula_dtype
    np.add(mean_product, window.c1 / 2, out=quarter, dtype=formula, casting="unsafe")
    np.add(covariance, window.c2 / 2, out=factor, dtype=formula, casting="unsafe")
    quarter *= factor
    np.add(stats.mean_sq[i], stats.mean_sq[others], out=denominator)
    np.add(stats.var[i], stats.var[others], out=factor)
    denominator *= factor
    quarter /= denominator
    # OpenCV sums in float64, several times faster than NumPy's casting sum.
    sums = 4 * cv2.reduce(quarter.reshape(count, -1), 1, cv2.REDUCE_SUM, dtype=cv2.CV_64F)[:, 0]
    product_sums = [cv2.sumElems(products[k, mse_rows])[0] for k in range(count)]
    return quarter, sums, np.array(product_sums)


def _strip_sums(
    images: Sequence[np.ndarray], plan: _Plan, strip: _Strip, workspace: Workspace
) -> _StripSums:
    window = plan.window
    count = len(images)
    width = images[0].shape[1]
    first, last = strip.start - window.pad, strip.stop + window.pad
    rows = slice(window.pad, window.pad + strip.stop - strip.start)
    mse_rows = slice(strip.mse_start - first, strip.mse_stop - first)
    shape = (rows.stop - rows.start, len(range(*plan.cols.indices(width))))
    planes = [_plane_views(image, first, last) for image in images]
    channels = len(planes[0])
    ssim = np.zeros((count, count))
    products = np.zeros((count, count))
    squares = np.zeros(count)
    local_map = np.empty((*shape, channels)) if plan.keep_map else None
    scratch = _Scratch(window, workspace, plan.batch, last - first, width, shape)
    for channel in range(channels):
        stats = window.stats(
            [image[channel] for image in planes], rows, plan.cols, mse_rows, workspace
        )
        squares += stats.square_sums
        for i in range(count - 1):
            for start in range(i + 1, count, plan.batch):
                others = slice(start, min(start + plan.batch, count))
                quarter, sums, product_sums = _batch(
                    window, stats, i, others, rows, plan.cols, mse_rows, scratch
                )
                ssim[i, others] += sums
                products[i, others] += product_sums
                if local_map is not None:
                    np.multiply(quarter[0], 4, out=local_map[:, :, channel])
    return _StripSums(ssim, products, squares, local_map)


# Workspaces outlive a call, so the next one (the page's next rerun) finds its
# memory already mapped; a few are kept, and none larger than this.
_SPARE_WORKSPACES: list[Workspace] = []
_SPARE_LOCK = threading.Lock()
MAX_SPARE_WORKSPACE_BYTES = 64 * 2**20


def _borrow_workspace() -> Workspace:
    with _SPARE_LOCK:
        return _SPARE_WORKSPACES.pop() if _SPARE_WORKSPACES else Workspace()


def _return_workspace(workspace: Workspace) -> None:
    if workspace.nbytes > MAX_SPARE_WORKSPACE_BYTES:
        return
    with _SPARE_LOCK:
        if len(_SPARE_WORKSPACES) < _workers(2**16):
            _SPARE_WORKSPACES.append(workspace)


def _workers(tasks: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, tasks))


def _run(
    images: Sequence[np.ndarray], plan: _Plan, on_strip: Callable[[_Strip], None] | None
) -> list[_StripSums]:
    """Every strip's sums, in strip order, so totals do not depend on thread timing.

    Progress is reported from the calling thread (the page's callbacks need it).
    """

    def task(strip: _Strip) -> _StripSums:
        workspace = _borrow_workspace()
        try:
            return _strip_sums(images, plan, strip, workspace)
        finally:
            _return_workspace(workspace)

    workers = _workers(len(plan.strips))
    results = []
    if workers == 1:
        outcomes = map(task, plan.strips)
        pool = None
    else:
        pool = ThreadPoolExecutor(workers, thread_name_prefix="imgsim")
        outcomes = pool.map(task, plan.strips)
    try:
        for strip, result in zip(plan.strips, outcomes, strict=True):
            results.append(result)
            if on_strip is not None:
                on_strip(strip)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return results


def _plan(shape: tuple[int, ...], count: int, convention: str, keep_map: bool) -> _Plan:
    """Strips and batch size within the memory budget.

    Output rows are those whose window lies inside the images; columns too,
    unless a full-width map is kept (images padded with reflected rows above
    and below then give every row of the map).
    """
    window = WINDOWS[convention]()
    pad = window.pad
    height, width = shape[:2]
    planes = shape[2] if len(shape) == 3 else 1
    per_row = width * planes * count * window.stats_bytes
    rows_per_strip = max(MIN_STRIP_ROWS, STATS_BUDGET_BYTES // per_row)
    rows_in = rows_per_strip + 2 * pad
    batch = max(1, min(count - 1, BATCH_BUDGET_BYTES // (rows_in * width * window.pair_bytes)))
    starts = range(pad, height - pad, rows_per_strip)
    strips = []
    for index, start in enumerate(starts):
        stop = min(start + rows_per_strip, height - pad)
        mse_start = 0 if index == 0 else start
        mse_stop = height if index == len(starts) - 1 else stop
        strips.append(_Strip(start, stop, mse_start, mse_stop))
    cols = slice(0, width) if keep_map else slice(pad, width - pad)
    return _Plan(window, tuple(strips), cols, batch, keep_map)


def check_images(images: Sequence[np.ndarray]) -> None:
    """Raise unless the images are ``uint8`` arrays of one (H, W) or (H, W, C) shape."""
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise ValueError(
            f"images must all have the same shape; got {sorted(shapes)}. "
            "Prepare them with the same Settings first."
        )
    if any(image.dtype != np.uint8 for image in images):
        raise ValueError(
            "images must be uint8; decode them with imgsim.decode or imgsim.from_array first"
        )
    if images and images[0].ndim not in (2, 3):
        raise ValueError(f"images must be (H, W) or (H, W, C); got shape {images[0].shape}")


def _check_window(images: Sequence[np.ndarray], convention: str) -> None:
    if convention not in SSIM_CONVENTIONS:
        raise ValueError(
            f"convention must be one of {', '.join(SSIM_CONVENTIONS)}; got {convention!r}"
        )
    window = SSIM_WINDOW[convention]
    if images and min(images[0].shape[:2]) < window:
        height, width = images[0].shape[:2]
        raise ValueError(
            f"images of {width}x{height} pixels are smaller than the {window}x{window} "
            f"SSIM window; resize them to at least {window}x{window}"
        )


def score_all_pairs(
    images: Sequence[np.ndarray],
    convention: SsimConvention,
    on_progress: Callable[[float], None] | None = None,
) -> PairScores:
    """MSE, SSIM and PSNR of every pair of equally shaped ``uint8`` images.

    Parameters
    ----------
    images : sequence of ndarray of uint8, all of one shape (H, W) or (H, W, C)
        Colour SSIM is the mean over channels, as scikit-image's ``channel_axis``.
    convention : {"skimage", "gaussian"}
    on_progress : callable, optional
        Called from the calling thread with the share of the work done, in (0, 1].

    Returns
    -------
    PairScores
        Each SSIM equals ``skimage.metrics.structural_similarity`` within 1e-6;
        MSE is exact.
    """
    check_images(images)
    _check_window(images, convention)
    count = len(images)
    mse = np.zeros((count, count))
    ssim = np.ones((count, count))
    if count >= 2:
        plan = _plan(images[0].shape, count, convention, keep_map=False)
        first, last = plan.strips[0].start, plan.strips[-1].stop

        def on_strip(strip: _Strip) -> None:
            if on_progress is not None:
                on_progress((strip.stop - first) / (last - first))

        results = _run(images, plan, on_strip)
        ssim_sums = np.sum([result.ssim for result in results], axis=0)
        product_sums = np.sum([result.products for result in results], axis=0)
        squares = np.sum([result.squares for result in results], axis=0)
        height, width = images[0].shape[:2]
        pad = plan.window.pad
        windows = (height - 2 * pad) * (width - 2 * pad) * (images[0].size // (height * width))
        upper = np.triu_indices(count, 1)
        mse[upper] = squares[upper[0]] + squares[upper[1]] - 2 * product_sums[upper]
        mse[upper] /= images[0].size
        ssim[upper] = ssim_sums[upper] / windows
        mse = np.maximum(mse, mse.T)
        ssim = np.where(np.tri(count, dtype=bool, k=-1), ssim.T, ssim)
    psnr = np.vectorize(psnr_from_mse, otypes=[float])(mse)
    return PairScores(mse=mse, ssim=ssim, psnr=psnr)


def score_block_pairs(
    first: Sequence[np.ndarray],
    second: Sequence[np.ndarray],
    convention: SsimConvention,
    on_progress: Callable[[float], None] | None = None,
) -> PairScores:
    """MSE, SSIM and PSNR of every image of ``first`` against every image of ``second``.

    Parameters
    ----------
    first, second : sequence of ndarray of uint8, all of one shape (H, W) or (H, W, C)
    convention : {"skimage", "gaussian"}
    on_progress : callable, optional
        Called from the calling thread with the share of the work done, in (0, 1].

    Returns
    -------
    PairScores
        Arrays of shape ``(len(first), len(second))``, the same numbers as
        `score_all_pairs` gives for those pairs.
    """
    # A thin adapter over the all-pairs engine (it also scores the pairs within
    # each block, which are dropped); the fast cross-block engine replaces it.
    scores = score_all_pairs([*first, *second], convention, on_progress)
    count = len(first)
    return PairScores(
        mse=scores.mse[:count, count:].copy(),
        ssim=scores.ssim[:count, count:].copy(),
        psnr=scores.psnr[:count, count:].copy(),
    )


def ssim_map(a: np.ndarray, b: np.ndarray, convention: SsimConvention = "skimage") -> np.ndarray:
    """Local SSIM of one pair, as scikit-image's ``full=True`` map.

    Parameters
    ----------
    a, b : ndarray of uint8, same shape (H, W) or (H, W, C)
    convention : {"skimage", "gaussian"}

    Returns
    -------
    ndarray of float64, same shape as ``a``
        Borders are computed on reflected edges, as scikit-image does; the mean
        SSIM is the mean of the map without its outer ``window // 2`` pixels.
    """
    check_images([a, b])
    _check_window([a, b], convention)
    pad = SSIM_WINDOW[convention] // 2
    # Reflected rows above and below give every output row its halo.
    padded = [cv2.copyMakeBorder(image, pad, pad, 0, 0, BORDER) for image in (a, b)]
    plan = _plan(padded[0].shape, 2, convention, keep_map=True)
    results = _run(padded, plan, None)
    full = np.concatenate([result.local_map for result in results], axis=0)
    return full[:, :, 0] if a.ndim == 2 else full


def psnr_from_mse(mse_value: float) -> float:
    """Peak signal-to-noise ratio in dB for data range 255; infinite for MSE 0."""
    if mse_value == 0:
        return math.inf
    return 10.0 * math.log10(DATA_RANGE**2 / mse_value)
