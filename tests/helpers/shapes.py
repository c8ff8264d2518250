"""Three classes of simple shapes, for classification tests."""

from __future__ import annotations

import cv2
import numpy as np


def shape(kind: str, seed: int) -> np.ndarray:
    """A white shape on black, slightly moved and noisy: one of three classes."""
    rng = np.random.default_rng(seed)
    image = np.zeros((64, 64), np.uint8)
    dx, dy = rng.integers(-2, 3, 2)
    if kind == "circle":
        cv2.circle(image, (32 + dx, 32 + dy), 18, 255, -1)
    elif kind == "square":
        cv2.rectangle(image, (14 + dx, 14 + dy), (50 + dx, 50 + dy), 255, -1)
    else:
        points = np.array([[32 + dx, 10 + dy], [12 + dx, 52 + dy], [52 + dx, 52 + dy]])
        cv2.fillPoly(image, [points], 255)
    noise = rng.normal(0, 12, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)
