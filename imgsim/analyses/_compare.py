"""`compare()`: the one entry point that the CLI and the page call.

decode -> prepare -> all-pairs metrics -> `Comparison`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from imgsim.analyses._flags import ImageFlags, image_flags, pair_flags
from imgsim.images import (
    DecodedImage,
    ImageError,
    ImageInfo,
    ImageSource,
    load_image,
    prepare,
    thumbnail,
    unique_names,
)
from imgsim.metrics import PairTerms, Terms, all_pair_terms, score_all_pairs
from imgsim.settings import Limits, Settings, checked_max_pixels, pair_count
from imgsim.timing import ProgressCallback, ProgressTracker, model_for


@dataclass(frozen=True)
class Pair:
    """Scores of images ``i < j``, named ``a`` and ``b``."""

    i: int
    j: int
    a: str
    b: str
    mse: float
    ssim: float
    psnr: float
    terms: Terms | None = None  # luminance, contrast, structure, when asked for
    flags: tuple[str, ...] = ()  # from `imgsim.analyses.FLAGS`: why the score may mislead


@dataclass(frozen=True, eq=False)
class Comparison:
    """Result of `compare`.

    Attributes
    ----------
    settings : Settings
        The settings used.
    images : tuple of ImageInfo
        The images that were compared, in input order.
    errors : tuple of ImageError
        Inputs that could not be used, in input order.
    mse, ssim, psnr : ndarray of float64, shape (N, N)
        Scores of every pair; diagonals are 0, 1 and inf.
    thumbnails : tuple of ndarray of uint8
        What the metrics compared, shrunk to fit 256 x 256 where larger.
    terms : PairTerms or None
        Every pair's luminance, contrast and structure (`imgsim.metrics._terms`), when
        `compare` was asked for them (``terms=True``).
    image_flags : tuple of ImageFlags
        Each compared image's enlargement and smooth share at these settings,
        in the order of ``images``; `flags` gives a pair's flags from them.
    """

    settings: Settings
    images: tuple[ImageInfo, ...]
    errors: tuple[ImageError, ...]
    mse: np.ndarray
    ssim: np.ndarray
    psnr: np.ndarray
    thumbnails: tuple[np.ndarray, ...]
    terms: PairTerms | None = None
    image_flags: tuple[ImageFlags, ...] = ()

    @property
    def names(self) -> list[str]:
        return [image.name for image in self.images]

    def flags(self, i: int, j: int) -> tuple[str, ...]:
        """The flags of images ``i`` and ``j`` (`imgsim.analyses.FLAGS`), ``()`` for none."""
        if not self.image_flags:
            return ()
        return pair_flags(self.image_flags[i], self.image_flags[j])

    def pairs(self) -> list[Pair]:
        """Every pair ``i < j`` in input order."""
        names = self.names
        return [
            Pair(
                i,
                j,
                names[i],
                names[j],
                float(self.mse[i, j]),
                float(self.ssim[i, j]),
                float(self.psnr[i, j]),
                None if self.terms is None else self.terms.of(i, j),
                self.flags(i, j),
            )
            for i in range(len(names))
            for j in range(i + 1, len(names))
        ]


def compare(
    inputs: Sequence[ImageSource],
    settings: Settings | None = None,
    *,
    progress: ProgressCallback | None = None,
    limits: Limits | None = None,
    terms: bool = False,
    **changes: Any,
) -> Comparison:
    """Compare every pair of images with MSE, SSIM and PSNR.

    Parameters
    ----------
    inputs : sequence
        Paths, bytes, arrays, ``(name, bytes or array)`` tuples, or results of
        `load_image`. Inputs that cannot be read are reported in
        ``Comparison.errors``; the others are still compared.
    settings : Settings, optional
        Defaults to ``Settings()``.
    progress : callable, optional
        Receives a `Progress` after each step.
    limits : Limits, optional
        Refuse requests over these limits (`LimitError`) and larger images.
    terms : bool
        Also give every pair's luminance, contrast and structure
        (`Comparison.terms`). They cost several times the scores (measured
        in BENCHMARKS.md), so they are made only when asked for.
    **changes
        Setting fields to override, e.g. ``size=(128, 128), grayscale=False``.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        For invalid settings (such as a size smaller than the SSIM window), or
        a `LimitError` for a request over ``limits``.
    """
    settings = replace(settings or Settings(), **changes)
    max_pixels = checked_max_pixels(limits, len(inputs), settings)
    model = model_for(progress)
    image_works = [
        model.preparation_seconds(
            settings, decode=not isinstance(source, (DecodedImage, ImageError))
        )
        for source in inputs
    ]
    # Work is counted in expected seconds on this machine, so the bar and the
    # time left move evenly in time.
    term_work = model.terms_seconds(len(inputs), settings) if terms else 0.0
    tracker = ProgressTracker(
        sum(image_works) + model.engine_seconds(len(inputs), settings) + term_work, progress
    )
    names: list[str] = []
    compared: list[tuple[int, ImageInfo]] = []
    failed: list[tuple[int, ImageError]] = []
    prepared: list[np.ndarray] = []
    thumbnails: list[np.ndarray] = []
    flags: list[ImageFlags] = []
    started = time.perf_counter()
    for index, source in enumerate(inputs):
        # One image at a time: its decoded pixels are dropped once prepared.
        item = load_image(source, index, max_pixels)
        names.append(item.name)
        if isinstance(item, ImageError):
            failed.append((index, item))
            tracker.advance(image_works[index], f"could not read {item.name}")
            continue
        compared.append((index, ImageInfo(item.name, item.width, item.height, item.log)))
        prepared.append(prepare(item, settings))
        flags.append(image_flags((item.width, item.height), prepared[-1], settings))
        # Here, not after the engine: it is timed (and reported) with the image.
        thumbnails.append(thumbnail(prepared[-1]))
        del item
        tracker.advance(image_works[index], f"prepared {names[-1]}")
    model.record("prepare", sum(image_works), time.perf_counter() - started)
    names = unique_names(names)
    base = tracker.done
    work = model.engine_seconds(len(prepared), settings)
    term_work = model.terms_seconds(len(prepared), settings) if terms else 0.0
    tracker.total = base + work + term_work
    pairs = pair_count(len(prepared))

    def on_pairs(fraction: float) -> None:
        tracker.update(base + fraction * work, f"comparing {pairs} pairs")

    started = time.perf_counter()
    scores = score_all_pairs(prepared, settings.ssim_convention, on_pairs)
    model.record("engine", work, time.perf_counter() - started)
    pair_terms = None
    if terms:

        def on_terms(fraction: float) -> None:
            message = f"luminance, contrast and structure of {pairs} pairs"
            tracker.update(base + work + fraction * term_work, message)

        started = time.perf_counter()
        pair_terms = all_pair_terms(prepared, settings.ssim_convention, on_terms)
        model.record("terms", term_work, time.perf_counter() - started)
    if pairs:
        tracker.update(tracker.total, f"compared {pairs} pairs")
    return Comparison(
        settings=settings,
        images=tuple(replace(info, name=names[index]) for index, info in compared),
        errors=tuple(replace(error, name=names[index]) for index, error in failed),
        mse=scores.mse,
        ssim=scores.ssim,
        psnr=scores.psnr,
        thumbnails=tuple(thumbnails),
        terms=pair_terms,
        image_flags=tuple(flags),
    )
