"""What an input is, what it is called, and decoding it without raising.

Every input, whatever its kind, gets its name here (`input_name`,
`name_inputs`): `compare`, `neighbours` and the page name images the same way.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgsim.images._decode import DecodedImage, ImageReadError, decode, from_array
from imgsim.settings import DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class ImageError:
    """An input that could not be used, and why (one line)."""

    name: str
    error: str

    def __str__(self) -> str:
        return f"{self.name}: {self.error}"


# A (name, path) tuple names a file other than by its base name (`neighbours`
# over a collection, the CLI); `load_image` reads it as it reads a bare path.
ImageSource = (
    str
    | os.PathLike
    | bytes
    | np.ndarray
    | tuple[str, bytes | np.ndarray | str | os.PathLike]
    | DecodedImage
    | ImageError
)


@dataclass(frozen=True)
class ImageInfo:
    """A compared image: its name, original (upright) size and decoding log."""

    name: str
    width: int
    height: int
    log: tuple[str, ...] = ()


def load_image(
    source: ImageSource, index: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodedImage | ImageError:
    """Decode one input, returning the reason instead of raising when it fails.

    Parameters
    ----------
    source : path, bytes, array, (name, bytes, array or path), DecodedImage or ImageError
        Unnamed bytes and arrays are called ``image-<index + 1>``.
    index : int
        Position of the input, for default names.
    max_pixels : int
        Larger images are refused from their header.
    """
    if isinstance(source, (DecodedImage, ImageError)):
        return source
    name = input_name(source, index)
    content = source[1] if isinstance(source, tuple) else source
    try:
        if isinstance(content, np.ndarray):
            return from_array(content, name, max_pixels=max_pixels)
        return decode(content, name, max_pixels=max_pixels)
    except ImageReadError as error:
        return ImageError(error.name, error.reason)


def input_name(source: ImageSource, index: int = 0) -> str:
    """An input's own name: a file's name, a tuple's first item, else ``image-<index + 1>``."""
    if isinstance(source, (DecodedImage, ImageError)):
        return source.name
    if isinstance(source, tuple):
        return str(source[0])
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return f"image-{index + 1}"


def name_inputs(inputs: Sequence[ImageSource]) -> list[str]:
    """Every input's name (`input_name`), repeated names made unique (`unique_names`)."""
    return unique_names([input_name(source, index) for index, source in enumerate(inputs)])


def unique_names(names: list[str]) -> list[str]:
    """Suffix repeated names with " (2)", " (3)", ... so each pair is unambiguous."""
    repeated = {name for name, total in Counter(names).items() if total > 1}
    seen: Counter[str] = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(f"{name} ({seen[name]})" if name in repeated and seen[name] > 1 else name)
    return unique
