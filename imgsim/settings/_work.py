"""The one work formula: what the limits count and the time model scales.

Work is values allocated and compared, the same for the API, the CLI and the
page; it depends only on the settings and the number of images.
"""

from __future__ import annotations

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
