"""The three terms of SSIM: luminance, contrast and structure.

SSIM is the product of three local comparisons (Wang et al. 2004, eq. 6-12),
each in the same window as SSIM itself:

- luminance  l = (2·μx·μy + C1) / (μx² + μy² + C1): do the local means agree?
- contrast   c = (2·σx·σy + C2) / (σx² + σy² + C2): do the local spreads agree?
- structure  s = (σxy + C3) / (σx·σy + C3), with C3 = C2 / 2: do the local
  patterns line up (a correlation)?

with C1 = (0.01·255)², C2 = (0.03·255)². μ is the window mean; σx², σy² and
σxy are the window variances and covariance; σ is the square root of the
variance, clamped at 0 (floating-point cancellation can make a flat window's
variance a tiny negative number). With C3 = C2 / 2 the (σx·σy + C3) factors
cancel, so that c·s = (2·σxy + C2) / (σx² + σy² + C2) and l·c·s is the SSIM
map, exactly (up to rounding; where a variance rounded below zero, the clamp
moves the denominator by that rounding, under 1e-12 of C2).

**scikit-image's convention** (7 × 7 uniform window) uses the *sample*
covariance: σx², σy² and σxy are the window's moments times n / (n - 1) with
n = 49. The terms above are then taken with these sample moments (σ the square
root of the sample variance), and the identity still holds exactly: l·c·s
equals ``structural_similarity(..., full=True)``'s map. The *Gaussian*
convention (11 × 11 Gaussian window, σ = 1.5) uses the weighted population
moments. Which window and normalisation a convention uses is the one lookup
`TERM_WINDOWS`.

Each term lies in [0, 1] for l and c (equal to 1 when the means, or the
spreads, agree) and in [-1, 1] for s; all three are 1 for identical images.
A pair's term is the mean of its local map over the same windows as SSIM's
mean (the map without its outer ``window // 2`` pixels), and for colour the
mean over channels, as scikit-image's ``channel_axis`` does for SSIM. (For
colour the means of l, c and s do not multiply to SSIM's mean, and neither do
the channel-averaged maps: a product's mean is not the product of means.)

Everything is computed in float64 with separable filters on reflected edges,
as scikit-image does. `image_stats` makes one image's window statistics once;
`pair_terms` and `all_pair_terms` reuse them for every pair an image is in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from imgsim.metrics._engine import check_images
from imgsim.metrics._pool import worker_count
from imgsim.metrics._windows import BORDER, C1, C2, gaussian_weights
from imgsim.settings import SSIM_WINDOW, check_side

C3 = C2 / 2
TERM_NAMES = ("luminance", "contrast", "structure")
# Memory for the statistics `all_pair_terms` holds at once (40 bytes per value:
# the image, μ, μ² + C1/2, σ and σ² + C2/2 in float64): beyond it, images go
# in groups and an image's statistics are remade for each group it meets.
STATS_BUDGET_BYTES = 512 * 2**20


@dataclass(frozen=True, eq=False)
class TermsWindow:
    """The window and covariance normalisation of one SSIM convention.

    Attributes
    ----------
    weights : ndarray of float64, shape (size,)
        The separable 1-D window, summing to 1.
    sample_covariance : bool
        Moments times n / (n - 1), n = size² (scikit-image's default), or not
        (the population moments of a weighted window).
    """

    weights: np.ndarray
    sample_covariance: bool

    @property
    def size(self) -> int:
        return len(self.weights)

    @property
    def pad(self) -> int:
        return self.size // 2

    @property
    def covariance_factor(self) -> float:
        count = self.size * self.size
        return count / (count - 1) if self.sample_covariance else 1.0

    def filter(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Window means at every pixel of a 2-D float64 array, on reflected edges."""
        return cv2.sepFilter2D(
            values, cv2.CV_64F, self.weights, self.weights, dst=out, borderType=BORDER
        )


def _uniform(size: int) -> np.ndarray:
    return np.full(size, 1.0 / size)


# The one place that says which window and normalisation each convention's
# terms use (the same as its SSIM's).
TERM_WINDOWS: dict[str, TermsWindow] = {
    "skimage": TermsWindow(_uniform(SSIM_WINDOW["skimage"]), sample_covariance=True),
    "gaussian": TermsWindow(gaussian_weights(SSIM_WINDOW["gaussian"]), sample_covariance=False),
}
# MS-SSIM is a product over five scales, not of three maps; its terms are those
# of its finest scale, whose window and covariance are the Gaussian convention's.
TERM_WINDOWS["ms-ssim"] = TERM_WINDOWS["gaussian"]


@dataclass(frozen=True)
class Terms:
    """A pair's luminance, contrast and structure: the means of their local maps."""

    luminance: float
    contrast: float
    structure: float

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in TERM_NAMES}


@dataclass(frozen=True, eq=False)
class TermMaps:
    """A pair's local luminance, contrast and structure maps.

    Attributes
    ----------
    luminance, contrast, structure : ndarray of float64, shape (H, W) or (H, W, C)
        One value per pixel (per channel for colour), borders on reflected
        edges as scikit-image's ``full=True`` map.
    """

    luminance: np.ndarray
    contrast: np.ndarray
    structure: np.ndarray

    def means(self, window: int) -> Terms:
        """Each map's mean without its outer ``window // 2`` pixels, over all channels."""
        pad = window // 2
        return Terms(
            *(float(getattr(self, name)[pad:-pad, pad:-pad].mean()) for name in TERM_NAMES)
        )


@dataclass(frozen=True, eq=False)
class ImageStats:
    """One image's window statistics, per channel: what every pair it is in reuses.

    Attributes
    ----------
    values : ndarray of float64, shape (C, H, W)
        The image, for the pairs' window sums of x·y.
    region : (slice, slice)
        Where the statistics below lie in the image: everywhere, or only where
        the window lies inside it (all a pair's mean needs).
    mean : ndarray of float64, shape (C, h, w)
        Window mean μ.
    mean_square : ndarray of float64
        μ² + C1 / 2: luminance's denominator is the sum of two images' values.
    sigma : ndarray of float64
        σ = sqrt(σ²), σ² clamped at 0.
    variance : ndarray of float64
        σ² + C2 / 2: contrast's denominator is the sum of two images' values.
    """

    values: np.ndarray
    region: tuple[slice, slice]
    mean: np.ndarray
    mean_square: np.ndarray
    sigma: np.ndarray
    variance: np.ndarray


def term_window(convention: str) -> TermsWindow:
    """The window of ``convention``'s terms; a clear error for an unknown one."""
    if convention not in TERM_WINDOWS:
        raise ValueError(f"convention must be one of {', '.join(TERM_WINDOWS)}; got {convention!r}")
    return TERM_WINDOWS[convention]


def _check(images: Sequence[np.ndarray], window: TermsWindow) -> None:
    check_images(images)
    if images:
        height, width = images[0].shape[:2]
        # MS-SSIM's terms are its finest scale's: the Gaussian window's size is what counts.
        check_side(width, height, "skimage" if window.sample_covariance else "gaussian", "images")


def image_stats(image: np.ndarray, window: TermsWindow, interior: bool = False) -> ImageStats:
    """Window statistics of one ``uint8`` image, per channel.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W) or (H, W, C)
    window : TermsWindow
    interior : bool
        Keep only the positions whose window lies inside the image (those a
        pair's mean averages), rather than every pixel (for maps).
    """
    planes = image[np.newaxis] if image.ndim == 2 else np.moveaxis(image, 2, 0)
    values = planes.astype(np.float64)
    pad = window.pad
    region = (slice(pad, -pad), slice(pad, -pad)) if interior else (slice(None), slice(None))
    mean = np.stack([window.filter(plane)[region] for plane in values])
    variance = np.stack([window.filter(plane * plane)[region] for plane in values])
    variance -= mean * mean
    variance *= window.covariance_factor
    np.maximum(variance, 0.0, out=variance)
    sigma = np.sqrt(variance)
    variance += C2 / 2
    return ImageStats(values, region, mean, mean * mean + C1 / 2, sigma, variance)


def _maps(
    first: ImageStats, second: ImageStats, window: TermsWindow, scratch: dict | None = None
) -> tuple[np.ndarray, ...]:
    """The (C, h, w) luminance, contrast and structure maps of two images' statistics.

    ``scratch`` (a dict kept by the caller) holds the arrays from pair to pair:
    measured, fresh arrays of this size cost more in page faults than the
    arithmetic on them. The maps returned live in it until its next use.
    """
    scratch = {} if scratch is None else scratch

    def take(name: str, shape: tuple[int, ...]) -> np.ndarray:
        if name not in scratch or scratch[name].shape != shape:
            scratch[name] = np.empty(shape)
        return scratch[name]

    shape = first.mean.shape
    luminance, contrast, structure, mean_product, sigmas = (
        take(name, shape) for name in ("l", "c", "s", "mp", "sigmas")
    )
    product, filtered = (take(name, first.values.shape[1:]) for name in ("xy", "filtered"))
    np.multiply(first.mean, second.mean, out=mean_product)
    np.add(first.mean_square, second.mean_square, out=luminance)
    np.multiply(mean_product, 2, out=structure)  # structure: scratch until its turn
    structure += C1
    np.divide(structure, luminance, out=luminance)
    np.add(first.variance, second.variance, out=contrast)
    np.multiply(first.sigma, second.sigma, out=sigmas)
    np.multiply(sigmas, 2, out=structure)
    structure += C2
    np.divide(structure, contrast, out=contrast)
    for channel, (x, y) in enumerate(zip(first.values, second.values, strict=True)):
        np.multiply(x, y, out=product)
        window.filter(product, out=filtered)
        np.subtract(filtered[first.region], mean_product[channel], out=structure[channel])
    structure *= window.covariance_factor  # now σxy
    structure += C3
    sigmas += C3
    structure /= sigmas
    return luminance, contrast, structure


def term_maps(a: np.ndarray, b: np.ndarray, convention: str = "skimage") -> TermMaps:
    """The local luminance, contrast and structure maps of one pair.

    Parameters
    ----------
    a, b : ndarray of uint8, same shape (H, W) or (H, W, C)
    convention : {"skimage", "gaussian"}
        As `imgsim.metrics.ssim`: the terms use the same window and covariance.

    Returns
    -------
    TermMaps
        Maps of ``a``'s shape, whose product is the SSIM map (see the module's
        docstring); ``.means(window)`` gives the pair's `Terms`.
    """
    window = term_window(convention)
    _check([a, b], window)
    maps = _maps(image_stats(a, window), image_stats(b, window), window)
    if a.ndim == 2:
        return TermMaps(*(each[0] for each in maps))
    return TermMaps(*(np.ascontiguousarray(np.moveaxis(each, 0, 2)) for each in maps))


def pair_terms(a: np.ndarray, b: np.ndarray, convention: str = "skimage") -> Terms:
    """The luminance, contrast and structure of one pair: their local maps' means.

    Parameters are those of `term_maps`.
    """
    return term_maps(a, b, convention).means(term_window(convention).size)


@dataclass(frozen=True, eq=False)
class PairTerms:
    """Every pair's terms, as N x N symmetric matrices with 1 on the diagonal."""

    luminance: np.ndarray
    contrast: np.ndarray
    structure: np.ndarray

    def of(self, i: int, j: int) -> Terms:
        """The terms of images ``i`` and ``j``."""
        return Terms(*(float(getattr(self, name)[i, j]) for name in TERM_NAMES))


def all_pair_terms(
    images: Sequence[np.ndarray],
    convention: str = "skimage",
    on_progress: Callable[[float], None] | None = None,
    budget_bytes: int = STATS_BUDGET_BYTES,
) -> PairTerms:
    """Luminance, contrast and structure of every pair of equally shaped ``uint8`` images.

    Each image's window statistics are made once and reused by all its pairs
    while every image's fit ``budget_bytes``; beyond, images go in groups that
    fit it and an image's statistics are remade for each group it meets.

    Parameters
    ----------
    images : sequence of ndarray of uint8, all of one shape (H, W) or (H, W, C)
    convention : {"skimage", "gaussian"}
    on_progress : callable, optional
        Called with the share of the pairs done, in (0, 1], after each pair.
    budget_bytes : int
        Memory for the statistics held at once.

    Returns
    -------
    PairTerms
        Entry [i, j] equals ``pair_terms(images[i], images[j], convention)``.
    """
    window = term_window(convention)
    _check(images, window)
    count = len(images)
    matrices = [np.ones((count, count)) for _ in TERM_NAMES]
    total = count * (count - 1) // 2
    if total == 0:
        return PairTerms(*matrices)
    per_image = images[0].size * 8 * 5  # values and four statistics in float64
    group = max(1, min(count, budget_bytes // (2 * per_image)))
    starts = range(0, count, group)
    done = 0

    local = threading.local()  # each thread's scratch arrays

    def score(stats: tuple[ImageStats, ImageStats]) -> list[float]:
        if not hasattr(local, "scratch"):
            local.scratch = {}
        return [float(term.mean()) for term in _maps(*stats, window, local.scratch)]

    # Pairs on the cores (NumPy and OpenCV release the GIL); results are taken
    # in order, and progress reported, from the calling thread.
    with ThreadPoolExecutor(worker_count(total), thread_name_prefix="imgsim-terms") as pool:
        for first_start in starts:
            first = range(first_start, min(first_start + group, count))
            first_stats = {i: image_stats(images[i], window, interior=True) for i in first}
            for second_start in starts[first_start // group :]:
                second = range(second_start, min(second_start + group, count))
                if second_start == first_start:
                    second_stats = first_stats
                else:
                    second_stats = {
                        j: image_stats(images[j], window, interior=True) for j in second
                    }
                pairs = [(i, j) for i in first for j in second if j > i]
                work = [(first_stats[i], second_stats[j]) for i, j in pairs]
                for (i, j), values in zip(pairs, pool.map(score, work), strict=True):
                    for matrix, value in zip(matrices, values, strict=True):
                        matrix[i, j] = matrix[j, i] = value
                    done += 1
                    if on_progress is not None:
                        on_progress(done / total)
    return PairTerms(*matrices)


# A term within this of 1 shows no difference of its kind (a mean shift's
# contrast and structure measure 0.9999).
NEGLIGIBLE = 0.005
# A second term whose shortfall from 1 is at least this share of the largest
# one's is named beside it (impulse noise: contrast 0.83, structure 0.85).
CLOSE_SHARE = 0.75
KINDS = {
    "luminance": ("brightness", "the local mean brightness differs"),
    "contrast": ("contrast", "the local contrast (how much pixels vary in a window) differs"),
    "structure": ("structure", "the local patterns do not line up"),
}


def dominant_difference(terms: Terms) -> str:
    """One sentence naming the kind of difference the terms show: the lowest term's.

    Parameters
    ----------
    terms : Terms

    Returns
    -------
    str
        Brightness (luminance lowest), contrast or structure; two kinds when
        the second-lowest term falls nearly as far (`CLOSE_SHARE`); none when
        every term is within `NEGLIGIBLE` of 1. The three values follow.
    """
    values = terms.to_dict()
    shown = ", ".join(f"{name} {value:.2f}" for name, value in values.items())
    ranked = sorted(TERM_NAMES, key=lambda name: values[name])
    shortfall = {name: 1.0 - values[name] for name in TERM_NAMES}
    first, second = ranked[0], ranked[1]
    if shortfall[first] <= NEGLIGIBLE:
        return (
            f"No kind of difference stands out: every term is within {NEGLIGIBLE} of 1 ({shown})."
        )
    named = [first]
    if shortfall[second] > NEGLIGIBLE and shortfall[second] >= CLOSE_SHARE * shortfall[first]:
        named.append(second)
    kinds = " and ".join(KINDS[name][0] for name in named)
    reasons = " and ".join(KINDS[name][1] for name in named)
    return f"Mostly a difference of {kinds}: {reasons} ({shown})."
