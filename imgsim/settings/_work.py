"""The one work formula: what the limits count and the time model scales.

Work is values allocated and compared, the same for the API, the CLI and the
page; it depends only on the settings and the number of images.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from imgsim.settings._settings import MS_SSIM_SCALES, Settings

COLOUR_CHANNELS = 3


def scale_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """(width, height) of each scale, from the full size down."""
    sizes = [(width, height)]
    for _ in range(MS_SSIM_SCALES - 1):
        width, height = -(-width // 2), -(-height // 2)
        sizes.append((width, height))
    return sizes


def compared_values(settings: Settings) -> int:
    """Values (pixels x channels) of one prepared image: what the engine compares."""
    return settings.width * settings.height * (1 if settings.grayscale else COLOUR_CHANNELS)


def scored_values(settings: Settings) -> int:
    """Values the engine scores per image: every scale's for MS-SSIM (about 4/3 x)."""
    if settings.ssim_convention != "ms-ssim":
        return compared_values(settings)
    channels = 1 if settings.grayscale else COLOUR_CHANNELS
    return channels * sum(width * height for width, height in scale_sizes(*settings.size))


def prepared_values(settings: Settings) -> int:
    """Values allocated to prepare one image: the colour resize, made before any grayscale."""
    return settings.width * settings.height * COLOUR_CHANNELS


def pair_count(image_count: int) -> int:
    """Pairs i < j among ``image_count`` images."""
    return image_count * (image_count - 1) // 2


def work(image_count: int, *settings: Settings) -> int:
    """The work of comparing ``image_count`` images at each of ``settings`` (summed).

    Per size: scored values x pairs, plus prepared (colour) values x images,
    so a grayscale comparison of huge images counts the colour resize it
    really allocates, and MS-SSIM its coarser scales (`scored_values`).
    """
    pairs = pair_count(image_count)
    return sum(
        scored_values(each) * pairs + prepared_values(each) * image_count for each in settings
    )


def largest_size(settings: Settings, fits: Callable[[Settings], bool]) -> tuple[int, int] | None:
    """The largest size, with the aspect of ``settings.size``, at which ``fits`` holds.

    Sizes are counted by their longer side, from the smallest the convention
    accepts up to the size of ``settings``; the shorter side keeps the aspect
    (rounded, as the sweep rounds a kept aspect). ``fits`` must hold at every
    side below one where it holds, as the limits do (work, memory and the side
    bound all grow with the size); the search calls it about log2(side) times.

    Parameters
    ----------
    settings : Settings
        The refused settings: their size gives the aspect and the upper bound,
        the other settings are kept in every trial.
    fits : callable
        ``fits(trial)`` for trial `Settings` differing from ``settings`` only
        in size: whether that request may run.

    Returns
    -------
    (int, int) or None
        ``(width, height)``: it fits, and the next longer side up does not
        (or it is the size of ``settings``). None when not even the smallest
        size fits (too many images, say: no size helps).
    """
    minimum = settings.min_side
    longer, shorter = max(settings.size), min(settings.size)

    def size_at(side: int) -> tuple[int, int]:
        other = round(side * shorter / longer)
        return (side, other) if settings.width >= settings.height else (other, side)

    def allowed(side: int) -> bool:
        return fits(replace(settings, size=size_at(side)))

    # The smallest longer side whose shorter side is not below the convention's minimum.
    low, high = minimum, longer
    while low < high:
        middle = (low + high) // 2
        if min(size_at(middle)) >= minimum:
            high = middle
        else:
            low = middle + 1
    if not allowed(low):
        return None
    high = longer
    while low < high:  # allowed(low) holds; find the last side where it does
        middle = (low + high + 1) // 2
        if allowed(middle):
            low = middle
        else:
            high = middle - 1
    return size_at(low)
