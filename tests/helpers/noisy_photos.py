"""A collection for `neighbours`: six gray photos with more and more noise, as PNGs."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import numpy as np
import skimage.color
import skimage.data
import skimage.util

from tests.helpers.images import encode


@functools.cache
def gray_photos() -> tuple[np.ndarray, ...]:
    """Six photos from skimage.data in gray (loaded once: callers must not write to them)."""
    gray = [
        skimage.data.camera(),
        skimage.data.coins(),
        skimage.data.moon(),
        skimage.data.page(),
        skimage.color.rgb2gray(skimage.data.chelsea()),
        skimage.color.rgb2gray(skimage.data.coffee()),
    ]
    photos = tuple(skimage.util.img_as_ubyte(photo) for photo in gray)
    for photo in photos:
        photo.flags.writeable = False
    return photos


def write_collection(folder: Path, count: int, seed: int = 0, first: int = 0) -> list[Path]:
    """``count`` PNGs: the six photos with more and more noise, named img-NNN.png."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = gray_photos()
    paths = []
    for index in range(first, first + count):
        photo = photos[index % len(photos)].astype(float)
        noisy = photo + rng.normal(0, 4 + 3 * index, photo.shape)
        path = folder / f"img-{index:03d}.png"
        path.write_bytes(encode(np.clip(noisy, 0, 255).astype(np.uint8), "PNG"))
        paths.append(path)
    return paths


def collection_with_a_copy(folder: Path) -> list[Path]:
    """13 noisy photos and an exact copy of the first (img-copy.png)."""
    paths = write_collection(folder, 13)
    copy = folder / "img-copy.png"
    shutil.copyfile(paths[0], copy)
    return [*paths, copy]
