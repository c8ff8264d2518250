"""A small collection that raises every information flag, and the flags made
independently of the code under test (decoded and prepared here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage import data

from imgsim import Settings
from imgsim.analyses import ImageFlags, image_flags
from imgsim.images import load_image, prepare
from tests.helpers.images import encode

SIDE = 64  # the images' side, and the size to compare them at


def smooth_copy(rng: np.random.Generator, level: int) -> np.ndarray:
    """A gentle gradient with faint noise: every 7 x 7 window's variance is below C2."""
    gradient = np.linspace(level, level + 30, SIDE)[None, :] * np.ones((SIDE, 1))
    return np.clip(gradient + rng.normal(0, 1.5, gradient.shape), 0, 255).astype(np.uint8)


def photo_copy(rng: np.random.Generator) -> np.ndarray:
    """The camera at 64 x 64 with slight noise: a textured near-duplicate."""
    camera = data.camera()[::8, ::8].astype(float)
    return np.clip(camera + rng.normal(0, 2, camera.shape), 0, 255).astype(np.uint8)


def flagged_images(seed: int = 0) -> dict[str, np.ndarray]:
    """Three smooth near-copies (SSIM about 0.93), two photo near-copies (about
    0.97), a 5-px image (tiny, upsampled) and one twice as wide (size-mismatch)."""
    rng = np.random.default_rng(seed)
    return {
        **{f"smooth-{i}.png": smooth_copy(rng, 100 + 3 * i) for i in range(3)},
        **{f"photo-{i}.png": photo_copy(rng) for i in range(2)},
        "tiny.png": rng.integers(0, 256, (5, 5), dtype=np.uint8),
        "wide.png": data.camera()[::4, ::2].copy(),
    }


def write_flagged(folder: Path, seed: int = 0) -> list[Path]:
    """`flagged_images` as PNGs in ``folder``, in that order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in flagged_images(seed).items():
        path = folder / name
        path.write_bytes(encode(image, "PNG"))
        paths.append(path)
    return paths


def independent_flags(paths: list[Path], settings: Settings) -> list[ImageFlags]:
    """`image_flags` of each file, decoded and prepared here."""
    flags = []
    for index, path in enumerate(paths):
        decoded = load_image(path, index, 10**8)
        prepared = prepare(decoded, settings)
        flags.append(image_flags((decoded.width, decoded.height), prepared, settings))
    return flags
