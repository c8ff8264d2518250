"""Limits on what one request may ask for, so that one user cannot stall the server.

Each limit has a default and an environment variable that changes it; the page
and the CLI both enforce them, with a message naming the limit and the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from imgsim.settings._settings import Settings
from imgsim.settings._work import largest_size, work

# 10000 x 10000, the size the original tutorial resized to. Pillow's own guard
# (about 89 MP) would warn below this and refuse at twice its value.
DEFAULT_MAX_PIXELS = 100_000_000
MAX_PIXELS_VARIABLE = "IMGSIM_MAX_PIXELS"  # where the page and the CLI read the limit

ENVIRONMENT = {
    "max_pixels": MAX_PIXELS_VARIABLE,
    "max_images": "IMGSIM_MAX_IMAGES",
    "max_work": "IMGSIM_MAX_WORK",
    "max_side": "IMGSIM_MAX_SIDE",
    "max_pairs": "IMGSIM_MAX_PAIRS",
    "max_cache_bytes": "IMGSIM_MAX_CACHE_BYTES",
}
DEFAULT_MAX_IMAGES = 200
# `work`: 6 images at 10000 x 10000 are 3.3e9, 200 images at
# 512 x 512 are 5.4e9 (about 10 s here).
DEFAULT_MAX_WORK = 10_000_000_000
# The original tutorial's 10000 x 10000; one colour resize is then 300 MB.
DEFAULT_MAX_SIDE = 10000
# `neighbours` keeps no N x N matrix; only its pairs at or above --min-ssim can
# grow as N x N (a low threshold on a large set), so they are what is limited.
DEFAULT_MAX_PAIRS = 5_000_000
# The prepared images one collection index keeps on disk: 20 GB are 25,000
# photos at the default 512 x 512 in colour (786 KB each).
DEFAULT_MAX_CACHE_BYTES = 20_000_000_000


class LimitError(ValueError):
    """A request over one of the `Limits`; the message says how to raise it.

    Parameters
    ----------
    reason : str
        What is over which limit and what to ask for instead.
    limit : str, optional
        The `Limits` field that refused (``"max_work"``): the message then ends
        by naming its environment variable, for whoever runs imgsim.

    Attributes
    ----------
    reason : str
        The message without the environment variable: what the page tells a
        visitor, who cannot change the server's environment.
    limit : str or None
    """

    def __init__(self, reason: str, limit: str | None = None) -> None:
        if limit is not None and limit not in ENVIRONMENT:
            raise ValueError(f"limit must be one of {', '.join(ENVIRONMENT)}; got {limit!r}")
        raise_it = (
            ""
            if limit is None
            else f", or raise the limit with the environment variable {ENVIRONMENT[limit]}"
        )
        super().__init__(reason + raise_it)
        self.reason = reason
        self.limit = limit

    def __reduce__(self) -> tuple[type[LimitError], tuple[str, str | None]]:
        # Pickled (by a process pool, a cache) with its parts, not the joined message.
        return (type(self), (self.reason, self.limit))


@dataclass(frozen=True)
class Limits:
    """The limits in force.

    Attributes
    ----------
    max_pixels : int
        Pixels of one decoded image (checked from the file's header).
    max_images : int
        Images in one comparison.
    max_work : int
        `imgsim.settings.work` of one request (all sizes of a sweep together).
    max_side : int
        Target width and height, checked before anything is allocated.
    max_pairs : int
        Pairs at or above ``--min-ssim`` kept by `neighbours`.
    max_cache_bytes : int
        Prepared images that one collection index of the page may keep in the
        cache, estimated before it starts.
    """

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_images: int = DEFAULT_MAX_IMAGES
    max_work: int = DEFAULT_MAX_WORK
    max_side: int = DEFAULT_MAX_SIDE
    max_pairs: int = DEFAULT_MAX_PAIRS
    max_cache_bytes: int = DEFAULT_MAX_CACHE_BYTES

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Defaults, overridden by IMGSIM_MAX_PIXELS, _IMAGES, _WORK, _SIDE, _PAIRS
        and _CACHE_BYTES.

        Raises
        ------
        ValueError
            For a variable that is not a positive whole number.
        """
        environ = os.environ if environ is None else environ
        values = {}
        for field, variable in ENVIRONMENT.items():
            text = environ.get(variable)
            if text is None or not text.strip():
                continue
            try:
                value = int(text.replace("_", "").strip())
            except ValueError:
                value = 0
            if value < 1:
                raise ValueError(f"{variable} must be a positive whole number; got {text!r}")
            values[field] = value
        return cls(**values)

    def check_size(self, *settings: Settings) -> None:
        """Raise `LimitError` for a target size over ``max_side``."""
        for each in settings:
            self.check_side(each.size)

    def check_side(self, size: tuple[int, int]) -> None:
        """Raise `LimitError` when ``(width, height)`` is over ``max_side`` on a side."""
        width, height = size
        if max(width, height) > self.max_side:
            raise LimitError(
                f"size {width}x{height} is larger than {self.max_side} on a side, the "
                "limit; choose a smaller size",
                "max_side",
            )

    def check(self, image_count: int, *settings: Settings) -> None:
        """Raise `LimitError` when comparing ``image_count`` images is too much.

        Several ``settings`` (the sizes of a sweep) add up their work.
        """
        self.check_size(*settings)
        if image_count > self.max_images:
            raise LimitError(
                f"{image_count} images are more than the limit of {self.max_images} per "
                "comparison; compare fewer",
                "max_images",
            )
        total = work(image_count, *settings)
        if total > self.max_work:
            largest = max(settings, key=lambda each: each.width * each.height)
            raise LimitError(
                f"comparing {image_count} images at {largest.width}x{largest.height} is "
                f"{total:,} values of work, more than the limit of {self.max_work:,}; "
                "use a smaller size or fewer images",
                "max_work",
            )

    def allows(self, image_count: int, *settings: Settings) -> bool:
        """Whether `check` lets comparing ``image_count`` images at ``settings`` run."""
        try:
            self.check(image_count, *settings)
        except LimitError:
            return False
        return True

    def largest_size(self, image_count: int, settings: Settings) -> tuple[int, int] | None:
        """The largest size with the aspect of ``settings.size`` that these limits
        allow for ``image_count`` images (`imgsim.settings.largest_size`).

        Returns
        -------
        (int, int) or None
            ``(width, height)``, at least the convention's minimum on each side;
            ``settings.size`` itself when it is allowed; None when no size is
            (more than ``max_images`` images).
        """
        return largest_size(settings, lambda trial: self.allows(image_count, trial))


def checked_max_pixels(limits: Limits | None, image_count: int, *settings: Settings) -> int:
    """Check a request against ``limits``; return the pixel limit to decode with.

    Without ``limits`` only the default size bound is checked (no request may
    allocate images larger than it), and the default pixel limit is returned.
    """
    if limits is None:
        Limits().check_size(*settings)
        return DEFAULT_MAX_PIXELS
    limits.check(image_count, *settings)
    return limits.max_pixels
