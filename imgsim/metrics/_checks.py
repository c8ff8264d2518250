"""The one check of what the metrics take: prepared ``uint8`` images of one shape."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_images(images: Sequence[np.ndarray]) -> None:
    """Raise unless the images are ``uint8`` arrays of one (H, W) or (H, W, C) shape."""
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise ValueError(
            f"images must all have the same shape; got {sorted(shapes)}. "
            "Prepare them with the same Settings first."
        )
    if any(image.dtype != np.uint8 for image in images):
        raise ValueError(
            "images must be uint8; decode them with imgsim.decode or imgsim.from_array first"
        )
    if images and images[0].ndim not in (2, 3):
        raise ValueError(f"images must be (H, W) or (H, W, C); got shape {images[0].shape}")
