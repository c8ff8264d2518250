"""A generated collection for the Collection view's tests and screenshot.

Smooth random images (noise blurred, so that SSIM means something), some of
them with near-duplicates (the same image with slight noise and a brightness
shift) whose truth is known, in a few subfolders, plus one unreadable file.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

UNREADABLE = "broken.png"


def smooth_image(rng: np.random.Generator, side: int) -> np.ndarray:
    """A smooth colour image: blurred noise stretched to the full range."""
    noise = rng.normal(0, 1, (side, side, 3)).astype(np.float32)
    blurred = cv2.GaussianBlur(noise, (0, 0), side / 16)
    blurred -= blurred.min()
    return (255 * blurred / max(float(blurred.max()), 1e-6)).astype(np.uint8)


def near_copy(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """The image with slight noise and a brightness shift (SSIM about 0.95)."""
    noisy = image.astype(np.int16) + rng.integers(-6, 7, image.shape) + int(rng.integers(-5, 6))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def make_collection(
    folder: Path, singles: int, group_sizes: tuple[int, ...], side: int = 64, seed: int = 0
) -> list[list[str]]:
    """Write a collection into ``folder``; return its near-duplicate groups (names).

    Images go into subfolders ``a/`` and ``b/`` by turns, as PNG; each group's
    first image is the original and the rest near copies of it.
    """
    rng = np.random.default_rng(seed)
    groups = []
    count = 0

    def write(image: np.ndarray) -> str:
        nonlocal count
        name = f"{'ab'[count % 2]}/img-{count:04d}.png"
        count += 1
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
        return name

    for size in group_sizes:
        original = smooth_image(rng, side)
        groups.append(
            [write(original)] + [write(near_copy(rng, original)) for _ in range(size - 1)]
        )
    for _ in range(singles):
        write(smooth_image(rng, side))
    (folder / UNREADABLE).write_bytes(b"not an image at all")
    return groups
