"""Resize sweep: how the scores of every pair change with the target size.

Each size is an ordinary `compare` under the same settings but that size, so
every value equals what `compare` gives there; images are decoded once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import kendalltau

from imgsim.analyses._compare import Comparison, compare
from imgsim.images import DecodedImage, ImageError, ImageInfo, ImageSource, load_image
from imgsim.settings import Limits, Settings, checked_max_pixels
from imgsim.timing import Progress, ProgressCallback, ProgressTracker, model_for

DEFAULT_SIDES = (32, 64, 128, 256, 512, 1024, 2048)
STABLE_TAU = 0.9  # Kendall's tau from which the pair order counts as the same


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """Sizes from text such as "64, 128, 256", "64 128 256" (squares) or "64x48, 128x96".

    Commas and whitespace both separate sizes; a repeated size is kept once, at
    its first place.

    Raises
    ------
    ValueError
        Naming the part that is not a size.
    """
    sizes = []
    for part in size_entries(text):
        pieces = part.lower().split("x")
        if len(pieces) not in (1, 2) or not all(piece.isdigit() for piece in pieces):
            raise ValueError(
                f"{part!r} is not a size; write sizes like 64,128,256 (or 64 128 256) or 64x48"
            )
        width = int(pieces[0])
        sizes.append((width, int(pieces[-1])))
    if not sizes:
        raise ValueError("no sizes given; write sizes like 64,128,256")
    return unique_sizes(sizes)


def size_entries(text: str) -> list[str]:
    """The entries of a list of sizes: split at commas and/or whitespace, blanks dropped.

    ``"64, 128 256x128"`` gives ``["64", "128", "256x128"]``; one rule for every
    reader of typed sizes, so that a space never glues two sizes into one.
    """
    return [part for part in re.split(r"[\s,]+", text) if part]


def unique_sizes(sizes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each size once, in the order of its first appearance."""
    return list(dict.fromkeys((int(width), int(height)) for width, height in sizes))


def sweep_sizes(
    sides: Sequence[int], aspect_of: tuple[int, int] | None = None
) -> list[tuple[int, int]]:
    """Target sizes for a sweep: squares, or widths keeping an aspect.

    Parameters
    ----------
    sides : sequence of int
        Square sides, or widths when ``aspect_of`` is given.
    aspect_of : (width, height), optional
        Keep this size's aspect: each height is ``round(side * height / width)``.
    """
    sizes = []
    for side in sides:
        if aspect_of is None:
            sizes.append((int(side), int(side)))
        else:
            width, height = aspect_of
            sizes.append((int(side), max(1, round(side * height / width))))
    return sizes


def settings_at(
    settings: Settings, size: tuple[int, int], limits: Limits | None = None
) -> Settings:
    """The settings at one size of a sweep, checked as the sweep checks them.

    Raises
    ------
    ValueError
        When the size is below the SSIM window (from `Settings`) or above the
        size bound (``limits.max_side``, the default `Limits` without one) on
        a side; the message names the size and the rule.
    """
    # The side first: a size too large to allocate is refused as such, whatever else.
    (limits or Limits()).check_side(size)
    width, height = size  # a tuple even when given as a list
    return replace(settings, size=(width, height))


@dataclass(frozen=True, eq=False)
class Sweep:
    """Scores of every pair at every size.

    Attributes
    ----------
    settings : Settings
        The base settings (their size is the currently selected one).
    sizes : tuple of (width, height)
    images, errors : as in `Comparison`
    ssim, mse : ndarray of float64, shape (sizes, N, N)
    """

    settings: Settings
    sizes: tuple[tuple[int, int], ...]
    images: tuple[ImageInfo, ...]
    errors: tuple[ImageError, ...]
    ssim: np.ndarray
    mse: np.ndarray

    @property
    def names(self) -> list[str]:
        return [image.name for image in self.images]

    def pair_indices(self) -> list[tuple[int, int]]:
        """Index pairs ``(i, j)``, ``i < j``, in input order."""
        count = len(self.images)
        return [(i, j) for i in range(count) for j in range(i + 1, count)]

    def native_width(self, index: int) -> float:
        """The target width from which image ``index`` is upsampled in both directions.

        Sizes in a sweep share one aspect (width / height), so one number places
        an image on the size axis.
        """
        width, height = self.sizes[0]
        image = self.images[index]
        return max(image.width, image.height * width / height)

    def pair_native_width(self, i: int, j: int) -> float:
        """The pair's native size: the smaller of its two images' native widths."""
        return min(self.native_width(i), self.native_width(j))

    def upsampled_from(self, pairs: Sequence[tuple[int, int]] | None = None) -> float:
        """The width from which every image of these pairs (default: all) is upsampled."""
        indices = {k for pair in (pairs or self.pair_indices()) for k in pair}
        return max(self.native_width(k) for k in indices) if indices else math.inf

    @property
    def reference_index(self) -> int:
        """The size every other is judged against: the largest (the last of equals).

        One definition for the CLI, the JSON and the page: the largest size keeps
        the most detail, so it is the order closest to the images' own.
        """
        areas = [width * height for width, height in self.sizes]
        return max(range(len(areas)), key=lambda index: (areas[index], index))

    def kendall_tau(self) -> list[float | None]:
        """Kendall's tau between the pair order at each size and at the reference size.

        None where it is undefined (fewer than two pairs, or all scores tied).
        """
        pairs = self.pair_indices()
        if len(pairs) < 2:
            return [None] * len(self.sizes)
        rows, cols = zip(*pairs, strict=True)
        anchor = self.ssim[self.reference_index][rows, cols]
        taus = []
        for index in range(len(self.sizes)):
            tau = kendalltau(self.ssim[index][rows, cols], anchor).statistic
            taus.append(None if math.isnan(tau) else float(tau))
        return taus

    def stable_span(self) -> tuple[int, int] | None:
        """First and last index of the run of sizes around the reference whose pair
        order agrees with the reference's (Kendall's τ ≥ `STABLE_TAU`); ``None`` when
        the order is undefined (fewer than two pairs, or ties throughout)."""
        taus = self.kendall_tau()
        if taus[self.reference_index] is None:
            return None
        stable = [tau is not None and tau >= STABLE_TAU for tau in taus]
        low = high = self.reference_index
        while low > 0 and stable[low - 1]:
            low -= 1
        while high < len(taus) - 1 and stable[high + 1]:
            high += 1
        return low, high

    def verdict(self) -> str:
        """One sentence on the sizes where the pair order agrees with the reference size's."""
        reference = self.reference_index
        taus = self.kendall_tau()
        label = size_label(self.sizes[reference])
        span = self.stable_span()
        if span is None:
            return "Pair order is undefined: compare at least three images with distinct scores."
        low, high = span
        stable = [tau is not None and tau >= STABLE_TAU for tau in taus]
        if low == high:
            # Stable "only at" the reference would be true of any sweep: say what fails.
            sentence = (
                f"Pair order is not stable: no other size keeps it (Kendall's τ ≥ "
                f"{STABLE_TAU} against the largest size, {label})"
            )
        else:
            sentence = (
                f"Pair order is stable (Kendall's τ ≥ {STABLE_TAU} against the largest size, "
                f"{label}) from {size_label(self.sizes[low])} to {size_label(self.sizes[high])}"
            )
        outside = {
            index: tau for index, tau in enumerate(taus) if not stable[index] and tau is not None
        }
        if outside:
            worst = min(outside, key=outside.__getitem__)
            sentence += (
                f"; it changes most at {size_label(self.sizes[worst])} (τ = {outside[worst]:.2f})"
            )
        return sentence + "."


def sweep(
    inputs: Sequence[ImageSource],
    sizes: Sequence[tuple[int, int]],
    settings: Settings | None = None,
    *,
    progress: ProgressCallback | None = None,
    limits: Limits | None = None,
) -> Sweep:
    """Compare every pair at each size, under otherwise equal settings.

    Parameters
    ----------
    inputs : sequence
        As for `compare`; decoded once.
    sizes : sequence of (width, height)
        Each at least the SSIM window and at most the size bound
        (``Limits.max_side``, 10000 by default) on a side. A repeated size is
        compared once, at its first place.
    settings : Settings, optional
        Everything but the size; defaults to ``Settings()``.
    progress : callable, optional
        Receives a `Progress` as the sizes are compared.
    limits : Limits, optional
        Refuse a sweep whose sizes add up to more work, or a size over their
        ``max_side`` (`LimitError`); each size is compared under them.

    Raises
    ------
    ValueError
        For an empty list of sizes or a size out of range.
    """
    settings = settings or Settings()
    if not sizes:
        raise ValueError("sizes must list at least one size, such as 64,128,256")
    per_size = [settings_at(settings, size, limits) for size in unique_sizes(sizes)]
    max_pixels = checked_max_pixels(limits, len(inputs), *per_size)
    model = model_for(progress)
    decoding = [
        0.0 if isinstance(source, (DecodedImage, ImageError)) else model.decode_seconds()
        for source in inputs
    ]
    costs = [model.estimate_seconds(len(inputs), each, decoded=True) for each in per_size]
    tracker = ProgressTracker(sum(decoding) + sum(costs), progress)
    loaded = []
    for index, source in enumerate(inputs):
        loaded.append(load_image(source, index, max_pixels))
        tracker.advance(decoding[index], f"read {loaded[-1].name}")
    usable = sum(not isinstance(item, ImageError) for item in loaded)
    costs = [model.estimate_seconds(usable, each, decoded=True) for each in per_size]
    tracker.total = tracker.done + sum(costs)
    results: list[Comparison] = []
    for each, share in zip(per_size, costs, strict=True):
        base = tracker.done
        label = size_label(each.size)

        def report(
            step: Progress, base: float = base, share: float = share, label: str = label
        ) -> None:
            tracker.update(base + step.fraction * share, f"{label}: {step.message}")

        # The limits go on: without them compare would hold each size to the default bound.
        results.append(compare(loaded, each, progress=report if progress else None, limits=limits))
    first = results[0]
    return Sweep(
        settings=settings,
        sizes=tuple(each.size for each in per_size),
        images=first.images,
        errors=first.errors,
        ssim=np.stack([result.ssim for result in results]),
        mse=np.stack([result.mse for result in results]),
    )


def size_label(size: tuple[int, int]) -> str:
    """``"64"`` for a square, ``"64×48"`` otherwise."""
    width, height = size
    return str(width) if width == height else f"{width}×{height}"
