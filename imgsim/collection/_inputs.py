"""A collection's inputs: their names, their content digests, the set they form."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imgsim.collection._types import Entry
from imgsim.images import DecodedImage, ImageSource, name_inputs


def entries_from_inputs(inputs: Sequence[ImageSource]) -> list[Entry]:
    """Name every input as `compare` does; ``(name, path)`` tuples keep their name."""
    names = name_inputs(inputs)
    return [
        Entry(name, source[1] if isinstance(source, tuple) else source)
        for name, source in zip(names, inputs, strict=True)
    ]


def content_digest(source: Any) -> str:
    """SHA-256 of an input's content (file bytes, array values, decoded pixels)."""
    digest = hashlib.sha256()
    if isinstance(source, (bytes, bytearray, memoryview)):
        digest.update(source)
    elif isinstance(source, np.ndarray):
        digest.update(f"{source.dtype.str}{source.shape}".encode())
        digest.update(np.ascontiguousarray(source).tobytes())
    elif isinstance(source, DecodedImage):
        for part in (source.rgb, source.alpha):
            if part is not None:
                digest.update(content_digest(part).encode())
    else:
        raise TypeError(f"cannot hash an input of type {type(source).__name__}")
    return digest.hexdigest()


def input_set_key(
    inputs: Sequence[ImageSource], against: Sequence[ImageSource] | None = None
) -> str:
    """A short digest of where a run's images come from, naming its results in the cache.

    The resolved folders of the path inputs (and of ``against``'s, apart),
    sorted, and a mark for inputs not read from a file: so that files added to
    the same folders still find the earlier results, while runs over other
    folders sharing one cache never overwrite each other's.
    """
    sides = [inputs] if against is None else [inputs, against]
    places = [
        sorted({_place(entry.source) for entry in entries_from_inputs(each)}) for each in sides
    ]
    return hashlib.sha256(json.dumps(places).encode()).hexdigest()[:16]


def _place(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(Path(source).resolve().parent)
    return "<not a file>"  # uploads, arrays: the run's results are still checked by content
