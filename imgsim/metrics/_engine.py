"""All-pairs similarity engine: MSE, PSNR and SSIM of every pair of images.

Equal to ``skimage.metrics`` (SSIM within 1e-6, MSE exactly) and near the
machine's floor:

- Images are processed in blocks of rows (and, for wide images or many of
  them, of columns) that carry the window's halo, on a thread pool, so memory
  grows with the block's size × images, never with image area; the same code
  serves 7 × 7 and 10000 × 10000.
- In each block, every image's local statistics are computed once, within a
  budget that keeps them in cache; then each pair costs one fused pass
  (`imgsim.metrics._windows`): the window sums of x·y, the SSIM formula and its mean,
  without arrays of pair size.
- Pairs are scored in tiles of images, so that the statistics a tile needs
  stay in the core's own cache while its pairs are scored.
- MSE comes from Σx² per image and Σx·y per pair, exact in integers.

`score_all_pairs` scores every pair of one list, `score_block_pairs` every
pair across two lists; both run the same blocks and kernels. For MS-SSIM
(`imgsim.metrics._msssim`) each image's pyramid is made once, and each scale runs the
same blocks and Gaussian kernel: contrast-structure at the four finer scales,
SSIM at the coarsest; MSE and PSNR stay at full resolution.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from imgsim.metrics._checks import check_images
from imgsim.metrics._mse import psnr_from_mse
from imgsim.metrics._msssim import WEIGHTS, combine, pyramid
from imgsim.metrics._pool import worker_count
from imgsim.metrics._windows import BORDER, WINDOWS, StripStats, Window, Workspace
from imgsim.settings import (
    SSIM_CONVENTIONS,
    SSIM_WINDOW,
    SsimConvention,
    check_side,
    scale_sizes,
)

# Statistics of every image over one block (one channel at a time) are kept
# within this budget, which sets the block's size: they stay in the shared L3
# cache while the block's pairs read them. Pairs are scored in tiles whose
# images' statistics fit in one core's L2 cache. Blocks are at least this
# many rows and columns (halos of 6 or 10 rows and columns are redone).
STATS_BUDGET_BYTES = 8 * 2**20
TILE_BUDGET_BYTES = 512 * 2**10
MIN_STRIP_ROWS = 16
MIN_BLOCK_COLUMNS = 256
# Each block costs about 0.1 ms of Python (copies, kernel calls) besides its
# work: output positions × (pairs + images) of at least this keep that small
# (a single pair of large images would otherwise be thousands of tiny blocks).
MIN_BLOCK_WORK = 2**20


@dataclass(frozen=True, eq=False)
class PairScores:
    """Matrices of pair scores.

    From `score_all_pairs`: N x N and symmetric; the diagonal holds each image
    against itself (MSE 0, SSIM 1, PSNR inf). From `score_block_pairs`:
    len(first) x len(second).
    """

    mse: np.ndarray
    ssim: np.ndarray
    psnr: np.ndarray


@dataclass(frozen=True)
class _Block:
    """Output rows [start, stop) and columns [left, right) of the (padded) images,
    and the rows and columns of the images it owns for MSE."""

    start: int
    stop: int
    mse_start: int
    mse_stop: int
    left: int
    right: int
    mse_left: int
    mse_right: int


@dataclass(frozen=True, eq=False)
class _Plan:
    window: Window
    blocks: tuple[_Block, ...]
    pairs: np.ndarray  # (P, 2) int64 indices into the images, in tile order
    order: np.ndarray  # (P,) where each of `pairs` was in the pairs asked for
    mse: bool = True  # False: skip Σx², Σx·y (MS-SSIM's coarser scales)
    contrast_structure: bool = False  # sum contrast-structure instead of SSIM


@dataclass(frozen=True, eq=False)
class _BlockSums:
    ssim: np.ndarray  # (C, P): Σ local SSIM (or contrast-structure) per channel
    products: np.ndarray  # (P,) int64: Σx·y over the block's owned pixels
    squares: np.ndarray  # (N,) int64: Σx² over the block's owned pixels


def _block_sums(
    images: Sequence[np.ndarray],
    plan: _Plan,
    block: _Block,
    workspace: Workspace,
    local_map: np.ndarray | None,
) -> _BlockSums:
    window = plan.window
    pad = window.pad
    channels = images[0].shape[2] if images[0].ndim == 3 else 1
    rows = slice(block.start - pad, block.stop + pad)
    cols = slice(block.left - pad, block.right + pad)
    owned = (
        slice(block.mse_start - rows.start, block.mse_stop - rows.start),
        slice(block.mse_left - cols.start, block.mse_right - cols.start),
    )
    if not plan.mse:
        owned = (slice(0, 0), slice(0, 0))
    ssim = np.zeros((channels, len(plan.pairs)))
    products = np.zeros(len(plan.pairs), np.int64)
    squares = np.zeros(len(images), np.int64)
    shape = (len(images), rows.stop - rows.start, cols.stop - cols.start)
    # Bytes, or float32 for MS-SSIM's coarser scales (the kernels take either).
    planes = workspace.take("planes", shape, images[0].dtype.type)
    for channel in range(channels):
        for index, image in enumerate(images):
            planes[index] = image[rows, cols] if channels == 1 else image[rows, cols, channel]
        stats: StripStats = window.stats(planes, owned, workspace)
        squares += stats.square_sums
        target = None
        if local_map is not None:  # full-width blocks: a contiguous run of map rows
            target = local_map[channel, block.start - pad : block.stop - pad]
        sums, product_sums = window.pairs(
            planes, stats, plan.pairs, owned, target, plan.contrast_structure
        )
        ssim[channel] = sums
        products += product_sums
    return _BlockSums(ssim, products, squares)


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
        if len(_SPARE_WORKSPACES) < worker_count(2**16):
            _SPARE_WORKSPACES.append(workspace)


def _run(
    images: Sequence[np.ndarray],
    plan: _Plan,
    on_block: Callable[[_Block], None] | None,
    local_map: np.ndarray | None = None,
) -> _BlockSums:
    """The blocks' sums, added in block order so totals do not depend on thread timing.

    Only a few blocks are in flight at once, so that memory does not grow with
    their number. Progress is reported from the calling thread (the page's
    callbacks need it).
    """

    def task(block: _Block) -> _BlockSums:
        workspace = _borrow_workspace()
        try:
            return _block_sums(images, plan, block, workspace, local_map)
        finally:
            _return_workspace(workspace)

    channels = images[0].shape[2] if images[0].ndim == 3 else 1
    total = _BlockSums(
        np.zeros((channels, len(plan.pairs))),
        np.zeros(len(plan.pairs), np.int64),
        np.zeros(len(images), np.int64),
    )

    def add(block: _Block, sums: _BlockSums) -> None:
        total.ssim[:] += sums.ssim
        total.products[:] += sums.products
        total.squares[:] += sums.squares
        if on_block is not None:
            on_block(block)

    workers = worker_count(len(plan.blocks))
    if workers == 1:
        for block in plan.blocks:
            add(block, task(block))
        return total
    blocks = iter(plan.blocks)
    pending: deque[tuple[_Block, Future[_BlockSums]]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="imgsim") as pool:
        try:
            for block in itertools.islice(blocks, 2 * workers):
                pending.append((block, pool.submit(task, block)))
            while pending:
                block, future = pending.popleft()
                add(block, future.result())
                for following in itertools.islice(blocks, 1):
                    pending.append((following, pool.submit(task, following)))
        finally:
            for _, future in pending:
                future.cancel()
    return total


def _tile_order(pairs: np.ndarray, tile: int) -> np.ndarray:
    """The order that groups pairs by the tiles of their two images, in order within a tile."""
    tiles = pairs // tile
    return np.argsort(
        tiles[:, 0] * (int(tiles[:, 1].max(initial=0)) + 1) + tiles[:, 1], kind="stable"
    )


def _tiled(pairs: np.ndarray, tile: int) -> np.ndarray:
    """Pairs grouped by the tiles of their two images, in order within a tile."""
    return np.ascontiguousarray(pairs[_tile_order(pairs, tile)], dtype=np.int64)


def _spans(start: int, stop: int, step: int, end: int) -> list[tuple[int, int, int, int]]:
    """Output spans [a, b) of ``step`` from start to stop, and the image spans they own
    for MSE (the first from 0, the last to ``end``, so each row or column once)."""
    starts = range(start, stop, step)
    spans = []
    for index, first in enumerate(starts):
        last = min(first + step, stop)
        owned_first = 0 if index == 0 else first
        owned_last = end if index == len(starts) - 1 else last
        spans.append((first, last, owned_first, owned_last))
    return spans


def _plan(
    shape: tuple[int, ...],
    pairs: np.ndarray,
    count: int,
    convention: str,
    full_width: bool = False,
    mse: bool = True,
    contrast_structure: bool = False,
) -> _Plan:
    """Blocks within the statistics budget, and the pairs in tile order.

    Output positions are those whose window lies inside the images (pad them
    to get a map of every pixel). Blocks span the full width while
    ``MIN_STRIP_ROWS`` rows of every image's statistics fit the budget (always
    with ``full_width``, for maps); beyond, they are about square.
    """
    window = WINDOWS[convention]
    pad = window.pad
    height, width = shape[:2]
    cols = width - 2 * pad
    # Output positions per block: every image's statistics within the budget,
    # and a pair's two within a tile (so a pair never streams from memory)...
    budget = min(STATS_BUDGET_BYTES // max(count, 1), TILE_BUDGET_BYTES // 2)
    area = max(1, budget // window.stats_bytes)
    # ...unless that leaves too little work per block for its fixed cost.
    area = max(area, MIN_BLOCK_WORK // (len(pairs) + count))
    if full_width or cols * MIN_STRIP_ROWS <= area:
        block_cols = cols
    else:
        block_cols = min(cols, max(MIN_BLOCK_COLUMNS, math.isqrt(area)))
    block_rows = max(MIN_STRIP_ROWS, area // block_cols)
    blocks = tuple(
        _Block(start, stop, mse_start, mse_stop, left, right, mse_left, mse_right)
        for start, stop, mse_start, mse_stop in _spans(pad, height - pad, block_rows, height)
        for left, right, mse_left, mse_right in _spans(pad, width - pad, block_cols, width)
    )
    tile = max(1, TILE_BUDGET_BYTES // (window.stats_bytes * block_rows * block_cols))
    order = _tile_order(pairs, tile)
    tiled = np.ascontiguousarray(pairs[order], dtype=np.int64)
    return _Plan(window, blocks, tiled, order, mse, contrast_structure)


def _check_window(images: Sequence[np.ndarray], convention: str) -> None:
    if convention not in SSIM_CONVENTIONS:
        raise ValueError(
            f"convention must be one of {', '.join(SSIM_CONVENTIONS)}; got {convention!r}"
        )
    if images:
        height, width = images[0].shape[:2]
        check_side(width, height, convention, "images")


def _reporter(
    on_progress: Callable[[float], None] | None, start: float, share: float, blocks: int
) -> Callable[[_Block], None]:
    """Report ``start`` + ``share`` x the blocks done so far (blocks are reported in order)."""
    done = iter(range(1, blocks + 1))

    def on_block(block: _Block) -> None:
        finished = next(done)
        if on_progress is not None:
            on_progress(min(1.0, start + share * finished / blocks))

    return on_block


def _channel_means(
    images: Sequence[np.ndarray], plan: _Plan, on_block: Callable[[_Block], None]
) -> tuple[np.ndarray, _BlockSums]:
    """Mean local SSIM (or contrast-structure) per channel, (C, P) in the order asked for."""
    sums = _run(images, plan, on_block)
    height, width = images[0].shape[:2]
    pad = plan.window.pad
    means = np.empty_like(sums.ssim)
    means[:, plan.order] = sums.ssim / ((height - 2 * pad) * (width - 2 * pad))
    return means, sums


def _mse(images: Sequence[np.ndarray], plan: _Plan, sums: _BlockSums) -> np.ndarray:
    """MSE of the pairs in the order asked for."""
    i, j = plan.pairs[:, 0], plan.pairs[:, 1]
    mse = np.empty(len(plan.pairs))
    # Exact in int64 until this division, as scikit-image's float64 mean of squares.
    mse[plan.order] = (sums.squares[i] + sums.squares[j] - 2 * sums.products) / images[0].size
    return mse


def _scale_values(
    images: Sequence[np.ndarray],
    pairs: np.ndarray,
    on_progress: Callable[[float], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """MS-SSIM's per-scale means, (scales, C, P), and the full-resolution MSE, (P,).

    Scale k < 4 gives mean contrast-structure, the coarsest mean SSIM, per
    channel and pair (before clipping at 0). Each image's pyramid is made once;
    progress counts each scale by its area (1, 1/4, 1/16, ...).
    """
    levels = pyramid(images)
    areas = np.array([level[0].shape[0] * level[0].shape[1] for level in levels], float)
    starts = np.concatenate([[0.0], np.cumsum(areas)[:-1]]) / areas.sum()
    values = []
    mse = np.empty(0)
    for scale, level in enumerate(levels):
        finest, coarsest = scale == 0, scale == len(levels) - 1
        plan = _plan(
            level[0].shape,
            pairs,
            len(level),
            "ms-ssim",
            mse=finest,
            contrast_structure=not coarsest,
        )
        share = areas[scale] / areas.sum()
        on_block = _reporter(on_progress, starts[scale], share, len(plan.blocks))
        means, sums = _channel_means(level, plan, on_block)
        values.append(means)
        if finest:
            mse = _mse(level, plan, sums)
    return np.stack(values), mse


def _score(
    images: Sequence[np.ndarray],
    pairs: np.ndarray,
    convention: str,
    on_progress: Callable[[float], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """SSIM (or MS-SSIM) and MSE of the pairs (rows of indices into ``images``), in order."""
    if convention == "ms-ssim":
        values, mse = _scale_values(images, pairs, on_progress)
        return combine(values), mse
    plan = _plan(images[0].shape, pairs, len(images), convention)
    on_block = _reporter(on_progress, 0.0, 1.0, len(plan.blocks))
    means, sums = _channel_means(images, plan, on_block)
    # Colour SSIM is the mean over channels, as scikit-image's channel_axis.
    return means.mean(axis=0), _mse(images, plan, sums)


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
    convention : {"skimage", "gaussian", "ms-ssim"}
        ``"ms-ssim"`` puts MS-SSIM (`imgsim.metrics._msssim`) where SSIM is; it needs
        both sides at least 161.
    on_progress : callable, optional
        Called from the calling thread with the share of the work done, in (0, 1].

    Returns
    -------
    PairScores
        N x N, symmetric. Each SSIM equals ``skimage.metrics.structural_similarity``
        within 1e-6 (the bound is derived in `imgsim.metrics._windows`); MSE is exact.
        MS-SSIM is tested against a direct implementation of TF's formula
        within 1e-6.
    """
    check_images(images)
    _check_window(images, convention)
    count = len(images)
    mse = np.zeros((count, count))
    ssim = np.ones((count, count))
    if count >= 2:
        upper = np.stack(np.triu_indices(count, 1), axis=1)
        pair_ssim, pair_mse = _score(images, upper, convention, on_progress)
        i, j = upper[:, 0], upper[:, 1]
        ssim[i, j] = ssim[j, i] = pair_ssim
        mse[i, j] = mse[j, i] = pair_mse
    return PairScores(mse=mse, ssim=ssim, psnr=psnr_from_mse(mse))


def score_block_pairs(
    first: Sequence[np.ndarray],
    second: Sequence[np.ndarray],
    convention: SsimConvention,
    on_progress: Callable[[float], None] | None = None,
) -> PairScores:
    """MSE, SSIM and PSNR of every image of ``first`` against every image of ``second``.

    The cross-block form of `score_all_pairs`, for collections scored block
    by block: same parameters (``images`` split in two), checks, kernels and
    numbers.

    Returns
    -------
    PairScores
        Matrices of shape (len(first), len(second)); entry [i, j] scores
        first[i] against second[j].
    """
    images = [*first, *second]
    check_images(images)
    _check_window(images, convention)
    shape = (len(first), len(second))
    mse = np.zeros(shape)
    ssim = np.ones(shape)
    if len(first) and len(second):
        grid = np.indices(shape).reshape(2, -1).T
        grid[:, 1] += len(first)
        pair_ssim, pair_mse = _score(images, grid, convention, on_progress)
        ssim[grid[:, 0], grid[:, 1] - len(first)] = pair_ssim
        mse[grid[:, 0], grid[:, 1] - len(first)] = pair_mse
    return PairScores(mse=mse, ssim=ssim, psnr=psnr_from_mse(mse))


def ssim_map(a: np.ndarray, b: np.ndarray, convention: SsimConvention = "skimage") -> np.ndarray:
    """Local SSIM of one pair, as scikit-image's ``full=True`` map.

    Parameters
    ----------
    a, b : ndarray of uint8, same shape (H, W) or (H, W, C)
    convention : {"skimage", "gaussian", "ms-ssim"}
        MS-SSIM has no single map: ``"ms-ssim"`` gives its finest scale's
        SSIM map (the Gaussian convention's map at full resolution).

    Returns
    -------
    ndarray of float64, same shape as ``a``
        Borders are computed on reflected edges, as scikit-image does; the mean
        SSIM is the mean of the map without its outer ``window // 2`` pixels.
    """
    check_images([a, b])
    _check_window([a, b], convention)
    pad = SSIM_WINDOW[convention] // 2
    # Reflected edges give every pixel a full window, as scipy.ndimage does.
    padded = [cv2.copyMakeBorder(image, pad, pad, pad, pad, BORDER) for image in (a, b)]
    if a.ndim == 3 and padded[0].ndim == 2:  # OpenCV drops a single channel
        padded = [image[:, :, np.newaxis] for image in padded]
    plan = _plan(padded[0].shape, np.array([[0, 1]]), 2, convention, full_width=True)
    channels = a.shape[2] if a.ndim == 3 else 1
    full = np.empty((channels, *a.shape[:2]))
    _run(padded, plan, None, local_map=full)
    return full[0] if a.ndim == 2 else np.ascontiguousarray(np.moveaxis(full, 0, 2))


@dataclass(frozen=True, eq=False)
class Scales:
    """MS-SSIM of one pair, scale by scale.

    Attributes
    ----------
    sizes : tuple of (width, height)
        Each scale's size, the full size first.
    per_channel : ndarray of float64, shape (5, C)
        Mean contrast-structure at scales 1-4 and mean SSIM at scale 5, per
        channel, before clipping at 0 (C is 1 for grayscale).
    ms_ssim : float
        What `score_all_pairs` gives the pair with the ``"ms-ssim"`` convention.
    """

    sizes: tuple[tuple[int, int], ...]
    per_channel: np.ndarray
    ms_ssim: float

    @property
    def values(self) -> np.ndarray:
        """The five factors (cs, cs, cs, cs, SSIM), clipped at 0, averaged over channels."""
        return np.maximum(self.per_channel, 0.0).mean(axis=1)

    @property
    def weights(self) -> np.ndarray:
        return WEIGHTS.copy()

    @property
    def losses(self) -> np.ndarray:
        """-weight x ln(value) per scale: how much each scale lowers MS-SSIM (log units).

        Their sum is -ln MS-SSIM for grayscale; the largest names the scale that
        says the images differ most.
        """
        with np.errstate(divide="ignore"):
            return -WEIGHTS * np.log(self.values)


def ms_ssim_scales(a: np.ndarray, b: np.ndarray) -> Scales:
    """The five per-scale values of MS-SSIM for one pair (see `imgsim.metrics._msssim`).

    Parameters
    ----------
    a, b : ndarray of uint8, same shape (H, W) or (H, W, C), both sides at least 161

    Returns
    -------
    Scales
        Whose ``ms_ssim`` equals ``score_all_pairs([a, b], "ms-ssim").ssim[0, 1]``.
    """
    check_images([a, b])
    _check_window([a, b], "ms-ssim")
    values, _ = _scale_values([a, b], np.array([[0, 1]], np.int64), None)
    height, width = a.shape[:2]
    return Scales(
        sizes=tuple(scale_sizes(width, height)),
        per_channel=np.ascontiguousarray(values[:, :, 0]),
        ms_ssim=float(combine(values)[0]),
    )


def warm_up() -> None:
    """Compile the engine's kernels, or load them from the on-disk cache, now.

    The first call of a kernel in a process costs its compilation (seconds, on
    a machine's first run) or loading its machine code from Numba's cache
    (about 0.3 s). Call this when a server starts (or before timing the
    engine), so that no request pays it.
    """
    for window in set(WINDOWS.values()):
        # Bytes, and (Gaussian) MS-SSIM's float32 pyramid levels.
        dtypes = (np.uint8, np.float32) if window is WINDOWS["ms-ssim"] else (np.uint8,)
        for dtype in dtypes:
            planes = np.zeros((2, window.size, window.size), dtype)
            owned = (slice(0, window.size), slice(0, window.size))
            stats = window.stats(planes, owned, Workspace())
            pairs = np.array([[0, 1]], np.int64)
            window.pairs(planes, stats, pairs, owned)
            window.pairs(planes, stats, pairs, owned, np.empty((1, 1), np.float64))
