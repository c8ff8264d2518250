"""Turn a decoded image into exactly what the metrics compare.

The order reproduces the original tutorial: flatten alpha, fit to the target
aspect, resize with OpenCV, then (optionally) convert to OpenCV's luma.
"""

from __future__ import annotations

import cv2
import numpy as np

from imgsim.images._decode import DecodedImage
from imgsim.settings import Settings

INTERPOLATION = {
    "linear": cv2.INTER_LINEAR,
    "area": cv2.INTER_AREA,
    "cubic": cv2.INTER_CUBIC,
    "nearest": cv2.INTER_NEAREST,
    "lanczos": cv2.INTER_LANCZOS4,
}


def prepare(image: DecodedImage, settings: Settings) -> np.ndarray:
    """Flatten, fit, resize and (optionally) gray an image for comparison.

    Parameters
    ----------
    image : DecodedImage
    settings : Settings

    Returns
    -------
    ndarray of uint8
        Shape ``(height, width)`` when ``settings.grayscale``, else
        ``(height, width, 3)`` in RGB order.
    """
    rgb = flatten_alpha(image, settings)
    fitted = fit(rgb, settings)
    if settings.grayscale:
        return cv2.cvtColor(fitted, cv2.COLOR_RGB2GRAY)
    return fitted


def flatten_alpha(image: DecodedImage, settings: Settings) -> np.ndarray:
    """Composite transparent pixels on the background colour.

    With ``settings.alpha == "ignore"`` the stored colours are kept, as
    ``cv2.imread`` does.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
    """
    if image.alpha is None or settings.alpha == "ignore":
        return image.rgb
    alpha = image.alpha.astype(np.uint32)[:, :, None]
    background = np.array(settings.background, dtype=np.uint32)
    # Integer rounding of rgb * a + bg * (1 - a), with a = alpha / 255.
    mixed = image.rgb.astype(np.uint32) * alpha + background * (255 - alpha) + 127
    return (mixed // 255).astype(np.uint8)


def fit(rgb: np.ndarray, settings: Settings) -> np.ndarray:
    """Bring an RGB image to ``settings.size`` with the chosen fit mode.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (H, W, 3)
    settings : Settings

    Returns
    -------
    ndarray of uint8, shape (settings.height, settings.width, 3)
    """
    width, height = settings.size
    interpolation = INTERPOLATION[settings.interp]
    source_height, source_width = rgb.shape[:2]
    if settings.fit == "crop":
        x, y, crop_width, crop_height = centre_crop_box(
            (source_width, source_height), settings.size
        )
        rgb = rgb[y : y + crop_height, x : x + crop_width]
    elif settings.fit == "pad":
        x, y, inner_width, inner_height = letterbox_box(
            (source_width, source_height), settings.size
        )
        canvas = np.empty((height, width, 3), dtype=np.uint8)
        canvas[:] = settings.background
        canvas[y : y + inner_height, x : x + inner_width] = cv2.resize(
            rgb, (inner_width, inner_height), interpolation=interpolation
        )
        return canvas
    return cv2.resize(rgb, (width, height), interpolation=interpolation)


def centre_crop_box(source: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest centred ``(x, y, width, height)`` box with the target's aspect."""
    (source_width, source_height), (width, height) = source, target
    if source_width * height > source_height * width:
        crop_width = max(1, round(source_height * width / height))
        crop_height = source_height
    else:
        crop_width = source_width
        crop_height = max(1, round(source_width * height / width))
    return (
        (source_width - crop_width) // 2,
        (source_height - crop_height) // 2,
        crop_width,
        crop_height,
    )


def letterbox_box(source: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The ``(x, y, width, height)`` box of the image inside the letterbox.

    The same order as `centre_crop_box`: offset first, then size.
    """
    (source_width, source_height), (width, height) = source, target
    scale = min(width / source_width, height / source_height)
    inner_width = min(width, max(1, round(source_width * scale)))
    inner_height = min(height, max(1, round(source_height * scale)))
    return (
        (width - inner_width) // 2,
        (height - inner_height) // 2,
        inner_width,
        inner_height,
    )


def enlargement(source: tuple[int, int], settings: Settings) -> float:
    """How many times `fit` enlarges an image of ``source`` ``(width, height)``.

    The larger of the two axes' linear scale factors, for the part of the image
    that is kept (the centre crop under ``fit="crop"``, the letterbox's inner
    box under ``fit="pad"``): 4.0 means each source pixel covers about 4 x 4
    compared pixels; below 1 the image is shrunk.

    Parameters
    ----------
    source : (int, int)
        The decoded image's ``(width, height)``, both at least 1.
    settings : Settings
        Its ``size`` and ``fit`` decide the scale.

    Returns
    -------
    float
    """
    source_width, source_height = source
    if source_width < 1 or source_height < 1:
        raise ValueError(
            f"an image size must be at least 1 x 1; got {source_width} x {source_height}"
        )
    width, height = settings.size
    if settings.fit == "crop":
        _, _, kept_width, kept_height = centre_crop_box(source, settings.size)
    elif settings.fit == "pad":
        _, _, width, height = letterbox_box(source, settings.size)
        kept_width, kept_height = source
    else:
        kept_width, kept_height = source
    return max(width / kept_width, height / kept_height)


THUMBNAIL_SIDE = 256


def thumbnail(image: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """Shrink an image to fit ``side`` x ``side`` (never enlarged)."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
