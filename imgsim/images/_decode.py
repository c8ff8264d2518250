"""The only place where files, bytes and foreign arrays become pixels.

Everything downstream receives a `DecodedImage`: an RGB ``uint8`` array, an
optional alpha plane, and a short log of what decoding did to the file.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from imgsim.settings import DEFAULT_MAX_PIXELS, MAX_PIXELS_VARIABLE

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")
FORMATS_TEXT = "PNG, JPEG, WebP, BMP, TIFF or GIF"

_ORIENTATION_TEXT = {
    2: "mirrored left-right",
    3: "rotated 180°",
    4: "mirrored top-bottom",
    5: "transposed",
    6: "rotated 90° clockwise",
    7: "transversed",
    8: "rotated 90° counter-clockwise",
}


class ImageReadError(ValueError):
    """An input could not be turned into pixels.

    ``str(error)`` is one line: the file's name, then the reason.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """A decoded image, oriented upright.

    Attributes
    ----------
    name : str
        Display name (a file's base name).
    rgb : ndarray of uint8, shape (H, W, 3)
        Colour values; where ``alpha`` is not None these are the stored,
        un-composited values.
    alpha : ndarray of uint8, shape (H, W), or None
        Opacity (255 = opaque); None when the image has no transparency.
    log : tuple of str
        What decoding did, in order (orientation, bit depth, colour model...).
    """

    name: str
    rgb: np.ndarray
    alpha: np.ndarray | None
    log: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return self.rgb.shape[1]

    @property
    def height(self) -> int:
        return self.rgb.shape[0]


def decode(
    source: bytes | str | os.PathLike[str],
    name: str | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DecodedImage:
    """Decode an image file (path or bytes) into upright RGB and alpha.

    Parameters
    ----------
    source : bytes or path
        The encoded file: PNG, JPEG, WebP, BMP, TIFF or GIF (first frame).
    name : str, optional
        Name used in messages; defaults to the path's base name, or "image".
    max_pixels : int
        Images with more pixels are refused from their header, before their
        pixels are decoded.

    Returns
    -------
    DecodedImage

    Raises
    ------
    ImageReadError
        A `ValueError` naming the file and the reason when it cannot be used.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "image"
        data = bytes(source)
    else:
        name = name or Path(source).name
        data = read_file(source, name)
    if not data:
        raise ImageReadError(name, "the file is empty")
    try:
        with warnings.catch_warnings():
            # We enforce our own pixel limit just below; Pillow's is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Image, not the ImageFile that open() returns: exif_transpose gives an Image.
            image: Image.Image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        # Pillow refuses first (above twice its own limit) and names only the count.
        count = re.search(r"\((\d+) pixels\)", str(error))
        found = f"{int(count.group(1)):,} pixels" if count else "too many pixels"
        raise ImageReadError(name, _too_many_pixels_text(found, max_pixels)) from error
    except UnidentifiedImageError as error:
        raise ImageReadError(name, _unreadable_reason(data)) from error
    except Exception as error:
        raise ImageReadError(name, _unreadable_reason(data, _describe(error))) from error
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageReadError(name, _too_many_pixels_text((width, height), max_pixels))
        try:
            log = _frame_note(image)
            image.load()
            orientation = image.getexif().get(0x0112, 1)
            if orientation in _ORIENTATION_TEXT:
                log.append(f"EXIF orientation {orientation}: {_ORIENTATION_TEXT[orientation]}")
                # Only then: transposing copies the whole image.
                image = ImageOps.exif_transpose(image)
            return _from_pil(image, name, log)
        except ImageReadError:
            raise
        except Exception as error:
            raise ImageReadError(
                name, f"damaged or truncated image data ({_describe(error)})"
            ) from error


def read_file(path: str | os.PathLike[str], name: str) -> bytes:
    """The bytes of an image file, or an `ImageReadError` naming ``name`` and why not."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ImageReadError(name, f"cannot read the file ({error.strerror})") from error


def from_array(
    array: np.ndarray, name: str = "array", *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodedImage:
    """Wrap an already-decoded array as a `DecodedImage`.

    Parameters
    ----------
    array : ndarray, shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)
        Gray, RGB or RGBA, in RGB order (convert OpenCV's BGR first).
        Read by its dtype, never by its values: ``uint8`` as is; ``uint16``
        rounded to the nearest of 256 levels over its full range,
        ``round(v * 255 / 65535)`` (scikit-image's ``img_as_ubyte`` keeps the
        top 8 bits, ``v >> 8``, instead: the two differ by 1 for a quarter of
        the values); ``bool`` as black (0) and white (255); floats in [0, 1]
        as ``round(v * 255)``, as ``img_as_ubyte`` does. Other integer dtypes, and
        floats outside [0, 1], are refused with the conversion to make.
    name : str
        Name used in messages and results.

    Raises
    ------
    ImageReadError
        When the shape or value range cannot be read as an image.
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ImageReadError(
            name,
            f"array of shape {array.shape} is not an image; expected (H, W), "
            "(H, W, 3) or (H, W, 4)",
        )
    if array.shape[0] * array.shape[1] > max_pixels:
        size = (array.shape[1], array.shape[0])
        raise ImageReadError(name, _too_many_pixels_text(size, max_pixels))
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageReadError(name, f"array of shape {array.shape} has no pixels")
    log: list[str] = []
    pixels = _to_uint8(array, name, log)
    return _split_channels(pixels, name, log)


def is_image_filename(filename: str) -> bool:
    """Whether a file name has one of the image extensions (any case)."""
    return filename.lower().endswith(IMAGE_EXTENSIONS)


def _from_pil(image: Image.Image, name: str, log: list[str]) -> DecodedImage:
    mode = image.mode
    if mode in ("RGB", "RGBA", "L"):
        pass
    elif mode == "CMYK":
        log.append("CMYK converted to RGB")
        image = image.convert("RGB")
    elif mode in ("P", "PA"):
        log.append("palette converted to RGB")
        transparent = mode == "PA" or image.has_transparency_data
        image = image.convert("RGBA" if transparent else "RGB")
    elif mode == "1":
        log.append("1-bit black and white")
        image = image.convert("L")
    elif mode == "I":
        # Pillow's 32-bit mode is how it stores 16-bit samples of PNG and TIFF files.
        pixels = np.asarray(image)
        if pixels.min() < 0 or pixels.max() > 65535:
            raise ImageReadError(
                name, "32-bit integer pixels are not supported; save the image with 8 or 16 bits"
            )
        return _split_channels(_to_uint8(pixels.astype(np.uint16), name, log), name, log)
    elif mode.startswith(("I;16", "F")):
        # 16-bit and float data go through numpy so they are scaled, not clipped.
        return _split_channels(_to_uint8(np.asarray(image), name, log), name, log)
    else:
        # LA, La, RGBa, YCbCr, LAB, HSV and other colour models.
        has_alpha = "A" in image.getbands() or "a" in image.getbands()
        log.append(f"{mode} converted to RGB")
        image = image.convert("RGBA" if has_alpha else "RGB")
    return _split_channels(np.asarray(image), name, log)


def _split_channels(pixels: np.ndarray, name: str, log: list[str]) -> DecodedImage:
    if pixels.ndim == 2:
        rgb = np.repeat(pixels[:, :, None], 3, axis=2)
        alpha = None
    else:
        rgb = np.ascontiguousarray(pixels[:, :, :3])
        alpha = pixels[:, :, 3].copy() if pixels.shape[2] == 4 else None
    if alpha is not None:
        if alpha.min() == 255:
            alpha = None
        else:
            log.append(f"transparency in {np.mean(alpha < 255):.0%} of pixels")
    rgb.flags.writeable = False
    if alpha is not None:
        alpha.flags.writeable = False
    return DecodedImage(name=name, rgb=rgb, alpha=alpha, log=tuple(log))


def _to_uint8(pixels: np.ndarray, name: str, log: list[str]) -> np.ndarray:
    """8-bit values, decided by the dtype alone.

    16-bit values are rounded to the nearest 8-bit level, ``round(v * 255 / 65535)``
    with halves up, so that 8-bit data stored as 16-bit (``v * 257``) comes back
    exactly; ``skimage.util.img_as_ubyte`` truncates to ``v >> 8`` instead. Floats
    in [0, 1] and booleans are read as ``img_as_ubyte`` reads them.

    Values never choose the scale: the same picture must score the same whether
    or not one of its pixels happens to cross a threshold.
    """
    dtype = pixels.dtype
    if dtype == np.uint8:
        return pixels
    if dtype.kind == "b":
        log.append("black-and-white values scaled to 8-bit")
        return pixels.astype(np.uint8) * 255
    if dtype.kind == "u" and dtype.itemsize == 2:
        log.append("16-bit scaled to 8-bit")
        wide = pixels.astype(np.uint32)
        return ((wide * 255 + 32767) // 65535).astype(np.uint8)
    if dtype.kind == "f":
        if not np.isfinite(pixels).all():
            raise ImageReadError(name, "float image contains NaN or infinite values")
        low, high = float(pixels.min()), float(pixels.max())
        if low < 0.0 or high > 1.0:
            raise ImageReadError(
                name,
                f"float values from {low:g} to {high:g} are outside [0, 1], the range "
                "floats are read in (as scikit-image does); divide 0-255 values by 255, "
                "or convert the array to uint8 yourself",
            )
        log.append("float values in [0, 1] scaled to 8-bit")
        return np.rint(pixels.astype(np.float64) * 255.0).astype(np.uint8)
    if dtype.kind in "iu":
        raise ImageReadError(
            name,
            f"pixels of type {dtype} have no standard range; expected uint8, uint16, "
            "bool or floats in [0, 1]: convert with array.astype(np.uint8) for values "
            "0-255, or array.astype(np.uint16) for 16-bit values",
        )
    raise ImageReadError(
        name,
        f"pixels of type {dtype} are not supported; expected uint8, uint16, bool or "
        "floats in [0, 1]",
    )


_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"BM": "BMP",
}


def _unreadable_reason(data: bytes, detail: str | None = None) -> str:
    """Why Pillow could not open these bytes, as precisely as their start tells."""
    head = data[:1024]
    if head.startswith(b"%PDF"):
        return "a PDF document, not an image; export its pages as PNG"
    if b"<svg" in head.lower():
        return "an SVG (vector) image, which imgsim does not rasterise; export it as PNG"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif", b"msf1"):
        return "a HEIC/HEIF/AVIF image, which Pillow cannot read; convert it to JPEG or PNG"
    damaged = "damaged or an unsupported variant" + (f": {detail}" if detail else "")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return f"a WebP file that cannot be read ({damaged})"
    for signature, kind in _SIGNATURES.items():
        if head.startswith(signature):
            return f"a {kind} file that cannot be read ({damaged})"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(char.isprintable() or char in "\r\n\t" for char in text):
        return f"a text file, not an image (expected {FORMATS_TEXT})"
    return f"not a readable image (expected {FORMATS_TEXT})"


def _frame_note(image: Image.Image) -> list[str]:
    frames = getattr(image, "n_frames", 1)
    return [f"first of {frames} frames used"] if frames > 1 else []


def _too_many_pixels_text(size: tuple[int, int] | str, max_pixels: int) -> str:
    found = (
        size if isinstance(size, str) else f"{size[0]} × {size[1]} = {size[0] * size[1]:,} pixels"
    )
    return (
        f"image is too large ({found}; the limit is {max_pixels:,} pixels, set by "
        f"{MAX_PIXELS_VARIABLE}), refused before decoding"
    )


def _describe(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
