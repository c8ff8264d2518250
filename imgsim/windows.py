"""Local statistics under each SSIM convention's window, exact where it matters.

SSIM of a window is (2·μxμy + C1)(2·σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)).
Both windows below give, per strip of rows, each image's μ, μ² + C1/2 and
σ² + C2/2 (`StripStats`), and per pair the filtered products x·y from which
σxy follows. Every quantity is stacked over images on axis 0, so that one call
serves a whole batch of pairs.

- `UniformWindow` (scikit-image's default, 7x7, sample covariance) works on
  window sums instead of means. They are integers: OpenCV's int32 box filter
  gives them exactly, and 49·Σx² − (Σx)² (where variance cancels) is exact in
  int32 and float64. The common scale factors cancel in the SSIM ratio, so C1
  and C2 are scaled to match.
- `GaussianWindow` (Wang et al. 2004, 11x11, sigma 1.5, population covariance)
  has non-integer weights. float32 filters were measured 7e-6 off
  scikit-image on a letterboxed pair (flat regions make the variance a
  difference of nearly equal numbers), so its separable filters run in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imgsim.settings import SSIM_WINDOW

DATA_RANGE = 255.0
C1 = (0.01 * DATA_RANGE) ** 2
C2 = (0.03 * DATA_RANGE) ** 2
GAUSSIAN_SIGMA = 1.5

BORDER = cv2.BORDER_REFLECT  # scipy.ndimage's "reflect", which scikit-image uses


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


@dataclass(frozen=True, eq=False)
class StripStats:
    """One plane of every image over a strip, stacked on axis 0.

    Attributes
    ----------
    values : ndarray, shape (N, rows_in, W)
        The pixels with the strip's halo, in the window's ``value_dtype``.
    mean : ndarray, shape (N, rows, cols)
        μ (or window sums, exact in ``mean_dtype``) at the strip's output rows
        and the requested columns.
    mean_sq, var : ndarray, shape (N, rows, cols)
        μ² + c1/2 and σ² + c2/2, in ``formula_dtype``.
    square_sums : ndarray of float64, shape (N,)
        Σx² over the rows the strip owns for MSE (exact).
    """

    values: np.ndarray
    mean: np.ndarray
    mean_sq: np.ndarray
    var: np.ndarray
    square_sums: np.ndarray


class Window:
    """The local statistics of one SSIM convention."""

    size: int
    c1: float
    c2: float
    value_dtype: type  # pixels and their products x·y
    filter_dtype: type  # window sums or means of them
    mean_dtype: type  # μ, μx·μy and σxy: exact for the uniform window
    formula_dtype: type  # the SSIM ratio, formed after every cancellation
    stats_bytes: int  # bytes of statistics and temporaries per plane value
    pair_bytes: int  # bytes of one pair's scratch per value

    @property
    def pad(self) -> int:
        return self.size // 2

    def filter(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Window-filter a 2-D array (blocks stacked vertically keep their own rows)."""
        raise NotImplementedError

    def covariance(self, filtered: np.ndarray, mean_product: np.ndarray, out: np.ndarray) -> None:
        """σxy (in this window's scale) from filtered x·y and μx·μy."""
        raise NotImplementedError

    def stats(
        self,
        planes: list[np.ndarray],
        rows: slice,
        cols: slice,
        mse_rows: slice,
        workspace: Workspace,
    ) -> StripStats:
        """Statistics of one plane of every image over a strip.

        Parameters
        ----------
        planes : list of ndarray of uint8, shape (rows_in, W)
            Each image's plane over the strip and its halo (may be strided).
        rows, cols : slice
            The output rows (within ``rows_in``) and columns to keep.
        mse_rows : slice
            The rows this strip owns for MSE.
        workspace : Workspace
            Where the arrays live; they are valid until its next use.
        """
        count, (rows_in, width) = len(planes), planes[0].shape
        shape = (count, rows_in, width)
        out_shape = (count, rows.stop - rows.start, len(range(*cols.indices(width))))
        values = workspace.take("values", shape, self.value_dtype)
        for index, plane in enumerate(planes):
            values[index] = plane
        squares = workspace.take("squares", shape, self.value_dtype)
        np.multiply(values, values, out=squares)
        square_sums = np.array([cv2.sumElems(square[mse_rows])[0] for square in squares])
        filtered = workspace.take("filtered", shape, self.filter_dtype)
        self.filter(values.reshape(-1, width), out=filtered.reshape(-1, width))
        mean = workspace.take("mean", out_shape, self.mean_dtype)
        np.copyto(mean, filtered[:, rows, cols], casting="unsafe")
        self.filter(squares.reshape(-1, width), out=filtered.reshape(-1, width))
        mean_squared = workspace.take("mean_squared", out_shape, self.mean_dtype)
        np.multiply(mean, mean, out=mean_squared)
        spread = workspace.take("spread", out_shape, self.mean_dtype)
        self._spread(filtered[:, rows, cols], mean_squared, out=spread)
        var = workspace.take("var", out_shape, self.formula_dtype)
        np.add(spread, self.c2 / 2, out=var, dtype=self.formula_dtype, casting="unsafe")
        mean_sq = workspace.take("mean_sq", out_shape, self.formula_dtype)
        np.add(mean_squared, self.c1 / 2, out=mean_sq, dtype=self.formula_dtype, casting="unsafe")
        return StripStats(values, mean, mean_sq, var, square_sums)

    def _spread(self, square_means: np.ndarray, mean_squared: np.ndarray, out: np.ndarray) -> None:
        """σ² (in this window's scale) from filtered x² and μ²."""
        raise NotImplementedError


class UniformWindow(Window):
    """scikit-image's default: 7x7 uniform window, sample covariance, in window sums."""

    size = SSIM_WINDOW["skimage"]
    count = size * size
    c1 = C1 * count * count
    c2 = C2 * count * (count - 1)
    value_dtype = np.uint16  # x·y is at most 255² = 65025
    filter_dtype = np.int32  # window sums of x·y stay below 2**22
    mean_dtype = np.int32  # 49·Σxy − Σx·Σy and its terms stay below 2**28
    # Every cancellation is over when the ratio is formed: float32 rounds each
    # of its seven operations by at most 6e-8, so local SSIM stays within 5e-7.
    formula_dtype = np.float32
    stats_bytes = 2 + 2 + 4 + 4 * 5
    pair_bytes = 2 + 4 + 4 * 5

    def filter(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return cv2.boxFilter(
            values, cv2.CV_32S, (self.size, self.size), dst=out, normalize=False, borderType=BORDER
        )

    def _spread(self, square_means: np.ndarray, mean_squared: np.ndarray, out: np.ndarray) -> None:
        np.multiply(square_means, self.count, out=out)  # 49·Σx² − (Σx)², exact in int32
        out -= mean_squared

    def covariance(self, filtered: np.ndarray, mean_product: np.ndarray, out: np.ndarray) -> None:
        np.multiply(filtered, self.count, out=out)
        out -= mean_product


class GaussianWindow(Window):
    """Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, population covariance."""

    size = SSIM_WINDOW["gaussian"]
    c1 = C1
    c2 = C2
    value_dtype = np.float64
    filter_dtype = np.float64
    mean_dtype = np.float64
    formula_dtype = np.float64
    stats_bytes = 8 * 8
    pair_bytes = 8 * 7

    def __init__(self) -> None:
        # scipy.ndimage's kernel, as scikit-image uses it: truncate 3.5 -> radius 5.
        offsets = np.arange(self.size, dtype=np.float64) - self.size // 2
        weights = np.exp(-0.5 / GAUSSIAN_SIGMA**2 * offsets**2)
        self._kernel = (weights / weights.sum()).reshape(-1, 1)

    def filter(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return cv2.sepFilter2D(
            values, cv2.CV_64F, self._kernel, self._kernel, dst=out, borderType=BORDER
        )

    def _spread(self, square_means: np.ndarray, mean_squared: np.ndarray, out: np.ndarray) -> None:
        np.subtract(square_means, mean_squared, out=out)

    def covariance(self, filtered: np.ndarray, mean_product: np.ndarray, out: np.ndarray) -> None:
        np.subtract(filtered, mean_product, out=out)


WINDOWS: dict[str, type[Window]] = {"skimage": UniformWindow, "gaussian": GaussianWindow}
