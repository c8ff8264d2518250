"""Local statistics and the fused per-pair SSIM pass, one of each per convention.

SSIM of a window is (2·μxμy + C1)(2·σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)).
The engine hands these kernels a strip of rows of every image, stacked as
``planes`` (N, rows_in, W) of uint8, and asks for the "valid" windows only:
output row r covers plane rows r .. r + size - 1, output column c covers
columns c .. c + size - 1 (a map of every pixel is had by padding the images).

- ``stats`` computes, once per image, μ (or the window sum), μ² + C1/2 and
  σ² + C2/2 at every output position, and Σx² over the rows the strip owns
  for MSE.
- ``pairs`` is one fused pass per pair: for each output row it updates the
  column sums of x·y, takes the horizontal window sums and applies the
  formula to the per-image statistics, accumulating the mean in float64, so
  nothing of pair size goes through memory. It also gives Σx·y for MSE.

For MS-SSIM (`imgsim.metrics._msssim`) the Gaussian kernels also take float32 planes
(the pyramid's coarser scales, whose values are exact multiples of 4⁻ᵏ and whose
products are formed exactly in float64), and ``pairs`` can sum the contrast-
structure factor 2b/e instead of SSIM (a = 1/2 and d = 1 in the formula below);
that ratio carries at most the 13u below.

Both are Numba kernels compiled once to machine code and cached on disk
(`imgsim.metrics.warm_up` compiles or loads them; see README "Speed"). They
release the GIL, so the engine runs blocks on several threads.

The formula is (2a)(2b) / (d·e) = 4·(a)(b) / (d·e) with a = μxμy + C1/2,
b = σxy + C2/2, d = (μx² + C1/2) + (μy² + C1/2), e = (σx² + C2/2) + (σy² + C2/2):
the factor 4 is applied to the sums.

Error bounds (u = 2⁻²⁴ ≈ 6.0e-8, float32's unit roundoff):

- Uniform window (scikit-image's default): window sums of x, x² and x·y are
  integers (Σx ≤ 49·255, Σx² and Σxy ≤ 49·255² < 2²²), kept exactly in int32
  through the rolling updates; so are 49·Σx² − (Σx)² and 49·Σxy − Σx·Σy
  (< 2²⁸), where the variances and the covariance cancel. Only after every
  cancellation is the ratio formed in float32. Then a and each of d's and e's
  terms carry at most 2u relative error (a conversion and a sum), d and e 3u,
  a·b one more u, d·e 7u, the quotient one more u; b's error is at most
  u(|σxy| + C2/2) + u|b|, and e ≥ 2|σxy| + C2 (Cauchy-Schwarz), so it adds at
  most 2u to the contrast-structure factor 2b/e, whose size is at most 1, as
  that of the luminance factor 2a/d. Each local SSIM is therefore within
  13u ≈ 7.8e-7 of exact, and so is their mean (accumulated in float64).
  Measured: at most 2.5e-7 on 8,000 random single 7 × 7 windows, about
  1e-8 on photos, where rounding errors of both signs average out; the tests
  hold every score to 1e-6 of scikit-image.
- Gaussian window (Wang et al.): the weights are not integers, so the
  separable filters run in float64 (error near 1e-16 relative, far below the
  formula's), and σ², σxy are formed in float64 before the ratio is formed
  in float32 as above, within the same 13u (measured at most 1.8e-7 on
  single 11 × 11 windows). Filtering in float32 was measured 7e-6 off
  scikit-image on flat regions, where σ² is a difference of nearly equal
  numbers; float64 filtering is what makes this convention slower.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import cv2
import numba
import numpy as np
from numba.core import types
from numba.extending import overload

from imgsim.settings import SSIM_WINDOW

DATA_RANGE = 255.0
C1 = (0.01 * DATA_RANGE) ** 2
C2 = (0.03 * DATA_RANGE) ** 2
GAUSSIAN_SIGMA = 1.5

BORDER = cv2.BORDER_REFLECT  # scipy.ndimage's "reflect", which scikit-image uses

# Compile-time constants of the kernels (Numba freezes module globals).
UNIFORM_SIZE = SSIM_WINDOW["skimage"]
GAUSSIAN_SIZE = SSIM_WINDOW["gaussian"]
_COUNT = UNIFORM_SIZE * UNIFORM_SIZE
# Window sums instead of means: μ scales by 49 and the sample variance by
# 49·48, so C1 and C2 scale with them and the ratio is unchanged.
UNIFORM_C1 = C1 * _COUNT * _COUNT
UNIFORM_C2 = C2 * _COUNT * (_COUNT - 1)


class _JitOptions(TypedDict):
    """The options `_kernel` passes to ``numba.njit``, typed as njit takes them."""

    nogil: bool
    error_model: Literal["python", "numpy"]


# "numpy" error model: division by zero gives inf instead of raising, which
# keeps the branch out of the loops so that LLVM vectorises them; nogil lets
# the engine's threads run kernels at once.
_JIT: _JitOptions = {"nogil": True, "error_model": "numpy"}


def _kernel(function):
    """Compile ``function`` with Numba, caching its machine code on disk.

    The cache goes to NUMBA_CACHE_DIR if set, else to ``__pycache__`` beside
    this file, else (a read-only install) to the user's cache folder, so only
    the first process on a machine compiles. Where none is writable, each
    process compiles (seconds, once), which is said rather than failing.
    """
    try:
        return numba.njit(cache=True, **_JIT)(function)
    except RuntimeError as error:  # Numba found no writable cache folder
        warnings.warn(
            f"imgsim: Numba cannot cache its kernels ({error}), so every process compiles "
            "them (seconds); set NUMBA_CACHE_DIR to a writable folder to avoid it",
            RuntimeWarning,
            stacklevel=2,
        )
        return numba.njit(**_JIT)(function)


_i32 = np.int32
_f32 = np.float32
_f64 = np.float64


@_kernel
def _uniform_stats(planes, owned, sums, mean_sq, var, squares):  # pragma: no cover
    """Window sums Σx (int32), (Σx)² + c1/2 and 49·Σx² − (Σx)² + c2/2 (float32)."""
    count, rows_in, width = planes.shape
    reach = UNIFORM_SIZE - 1
    cols = width - reach
    column = np.zeros(width, np.int32)
    column_sq = np.zeros(width, np.int32)
    half_c1 = _f32(UNIFORM_C1 / 2)
    half_c2 = _f32(UNIFORM_C2 / 2)
    for k in range(count):
        x = planes[k]
        column[:] = 0
        column_sq[:] = 0
        total: int | np.signedinteger[Any] = 0  # int64 in Numba
        for r in range(rows_in):
            row = x[r]
            for c in range(width):
                value = _i32(row[c])
                column[c] = _i32(column[c] + value)
                column_sq[c] = _i32(column_sq[c] + _i32(value * value))
            if owned[0] <= r < owned[1]:
                for c in range(owned[2], owned[3]):
                    total += _i32(row[c]) * _i32(row[c])
            out = r - reach
            if out < 0:
                continue
            for c in range(cols):
                s = _i32(column[c] + column[c + 1] + column[c + 2] + column[c + 3])
                s = _i32(s + column[c + 4] + column[c + 5] + column[c + 6])
                q = _i32(column_sq[c] + column_sq[c + 1] + column_sq[c + 2] + column_sq[c + 3])
                q = _i32(q + column_sq[c + 4] + column_sq[c + 5] + column_sq[c + 6])
                square = _i32(s * s)
                sums[k, out, c] = s
                # The same float32 operations as a and b in `_uniform_pairs`, so
                # that an image against itself gives exactly 1.
                mean_sq[k, out, c] = _f32(square) + half_c1
                var[k, out, c] = _f32(_i32(_i32(_COUNT * q) - square)) + half_c2
            leaving = x[out]
            for c in range(width):
                value = _i32(leaving[c])
                column[c] = _i32(column[c] - value)
                column_sq[c] = _i32(column_sq[c] - _i32(value * value))
        squares[k] = total


@_kernel
def _uniform_pairs(
    planes, sums, mean_sq, var, pairs, owned, ssim_sums, products, local_map, cs_only
):  # pragma: no cover
    """Fused pass per pair: Σ local SSIM over the strip's windows, and Σx·y for MSE.

    ``local_map`` (rows, cols) receives the pair's local SSIM when it is not
    empty (then ``pairs`` holds one pair). With ``cs_only``, the contrast-
    structure factor (2σxy + C2) / (σx² + σy² + C2) replaces the local SSIM.
    """
    rows_in, width = planes.shape[1:]
    reach = UNIFORM_SIZE - 1
    cols = width - reach
    keep_map = local_map.shape[0] > 0
    column = np.zeros(width, np.int32)
    quarter = np.empty(cols, np.float32)
    accumulated = np.empty(cols, np.float64)
    half_c1 = _f32(UNIFORM_C1 / 2)
    half_c2 = _f32(UNIFORM_C2 / 2)
    half, one = _f32(0.5), _f32(1.0)
    for p in range(pairs.shape[0]):
        i, j = pairs[p, 0], pairs[p, 1]
        x, y = planes[i], planes[j]
        column[:] = 0
        accumulated[:] = 0.0
        total: int | np.signedinteger[Any] = 0  # int64 in Numba
        for r in range(rows_in):
            xr, yr = x[r], y[r]
            # Σx·y for MSE over the owned rows and columns, in the same loop.
            left, right = (owned[2], owned[3]) if owned[0] <= r < owned[1] else (width, width)
            for c in range(left):
                column[c] = _i32(column[c] + _i32(_i32(xr[c]) * _i32(yr[c])))
            for c in range(left, right):
                product = _i32(_i32(xr[c]) * _i32(yr[c]))
                column[c] = _i32(column[c] + product)
                total += product
            for c in range(right, width):
                column[c] = _i32(column[c] + _i32(_i32(xr[c]) * _i32(yr[c])))
            out = r - reach
            if out < 0:
                continue
            si, sj = sums[i, out], sums[j, out]
            mi, mj = mean_sq[i, out], mean_sq[j, out]
            vi, vj = var[i, out], var[j, out]
            for c in range(cols):
                window = _i32(column[c] + column[c + 1] + column[c + 2] + column[c + 3])
                window = _i32(window + column[c + 4] + column[c + 5] + column[c + 6])
                mean_product = _i32(si[c] * sj[c])
                covariance = _i32(_i32(_COUNT * window) - mean_product)  # exact
                # 4ab/(de) is SSIM; with a = 1/2 and d = 1 it is 2b/e, contrast-structure.
                a = half if cs_only else _f32(mean_product) + half_c1
                d = one if cs_only else mi[c] + mj[c]
                b = _f32(covariance) + half_c2
                quarter[c] = (a * b) / (d * (vi[c] + vj[c]))
            for c in range(cols):
                accumulated[c] += quarter[c]
            if keep_map:
                for c in range(cols):
                    local_map[out, c] = 4.0 * _f64(quarter[c])
            xo, yo = x[out], y[out]
            for c in range(width):
                column[c] = _i32(column[c] - _i32(_i32(xo[c]) * _i32(yo[c])))
        ssim_sums[p] = 4.0 * accumulated.sum()
        products[p] = total


def _exact(a, b):  # pragma: no cover - the kernels use the overload below
    """a·b as float64, exactly: int32 for bytes, float64 for pyramid levels."""
    return float(a) * float(b)


def _exact_sum(a0, b0, a1, b1):  # pragma: no cover - the kernels use the overload below
    """a0·b0 + a1·b1 as float64, exactly."""
    return float(a0) * float(b0) + float(a1) * float(b1)


# Bytes multiply and add in int32 (exact, and twice the SIMD lanes of float64);
# MS-SSIM's pyramid levels are multiples of 4⁻ᵏ below 2⁸ (float32, exact), whose
# products and sums of two are exact in float64. One kernel source serves both:
# Numba compiles it once per plane type.
@overload(_exact, inline="always")
def _exact_overload(a, b):
    if isinstance(a, types.Integer) and isinstance(b, types.Integer):
        return lambda a, b: _f64(_i32(_i32(a) * _i32(b)))
    return lambda a, b: _f64(a) * _f64(b)


@overload(_exact_sum, inline="always")
def _exact_sum_overload(a0, b0, a1, b1):
    if all(isinstance(value, types.Integer) for value in (a0, b0, a1, b1)):
        return lambda a0, b0, a1, b1: _f64(_i32(_i32(a0) * _i32(b0) + _i32(a1) * _i32(b1)))
    return lambda a0, b0, a1, b1: _f64(a0) * _f64(b0) + _f64(a1) * _f64(b1)


@_kernel
def _gaussian_column(x, y, top, weights, column):  # pragma: no cover
    """Vertical Gaussian sums of x·y over rows top .. top + 10, for every column.

    The window is symmetric, so products at equal distance from the centre
    are added first (exactly, see `_exact_sum`): 6 multiplications instead of 11.
    """
    w0, w1, w2, w3, w4, w5 = weights[0], weights[1], weights[2], weights[3], weights[4], weights[5]
    x0, x1, x2, x3, x4, x5 = x[top], x[top + 1], x[top + 2], x[top + 3], x[top + 4], x[top + 5]
    x6, x7, x8, x9, x10 = x[top + 6], x[top + 7], x[top + 8], x[top + 9], x[top + 10]
    y0, y1, y2, y3, y4, y5 = y[top], y[top + 1], y[top + 2], y[top + 3], y[top + 4], y[top + 5]
    y6, y7, y8, y9, y10 = y[top + 6], y[top + 7], y[top + 8], y[top + 9], y[top + 10]
    for c in range(column.shape[0]):
        s0 = _exact_sum(x0[c], y0[c], x10[c], y10[c])
        s1 = _exact_sum(x1[c], y1[c], x9[c], y9[c])
        s2 = _exact_sum(x2[c], y2[c], x8[c], y8[c])
        s3 = _exact_sum(x3[c], y3[c], x7[c], y7[c])
        s4 = _exact_sum(x4[c], y4[c], x6[c], y6[c])
        s5 = _exact(x5[c], y5[c])
        column[c] = (w0 * s0 + w1 * s1) + (w2 * s2 + w3 * s3) + (w4 * s4 + w5 * s5)


@numba.njit(inline="always")
def _gaussian_tap(column, c, weights):  # pragma: no cover
    """Horizontal Gaussian sum of ``column`` at c .. c + 10, symmetric as `_gaussian_column`.

    Inlined into the loops that use it: a separate pass writing float64 that
    it reads as float64 is not vectorised (LLVM cannot rule out an overlap).
    """
    return (
        (weights[0] * (column[c] + column[c + 10]) + weights[1] * (column[c + 1] + column[c + 9]))
        + (
            weights[2] * (column[c + 2] + column[c + 8])
            + weights[3] * (column[c + 3] + column[c + 7])
        )
        + (weights[4] * (column[c + 4] + column[c + 6]) + weights[5] * column[c + 5])
    )


@_kernel
def _gaussian_stats(planes, weights, owned, means, mean_sq, var, squares):  # pragma: no cover
    """μ (float64), μ² + C1/2 and σ² + C2/2 (float32), filtered in float64."""
    count, rows_in, width = planes.shape
    reach = GAUSSIAN_SIZE - 1
    rows, cols = rows_in - reach, width - reach
    ones = np.ones((rows_in, width), np.uint8)
    column = np.empty(width, np.float64)
    column_sq = np.empty(width, np.float64)
    for k in range(count):
        x = planes[k]
        total: int | np.signedinteger[Any] = 0  # int64 in Numba
        for r in range(owned[0], owned[1]):
            row = x[r]
            for c in range(owned[2], owned[3]):
                total += _i32(row[c]) * _i32(row[c])
        squares[k] = total
        for out in range(rows):
            _gaussian_column(x, ones, out, weights, column)
            # The same operations as `_gaussian_pairs` on x·y, so that an image
            # against itself gives exactly 1.
            _gaussian_column(x, x, out, weights, column_sq)
            for c in range(cols):
                m = _gaussian_tap(column, c, weights)
                means[k, out, c] = m
                mean_sq[k, out, c] = _f32(m * m + C1 / 2)
                var[k, out, c] = _f32((_gaussian_tap(column_sq, c, weights) - m * m) + C2 / 2)


@_kernel
def _gaussian_pairs(
    planes, weights, means, mean_sq, var, pairs, owned, ssim_sums, products, local_map, cs_only
):  # pragma: no cover
    """As `_uniform_pairs`, with the 11x11 Gaussian window filtered in float64.

    The planes are bytes, or (for MS-SSIM's coarser scales) float32 levels.
    """
    rows_in, width = planes.shape[1:]
    reach = GAUSSIAN_SIZE - 1
    rows, cols = rows_in - reach, width - reach
    keep_map = local_map.shape[0] > 0
    column = np.empty(width, np.float64)
    quarter = np.empty(cols, np.float32)
    accumulated = np.empty(cols, np.float64)
    half, one = _f32(0.5), _f32(1.0)
    for p in range(pairs.shape[0]):
        i, j = pairs[p, 0], pairs[p, 1]
        x, y = planes[i], planes[j]
        total: int | np.signedinteger[Any] = 0  # int64 in Numba
        for r in range(owned[0], owned[1]):
            xr, yr = x[r], y[r]
            for c in range(owned[2], owned[3]):
                total += _i32(_i32(xr[c]) * _i32(yr[c]))
        products[p] = total
        accumulated[:] = 0.0
        for out in range(rows):
            _gaussian_column(x, y, out, weights, column)
            mi, mj = means[i, out], means[j, out]
            qi, qj = mean_sq[i, out], mean_sq[j, out]
            vi, vj = var[i, out], var[j, out]
            for c in range(cols):
                mean_product = mi[c] * mj[c]
                a = half if cs_only else _f32(mean_product + C1 / 2)
                d = one if cs_only else qi[c] + qj[c]
                b = _f32((_gaussian_tap(column, c, weights) - mean_product) + C2 / 2)
                quarter[c] = (a * b) / (d * (vi[c] + vj[c]))
            for c in range(cols):
                accumulated[c] += quarter[c]
            if keep_map:
                for c in range(cols):
                    local_map[out, c] = 4.0 * _f64(quarter[c])
        ssim_sums[p] = 4.0 * accumulated.sum()


@dataclass(frozen=True, eq=False)
class StripStats:
    """One plane of every image over a strip, at the output positions.

    Attributes
    ----------
    mean : ndarray, shape (N, rows, cols)
        Window sums (int32, exact) or means (float64).
    mean_sq, var : ndarray of float32, shape (N, rows, cols)
        μ² + c1/2 and σ² + c2/2 in the window's scale.
    square_sums : ndarray of int64, shape (N,)
        Σx² over the rows the strip owns for MSE (exact).
    """

    mean: np.ndarray
    mean_sq: np.ndarray
    var: np.ndarray
    square_sums: np.ndarray


class Workspace:
    """Scratch memory that one worker thread reuses from strip to strip.

    Fresh arrays of strip size come from newly mapped memory that page-faults
    on first touch; measured, that cost more than the arithmetic on them.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    @property
    def nbytes(self) -> int:
        return sum(buffer.nbytes for buffer in self._buffers.values())

    def take(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """A contiguous array of this shape and type; its contents are undefined."""
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size:
            buffer = self._buffers[name] = np.empty(size, np.uint8)
        return buffer[:size].view(dtype).reshape(shape)


_NO_MAP = np.empty((0, 0), np.float64)
Owned = tuple[slice, slice]


def _bounds(owned: Owned) -> np.ndarray:
    rows, cols = owned
    return np.array([rows.start, rows.stop, cols.start, cols.stop], np.int64)


class Window:
    """The statistics and the per-pair pass of one SSIM convention."""

    size: int
    mean_dtype: type
    stats_bytes: int  # bytes of statistics per image and output value

    def __init__(
        self,
        stats_kernel: Callable[..., None],
        pairs_kernel: Callable[..., None],
        *constants: np.ndarray,
    ) -> None:
        # Instance attributes: the kernels, and the constants passed before the planes.
        self._stats_kernel = stats_kernel
        self._pairs_kernel = pairs_kernel
        self._constants = constants

    @property
    def pad(self) -> int:
        return self.size // 2

    def stats(self, planes: np.ndarray, owned: Owned, workspace: Workspace) -> StripStats:
        """Statistics of every image's plane over a strip.

        Parameters
        ----------
        planes : ndarray of uint8, shape (N, rows_in, W), C-contiguous
            Each image's plane over the strip and its halo.
        owned : (slice, slice)
            The rows and columns (within the planes) this block owns for MSE.
        workspace : Workspace
            Where the arrays live; they are valid until its next use.
        """
        count, rows_in, width = planes.shape
        shape = (count, rows_in - self.size + 1, width - self.size + 1)
        mean = workspace.take("mean", shape, self.mean_dtype)
        mean_sq = workspace.take("mean_sq", shape, np.float32)
        var = workspace.take("var", shape, np.float32)
        squares = np.empty(count, np.int64)
        self._stats_kernel(planes, *self._constants, _bounds(owned), mean, mean_sq, var, squares)
        return StripStats(mean, mean_sq, var, squares)

    def pairs(
        self,
        planes: np.ndarray,
        stats: StripStats,
        pairs: np.ndarray,
        owned: Owned,
        local_map: np.ndarray | None = None,
        contrast_structure: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Σ local SSIM over the strip's windows and Σx·y over its MSE rows, per pair.

        Parameters
        ----------
        planes : ndarray of uint8, shape (N, rows_in, W)
        stats : StripStats
            From `stats` on the same planes.
        pairs : ndarray of int64, shape (P, 2)
            Indices into ``planes``.
        owned : (slice, slice)
        local_map : ndarray of float64, shape (rows, cols), optional
            Receives the local SSIM of the single pair in ``pairs``.
        contrast_structure : bool
            Sum the contrast-structure factor (2σxy + C2) / (σx² + σy² + C2)
            instead of SSIM (MS-SSIM's finer scales).
        """
        ssim_sums = np.empty(len(pairs), np.float64)
        products = np.empty(len(pairs), np.int64)
        target = _NO_MAP if local_map is None else local_map
        self._pairs_kernel(
            planes,
            *self._constants,
            stats.mean,
            stats.mean_sq,
            stats.var,
            pairs,
            _bounds(owned),
            ssim_sums,
            products,
            target,
            contrast_structure,
        )
        return ssim_sums, products


class UniformWindow(Window):
    """scikit-image's default: 7x7 uniform window, sample covariance, in window sums."""

    size = UNIFORM_SIZE
    mean_dtype = np.int32
    stats_bytes = 4 + 4 + 4

    def __init__(self) -> None:
        super().__init__(_uniform_stats, _uniform_pairs)


class GaussianWindow(Window):
    """Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, population covariance."""

    size = GAUSSIAN_SIZE
    mean_dtype = np.float64
    stats_bytes = 8 + 4 + 4

    def __init__(self) -> None:
        super().__init__(_gaussian_stats, _gaussian_pairs, gaussian_weights(self.size))


def gaussian_weights(size: int = GAUSSIAN_SIZE) -> np.ndarray:
    """The 1-D Gaussian window (sigma 1.5), normalised to sum 1.

    scipy.ndimage's kernel, as scikit-image uses it: truncate 3.5 gives radius 5
    for the 11-tap window.

    Returns
    -------
    ndarray of float64, shape (size,)
    """
    offsets = np.arange(size, dtype=np.float64) - size // 2
    weights = np.exp(-0.5 / GAUSSIAN_SIGMA**2 * offsets**2)
    return weights / weights.sum()


_GAUSSIAN = GaussianWindow()
# MS-SSIM filters every scale with the Gaussian window (see `imgsim.metrics._msssim`).
WINDOWS: dict[str, Window] = {
    "skimage": UniformWindow(),
    "gaussian": _GAUSSIAN,
    "ms-ssim": _GAUSSIAN,
}
