"""Built-in sample sets, made from images that scikit-image installs.

Nothing is downloaded: the photos are files in ``skimage.data``'s folder and
the "equal MSE" set is generated from its camera image, deterministically.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from PIL import Image

from imgsim.metrics import mse

EQUAL_MSE = "Equal MSE, different SSIM"
PHOTOS = "Photos"
SPOT_THE_DIFFERENCE = "Spot the difference"
FACES = "Faces and other patches (labelled)"
PASTED_LOGO = "Pasted logo"
FACES_PER_CLASS = 50

PHOTO_FILES = (
    "chelsea.png",
    "coffee.png",
    "astronaut.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "motorcycle_right.png",
)

# JPEG quality of the compressed copy; its MSE becomes every distortion's target.
JPEG_QUALITY = 2
SEED = 2004


def sample_names() -> list[str]:
    return list(SAMPLE_SETS)


def load_sample(name: str) -> list[tuple[str, bytes]]:
    """The files of a sample set as ``(file name, encoded bytes)`` pairs."""
    if name not in SAMPLE_SETS:
        raise ValueError(f"unknown sample set {name!r}; choose one of {', '.join(SAMPLE_SETS)}")
    return list(SAMPLE_SETS[name]())


@lru_cache(maxsize=1)
def photos() -> tuple[tuple[str, bytes], ...]:
    """A handful of different photos and the motorcycle stereo near-pair."""
    folder = Path(skimage.data.data_dir)
    return tuple((name, (folder / name).read_bytes()) for name in PHOTO_FILES)


@lru_cache(maxsize=1)
def equal_mse() -> tuple[tuple[str, bytes], ...]:
    """Wang et al. (2004), Fig. 2: distortions of one image with equal MSE.

    The camera image is JPEG-compressed at a very low quality; a mean shift,
    a contrast stretch, impulse noise and a Gaussian blur are each tuned until
    their MSE against the reference matches the JPEG copy's.
    """
    reference = skimage.data.camera()
    jpeg_bytes = _encode(reference, "JPEG", quality=JPEG_QUALITY)
    target = mse(reference, np.asarray(Image.open(io.BytesIO(jpeg_bytes))))
    rng = np.random.default_rng(SEED)
    hit = rng.random(reference.shape)
    salt = rng.random(reference.shape) < 0.5
    mean = reference.mean()
    distortions: dict[str, Callable[[float], np.ndarray]] = {
        "mean-shift.png": lambda shift: _clip(reference + shift),
        "contrast-stretch.png": lambda gain: _clip(mean + (reference - mean) * gain),
        "impulse-noise.png": lambda share: np.where(
            hit < share, np.where(salt, 255, 0), reference
        ).astype(np.uint8),
        "blur.png": lambda sigma: cv2.GaussianBlur(reference, (0, 0), sigma),
    }
    bounds = {
        "mean-shift.png": (0.0, 255.0),
        "contrast-stretch.png": (1.0, 10.0),
        "impulse-noise.png": (0.0, 1.0),
        "blur.png": (0.1, 30.0),
    }
    files = [("reference.png", _encode(reference, "PNG"))]
    for name, distort in distortions.items():
        image = _tune(distort, reference, target, *bounds[name])
        files.append((name, _encode(image, "PNG")))
    files.append(("jpeg.jpg", jpeg_bytes))
    return tuple(files)


# Boxes (x, y, width, height) of the objects changed in the spot-the-difference
# copy, in the 512 x 512 astronaut's pixels.
CHANGED_REGIONS = (
    (278, 338, 52, 36),  # name tag removed (inpainted)
    (133, 347, 77, 77),  # mission patch inverted
    (310, 42, 41, 41),  # a dark red disc added
    (310, 120, 45, 50),  # stars from the flag pasted on the wall
)


@lru_cache(maxsize=1)
def spot_the_difference() -> tuple[tuple[str, bytes], ...]:
    """The astronaut photo and a copy with four objects changed (`CHANGED_REGIONS`)."""
    original = skimage.data.astronaut()
    changed = original.copy()
    tag = np.zeros(original.shape[:2], np.uint8)
    x, y, width, height = CHANGED_REGIONS[0]
    tag[y : y + height, x : x + width] = 255
    changed = cv2.inpaint(changed, tag, 5, cv2.INPAINT_TELEA)
    patch = np.zeros(original.shape[:2], np.uint8)
    cv2.circle(patch, (171, 385), 38, 255, -1)
    changed[patch > 0] = 255 - changed[patch > 0]
    cv2.circle(changed, (330, 62), 20, (150, 20, 30), -1)
    changed[120:170, 310:355] = original[45:95, 8:53]
    return (
        ("astronaut.png", _encode(original, "PNG")),
        ("astronaut-changed.png", _encode(changed, "PNG")),
    )


# The box of the logo pasted on the 300 x 300 photo: about 40 % of its area.
PASTED_REGION = (55, 55, 190, 190)


@lru_cache(maxsize=1)
def pasted_logo() -> tuple[tuple[str, bytes], ...]:
    """A 300 x 300 photo and a copy with a large logo pasted on it (`PASTED_REGION`).

    One object changed, but a large and open one (an arc, letters and a dot, with
    the photo showing between them): its SSIM map breaks into separate contours
    whose boxes nest inside the arc's, which the inspector must show as one region.
    """
    cat = skimage.data.chelsea()  # 451 x 300
    left = (cat.shape[1] - 300) // 2
    photo = np.ascontiguousarray(cat[:, left : left + 300])
    x, y, width, height = PASTED_REGION
    logo = np.zeros((height, width), np.uint8)
    centre = (width // 2, height // 2)
    cv2.ellipse(logo, centre, (86, 86), 0, 40, 320, 255, 16)
    cv2.putText(logo, "LOGO", (30, centre[1] + 16), cv2.FONT_HERSHEY_DUPLEX, 1.6, 255, 5)
    cv2.circle(logo, (centre[0] + 20, centre[1] - 50), 14, 255, -1)
    changed = photo.copy()
    changed[y : y + height, x : x + width][logo > 0] = (255, 210, 0)
    return (("photo.png", _encode(photo, "PNG")), ("photo-with-logo.png", _encode(changed, "PNG")))


@lru_cache(maxsize=1)
def faces() -> tuple[tuple[str, bytes], ...]:
    """Labelled 25 x 25 patches from scikit-image's LFW subset: faces and non-faces.

    The first 50 of each class; file names carry the labels (``face-001.png``,
    ``nonface-001.png``).
    """
    patches = skimage.data.lfw_subset()  # 100 faces, then 100 non-faces, floats in [0, 1]
    files = []
    for label, start in (("face", 0), ("nonface", 100)):
        for number in range(FACES_PER_CLASS):
            pixels = np.rint(patches[start + number] * 255).astype(np.uint8)
            files.append((f"{label}-{number + 1:03d}.png", _encode(pixels, "PNG")))
    return tuple(files)


SAMPLE_SETS: dict[str, Callable[[], tuple[tuple[str, bytes], ...]]] = {
    EQUAL_MSE: equal_mse,
    PHOTOS: photos,
    SPOT_THE_DIFFERENCE: spot_the_difference,
    FACES: faces,
    PASTED_LOGO: pasted_logo,
}


def _tune(
    distort: Callable[[float], np.ndarray],
    reference: np.ndarray,
    target: float,
    low: float,
    high: float,
) -> np.ndarray:
    """Bisect a distortion's strength for the MSE closest to ``target``.

    Rounding to integers makes some distortions step (a mean shift moves in
    whole grey levels), so the closest MSE found is kept; it must be within
    3 % of the target.
    """
    best, best_error = reference, np.inf
    for _ in range(50):
        middle = (low + high) / 2
        image = distort(middle)
        error = mse(reference, image)
        if abs(error - target) < abs(best_error - target):
            best, best_error = image, error
        if error < target:
            low = middle
        else:
            high = middle
    if abs(best_error - target) > 0.03 * target:
        raise RuntimeError(f"could not tune a distortion to MSE {target:.1f}")
    return best


def _clip(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _encode(image: np.ndarray, format_name: str, **options: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format_name, **options)
    return buffer.getvalue()
