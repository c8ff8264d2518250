"""The file system, in the two ways imgsim touches it: walking a folder, writing a file.

One walk serves the CLI's folders and the page's collections alike, so both
see the same images under the same rules.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgsim.images._decode import is_image_filename

LINK_OUTSIDE = "a symbolic link to a place outside the folder"
NOT_AN_IMAGE = "no image file extension"


@dataclass(frozen=True)
class Walk:
    """What `walk_images` found under a folder.

    Attributes
    ----------
    images : tuple of str
        Relative POSIX paths of the image files, sorted by their parts.
    skipped : tuple of (str, str)
        ``(relative path, reason)`` of each entry left out, sorted.
    """

    images: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


def walk_images(root: Path, recursive: bool = True) -> Walk:
    """Every image file under ``root`` (its subfolders too when ``recursive``).

    Hidden entries (names starting with ".") are left out silently; files
    without an image extension are listed in ``skipped``. Symbolic links are
    followed only while they stay inside ``root``: a link whose target is
    outside is listed in ``skipped``, and a link back up is not walked twice.
    Whether a file can be read is not checked here.

    Parameters
    ----------
    root : Path
        The folder's real path (symbolic links resolved).
    recursive : bool
        Walk the subfolders too.
    """
    images, skipped = [], []
    seen_folders = {root}
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            skipped.append((_relative(Path(folder), root), f"cannot list it ({error.strerror})"))
            continue
        for entry in entries:
            if entry.name.startswith("."):  # hidden files and folders (a cache, .git...)
                continue
            path = Path(entry.path)
            relative = _relative(path, root)
            real = path.resolve()
            if not (real == root or real.is_relative_to(root)):
                skipped.append((relative, LINK_OUTSIDE))
                continue
            if real.is_dir():
                if recursive and real not in seen_folders:  # a link back up would loop forever
                    seen_folders.add(real)
                    pending.append(path)
            elif is_image_filename(entry.name):
                images.append(relative)
            else:
                skipped.append((relative, NOT_AN_IMAGE))
    images.sort(key=lambda name: name.split("/"))
    return Walk(tuple(images), tuple(sorted(skipped)))


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path != root else "."


def write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """Write through a temporary file in the same folder, then rename it into place.

    A run killed halfway leaves either the old file or the new one, never half of one.

    Parameters
    ----------
    path : Path
        The file to write; its folder is made if missing.
    write : callable
        Receives the open binary stream.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
