"""Limits on what one request may ask for, so that one user cannot stall the server.

Each limit has a default and an environment variable that changes it; the page
and the CLI both enforce them, with a message naming the limit and the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from imgsim.decoding import DEFAULT_MAX_PIXELS, MAX_PIXELS_VARIABLE
from imgsim.settings import Settings

ENVIRONMENT = {
    "max_pixels": MAX_PIXELS_VARIABLE,
    "max_images": "IMGSIM_MAX_IMAGES",
    "max_work": "IMGSIM_MAX_WORK",
    "max_pairs": "IMGSIM_MAX_PAIRS",
}
DEFAULT_MAX_IMAGES = 200
# Compared values (pixels x channels) times pairs: 6 images at 10000 x 10000 are
# 1.5e9, 200 images at 512 x 512 are 5.2e9 (about 10 s here).
DEFAULT_MAX_WORK = 10_000_000_000
# `neighbours` keeps no N x N matrix; only its pairs at or above --min-ssim can
# grow as N x N (a low threshold on a large set), so they are what is limited.
DEFAULT_MAX_PAIRS = 5_000_000


class LimitError(ValueError):
    """A request over one of the `Limits`; the message says how to raise it."""


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
        Compared values (width x height x channels) times pairs, per request.
    max_pairs : int
        Pairs at or above ``--min-ssim`` kept by `neighbours`.
    """

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_images: int = DEFAULT_MAX_IMAGES
    max_work: int = DEFAULT_MAX_WORK
    max_pairs: int = DEFAULT_MAX_PAIRS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Defaults, overridden by the variables of `ENVIRONMENT` (IMGSIM_MAX_...).

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

    def check(self, image_count: int, *settings: Settings) -> None:
        """Raise `LimitError` when comparing ``image_count`` images is too much.

        Several ``settings`` (the sizes of a sweep) add up their work.
        """
        if image_count > self.max_images:
            raise LimitError(
                f"{image_count} images are more than the limit of {self.max_images} per "
                f"comparison; compare fewer, or raise the limit with the environment "
                f"variable {ENVIRONMENT['max_images']}"
            )
        pairs = image_count * (image_count - 1) // 2
        work = sum(
            each.width * each.height * (1 if each.grayscale else 3) * pairs for each in settings
        )
        if work > self.max_work:
            largest = max(settings, key=lambda each: each.width * each.height)
            raise LimitError(
                f"comparing {image_count} images at {largest.width}x{largest.height} is "
                f"{work:,} value-pairs of work, more than the limit of {self.max_work:,}; "
                f"use a smaller size or fewer images, or raise the limit with the "
                f"environment variable {ENVIRONMENT['max_work']}"
            )


def admit(limits: Limits | None, image_count: int, *settings: Settings) -> int:
    """Check a request against ``limits`` (none: no check); the pixel limit to decode with."""
    if limits is None:
        return DEFAULT_MAX_PIXELS
    limits.check(image_count, *settings)
    return limits.max_pixels
