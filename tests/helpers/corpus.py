"""A corpus of hostile and awkward files, made on the fly (no binary fixtures).

Each entry is a file name, its bytes and what must happen: either it is
compared (and some are checked against a twin), or it is refused with a reason.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import cv2
import numpy as np
import skimage.data
from PIL import Image

from tests.helpers.images import encode, png_header_only


@dataclass(frozen=True)
class Entry:
    name: str
    data: bytes
    refused: str | None = None  # part of the reason when the file must be refused


@dataclass(frozen=True)
class Twin:
    """Two files of the corpus that must score at least ``ssim`` against each other."""

    first: str
    second: str
    ssim: float


def exif_rotated(picture: np.ndarray, orientation: int) -> bytes:
    stored = np.rot90(picture, 1 if orientation == 6 else -1)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(np.ascontiguousarray(stored), "JPEG", quality=95, exif=exif)


def large_photo() -> bytes:
    """An 8000 x 6000 JPEG: a smooth, photo-like picture, a few MB on disk."""
    small = cv2.resize(skimage.data.coffee(), (800, 600), interpolation=cv2.INTER_AREA)
    big = cv2.resize(small, (8000, 6000), interpolation=cv2.INTER_CUBIC)
    ok, data = cv2.imencode(".jpg", big[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()


@functools.cache
def build() -> tuple[tuple[Entry, ...], tuple[Twin, ...]]:
    """The corpus (made once a session: entries and twins are immutable)."""
    chelsea = skimage.data.chelsea()
    rng = np.random.default_rng(7)
    png, jpeg = encode(chelsea, "PNG"), encode(chelsea, "JPEG", quality=95)

    rgba = np.dstack([chelsea, np.full(chelsea.shape[:2], 255, np.uint8)])
    rgba[:, :150, 3] = 0  # the left third fully transparent
    palette = Image.fromarray(chelsea).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    gray = cv2.cvtColor(chelsea, cv2.COLOR_RGB2GRAY)
    gray_alpha = Image.fromarray(
        np.dstack([gray, np.where(gray > 100, 255, 0)]).astype(np.uint8), "LA"
    )
    frames = [Image.fromarray(chelsea), Image.fromarray(255 - chelsea)]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:], duration=200)
    first_frame = np.asarray(Image.open(io.BytesIO(animated.getvalue())).convert("RGB"))
    float_values = chelsea[:, :, 1].astype(np.float32) / 255

    entries = [
        Entry("empty.png", b"", refused="the file is empty"),
        Entry("random.png", rng.bytes(4096), refused="not a readable image"),
        Entry("notes.jpg", b"These are my holiday notes, not a photo.\n", refused="a text file"),
        Entry("truncated.png", png[: len(png) // 3], refused="truncated"),
        Entry("truncated.jpg", jpeg[: len(jpeg) // 3], refused="truncated"),
        Entry("bomb.png", png_header_only(50000, 50000), refused="image is too large"),
        Entry(
            "drawing.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<rect width="10" height="10"/></svg>',
            refused="an SVG",
        ),
        Entry("tiny.png", encode(np.array([[[200, 30, 30]]], np.uint8), "PNG")),
        Entry("source.png", png),
        Entry(
            "deep.png",
            cv2.imencode(".png", chelsea[:, :, ::-1].astype(np.uint16) * 257)[1].tobytes(),
        ),
        Entry("transparent.png", encode(rgba, "PNG")),
        Entry("palette-transparent.png", encode(palette, "PNG", transparency=0)),
        Entry("cmyk.jpg", encode(Image.fromarray(chelsea).convert("CMYK"), "JPEG", quality=95)),
        Entry("animated.gif", animated.getvalue()),
        Entry("first-frame.png", encode(first_frame, "PNG")),
        Entry("upright.jpg", jpeg),
        Entry("rotated-6.jpg", exif_rotated(chelsea, 6)),
        Entry("rotated-8.jpg", exif_rotated(chelsea, 8)),
        Entry("float.tif", encode(Image.fromarray(float_values, "F"), "TIFF")),
        Entry("gray-alpha.png", encode(gray_alpha, "PNG")),
        Entry("SHOUTING.PNG", png),
        Entry("actually-a-png.jpg", png),
        Entry("čaj-日本-фото.png", png),
        Entry("large-8000x6000.jpg", large_photo()),
    ]
    twins = [
        Twin("rotated-6.jpg", "upright.jpg", 0.99),
        Twin("rotated-8.jpg", "upright.jpg", 0.99),
        Twin("deep.png", "source.png", 0.99),
        Twin("cmyk.jpg", "source.png", 0.95),
        Twin("animated.gif", "first-frame.png", 0.999),
        Twin("SHOUTING.PNG", "source.png", 1.0),
        Twin("actually-a-png.jpg", "source.png", 1.0),
        Twin("čaj-日本-фото.png", "source.png", 1.0),
    ]
    return tuple(entries), tuple(twins)
