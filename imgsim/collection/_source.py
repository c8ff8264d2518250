"""Collections served by the dashboard: folders named by the server, never by a visitor.

Whoever starts the server names the folders in one environment variable,
``IMGSIM_COLLECTION``: a path, or ``name=path`` entries separated by
`os.pathsep` (``:`` on Linux and macOS, ``;`` on Windows, the separator that
``PATH`` uses and that therefore never occurs inside a path). A visitor only
ever picks a collection by name and an image by its name inside it; every such
name goes through `resolve`, which refuses anything whose real path (symbolic
links followed) is outside the collection's folder.

Thumbnails are made once per image and kept on disk in the cache folder
(``IMGSIM_CACHE_DIR``, else the user's cache folder), keyed on the image's
path, size and modification time.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from imgsim.images import (
    LINK_OUTSIDE,
    ImageError,
    ImageReadError,
    load_image,
    thumbnail,
    walk_images,
    write_atomically,
)
from imgsim.settings import DEFAULT_MAX_PIXELS

COLLECTION_VARIABLE = "IMGSIM_COLLECTION"
CACHE_VARIABLE = "IMGSIM_CACHE_DIR"
THUMBNAIL_SIDE = 96  # px; small enough to send a page of them at once


class CollectionPathError(ValueError):
    """A name that does not lead to a file inside the collection's folder."""


@dataclass(frozen=True)
class Collection:
    """A folder of images that the server owner named.

    Attributes
    ----------
    name : str
        What visitors see and choose.
    root : Path
        The folder's real path (symbolic links resolved).
    """

    name: str
    root: Path


@dataclass(frozen=True)
class Listing:
    """The images of a collection, by their paths relative to its folder.

    Attributes
    ----------
    names : tuple of str
        Image files (by extension) inside the folder, sorted, with ``/``
        between folders.
    skipped : tuple of (str, str)
        Entries left out, with the reason (links that leave the folder,
        files without an image extension).
    """

    names: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


def parse_collections(text: str) -> tuple[Collection, ...]:
    """The collections named by ``text`` (``IMGSIM_COLLECTION``'s value).

    Parameters
    ----------
    text : str
        ``/path`` or ``name=path`` entries separated by `os.pathsep`. An entry
        without a name is named after its folder. A ``=`` counts as the name's
        end only when what precedes it has no path separator.

    Raises
    ------
    ValueError
        For an empty entry, a folder that does not exist, or a repeated name.
    """
    found, errors = parse_collections_apart(text)
    if errors:
        raise ValueError(errors[0])
    return found


def parse_collections_apart(text: str) -> tuple[tuple[Collection, ...], tuple[str, ...]]:
    """The collections of ``text`` that can be used, and why each other entry cannot.

    As `parse_collections`, except that one bad entry does not take the
    others with it: the page serves the good ones and shows the errors.
    """
    found: dict[str, Collection] = {}
    errors: list[str] = []
    for raw in text.split(os.pathsep):
        entry = raw.strip()
        if not entry:
            continue
        try:
            collection = _parse_entry(entry, found)
        except ValueError as error:
            errors.append(str(error))
            continue
        found[collection.name] = collection
    return tuple(found.values()), tuple(errors)


def _parse_entry(entry: str, found: Mapping[str, Collection]) -> Collection:
    """One ``/path`` or ``name=path`` entry; ValueError saying what is wrong with it."""
    name, equals, rest = entry.partition("=")
    if equals and name.strip() and "/" not in name and os.sep not in name:
        name, path = name.strip(), rest.strip()
    else:
        name, path = "", entry
    if not path:
        raise ValueError(
            f"{COLLECTION_VARIABLE}: the entry {entry!r} names no folder; expected "
            f"/path or name=path, entries separated by {os.pathsep!r}"
        )
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ValueError(
            f"{COLLECTION_VARIABLE}: {path!r} is not a folder; name an existing folder of images"
        )
    root = root.resolve()
    name = name or root.name or str(root)
    if name in found:
        raise ValueError(
            f"{COLLECTION_VARIABLE}: the name {name!r} is given twice; give each "
            "folder its own name (name=path)"
        )
    return Collection(name, root)


def collections_from_environment(
    environ: Mapping[str, str] = os.environ,
) -> tuple[Collection, ...]:
    """The collections named by ``IMGSIM_COLLECTION``; none when it is unset or empty."""
    return parse_collections(environ.get(COLLECTION_VARIABLE, ""))


def cache_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """Where indexes and thumbnails are kept: ``IMGSIM_CACHE_DIR``, else the
    user's cache folder (``$XDG_CACHE_HOME/imgsim``, by default ``~/.cache/imgsim``)."""
    chosen = environ.get(CACHE_VARIABLE)
    if chosen:
        return Path(chosen).expanduser().resolve()
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "imgsim"


def list_images(collection: Collection) -> Listing:
    """Every image file in the collection's folder and its subfolders.

    Hidden entries (names starting with ".") are left out silently; files
    without an image extension are listed in ``skipped``. Symbolic links are
    followed only while they stay inside the folder: a link (to a file or a
    folder) whose target is outside is listed in ``skipped``.
    Whether a file can be read is not checked here: unreadable files become
    errors of the index, one line each.
    """
    walk = walk_images(collection.root)
    return Listing(walk.images, walk.skipped)


def resolve(collection: Collection, name: str) -> Path:
    """The real path of the image ``name`` of the collection, checked to be inside it.

    Raises
    ------
    CollectionPathError
        When ``name`` is absolute, climbs with ``..``, does not exist, is not a
        file, or leads (through symbolic links) outside the collection's folder.
    """
    where = f"{collection.name}: {name!r}"
    if not isinstance(name, str) or not name or "\0" in name:
        raise CollectionPathError(f"{where} is not an image name of the collection")
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or Path(name).is_absolute() or ".." in parts:
        raise CollectionPathError(
            f"{where} is not inside the collection; names are paths relative to its "
            "folder, without '..'"
        )
    try:
        real = (collection.root / name).resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise CollectionPathError(f"{where} is not in the collection ({error})") from error
    if not (real == collection.root or real.is_relative_to(collection.root)):
        raise CollectionPathError(f"{where} is {LINK_OUTSIDE}; it is not read")
    if not real.is_file():
        raise CollectionPathError(f"{where} is not a file")
    return real


def read_image_bytes(collection: Collection, name: str) -> bytes:
    """The bytes of one image of the collection (see `resolve` for what is refused).

    The checked real path is opened without following a link, so a link put in
    its place after the check is refused rather than followed.

    Raises
    ------
    CollectionPathError
        For a name outside the collection.
    ImageReadError
        When the file cannot be read.
    """
    real = resolve(collection, name)
    try:
        handle = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        raise ImageReadError(name, f"cannot read the file ({error.strerror})") from error
    with os.fdopen(handle, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise CollectionPathError(f"{collection.name}: {name!r} is not a file")
        return stream.read()


def thumbnail_png(
    collection: Collection,
    name: str,
    cache: Path,
    side: int = THUMBNAIL_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> bytes:
    """A small square PNG of one image, made once and kept under ``cache/thumbnails``.

    Decoded by imgsim's one decoding path (EXIF orientation, 16-bit, CMYK...),
    shrunk to fit ``side`` x ``side`` and centred on a transparent square of
    that size, so that thumbnails of any shape line up in a row.

    Raises
    ------
    CollectionPathError
        For a name outside the collection.
    ImageReadError
        When the image cannot be read or decoded (the reason names the file).
    """
    real = resolve(collection, name)
    info = real.stat()
    made = f"{real}\0{info.st_size}\0{info.st_mtime_ns}\0{side}\0square"
    key = hashlib.sha256(made.encode()).hexdigest()
    path = cache / "thumbnails" / key[:2] / f"{key}.png"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    decoded = load_image((name, read_image_bytes(collection, name)), max_pixels=max_pixels)
    if isinstance(decoded, ImageError):
        raise ImageReadError(decoded.name, decoded.error)
    small = thumbnail(np.ascontiguousarray(decoded.rgb), side)
    square = np.zeros((side, side, 4), dtype=np.uint8)  # transparent: the page shows through
    top, left = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    square[top : top + small.shape[0], left : left + small.shape[1], :3] = small
    square[top : top + small.shape[0], left : left + small.shape[1], 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(square).save(buffer, "PNG")
    data = buffer.getvalue()
    write_atomically(path, lambda stream: stream.write(data))
    return data
