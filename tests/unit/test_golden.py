"""Golden values: imgsim's SSIM and MS-SSIM on fixed inputs, pinned to 1e-12.

Every other test of the scores compares imgsim with scikit-image (or, for
MS-SSIM, with tests/unit/metrics/reference_msssim.py) at run time, within
1e-6. Those tests cannot see a change that both sides share, such as a new
scikit-image whose defaults moved, nor a change of imgsim's own numbers
smaller than their tolerance. These numbers are written down instead, as
scikit-image's own ``test_mssim_vs_legacy`` pins the values of an earlier
release.

Provenance: computed once with imgsim 0.1.0 (this commit's engine), numpy
2.4.6, numba 0.68.1, opencv-python-headless 5.0.0 and scikit-image 0.26.0
(whose ``skimage.data`` gives the inputs). The comment beside each value is
the reference computed from the same inputs then: scikit-image 0.26.0's
``structural_similarity`` (data_range=255; for "gaussian" also
gaussian_weights=True, sigma=1.5, use_sample_covariance=False), or for
MS-SSIM the float64 implementation of the published formula in
tests/unit/metrics/reference_msssim.py. They differ from imgsim's by about
1e-8, the engine's float32 rounding, well within its 1e-6 bound.

The inputs are made with NumPy alone (slicing and an integer 3 x 3 box blur),
so no resize or filter of another library can move them, and their SHA-256
is pinned too: if ``skimage.data`` ever changes an image, the digest says so
before any score does. Should a value change on purpose, recompute it, and
say why in the commit.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import skimage.data

import imgsim

TOLERANCE = 1e-12


def box_blur(image: np.ndarray) -> np.ndarray:
    """The rounded mean of each pixel's 3 x 3 neighbourhood (edges repeated), in integers."""
    pad = [(1, 1), (1, 1)] + [(0, 0)] * (image.ndim - 2)
    padded = np.pad(image.astype(np.int32), pad, mode="edge")
    height, width = image.shape[:2]
    total = sum(padded[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3))
    return ((total + 4) // 9).astype(np.uint8)


def camera(step: int) -> np.ndarray:
    """scikit-image's camera (512 x 512, gray), every ``step``-th row and column."""
    return np.ascontiguousarray(skimage.data.camera()[::step, ::step])


def inputs(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "camera 128 vs its blur":
        small = camera(4)
        return small, box_blur(small)
    if name == "camera 512 vs its blur":
        return camera(1), box_blur(camera(1))
    if name == "astronaut vs coffee, 128 colour":
        astronaut = skimage.data.astronaut()[::4, ::4]
        coffee = skimage.data.coffee()[4:388:3, 108:492:3]
        return np.ascontiguousarray(astronaut), np.ascontiguousarray(coffee)
    if name == "astronaut vs coffee, 256 colour":
        astronaut = skimage.data.astronaut()[::2, ::2]
        coffee = skimage.data.coffee()[:256, 172:428]
        return np.ascontiguousarray(astronaut), np.ascontiguousarray(coffee)
    raise ValueError(name)


# The first 16 hex digits of each input's SHA-256 (its bytes in C order).
DIGESTS = {
    "camera 128 vs its blur": ("41fa5be23fb78284", "ca0e48bb58d09aa3"),
    "camera 512 vs its blur": ("5cb24482a53416f9", "8db3a9680c42f47b"),
    "astronaut vs coffee, 128 colour": ("c02cec35dbda5ce0", "2cd994c5cc77351d"),
    "astronaut vs coffee, 256 colour": ("39bef4e7a9c11707", "d75f3f4b52144b56"),
}

GOLDEN = [
    # (inputs, convention, imgsim's value)  # the reference's value, as above
    ("camera 128 vs its blur", "skimage", 0.7343346389877039),  # 0.7343346291198048
    ("camera 128 vs its blur", "gaussian", 0.7217665950381431),  # 0.7217665945273626
    ("astronaut vs coffee, 128 colour", "skimage", 0.06233848163702623),  # 0.062338480395569294
    ("astronaut vs coffee, 128 colour", "gaussian", 0.07240901998696474),  # 0.07240901989991848
    ("camera 512 vs its blur", "ms-ssim", 0.9799242496035232),  # 0.9799242482941813
    ("astronaut vs coffee, 256 colour", "ms-ssim", 0.10834462927090967),  # 0.1083446294566084
]


@pytest.mark.parametrize("name", DIGESTS)
def test_the_inputs_are_the_images_the_values_were_computed_on(name):
    digests = tuple(hashlib.sha256(image.tobytes()).hexdigest()[:16] for image in inputs(name))
    assert digests == DIGESTS[name], "skimage.data changed an image: recompute GOLDEN"


@pytest.mark.parametrize(("name", "convention", "value"), GOLDEN)
def test_ssim_keeps_its_golden_value(name, convention, value):
    first, second = inputs(name)
    assert imgsim.ssim(first, second, convention) == pytest.approx(value, abs=TOLERANCE, rel=0)
    assert imgsim.ssim(second, first, convention) == pytest.approx(value, abs=TOLERANCE, rel=0)


def test_all_pairs_gives_the_golden_values_of_its_pairs():
    """The same numbers from `compare`'s engine on three images at once (as arrays,
    so no decoding or resizing is involved)."""
    first, second = inputs("camera 128 vs its blur")
    third = np.ascontiguousarray(first[::-1])
    scores = imgsim.metrics.score_all_pairs([first, second, third], "gaussian")
    assert scores.ssim[0, 1] == pytest.approx(0.7217665950381431, abs=TOLERANCE, rel=0)
