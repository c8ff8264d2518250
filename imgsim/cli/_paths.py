"""The images that PATH arguments stand for: files as given, folders by their images.

A folder is walked by `imgsim.images.walk_images`, the walk that the page's
collections use too, so that both see the same images of the same folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from imgsim.images import LINK_OUTSIDE, NOT_AN_IMAGE, walk_images

# The commands' help says what a folder PATH stands for.
FOLDERS_HELP = (
    "A folder stands for its images, sorted by name, not recursive; hidden files "
    "(named .*) are left out, and so are links to places outside the folder."
)


def expand_paths(paths: Sequence[str], notes: TextIO) -> list[Path]:
    """Files as given; folders replaced by their image files sorted by name.

    What a folder holds besides images is skipped with a note (see `folder_images`).
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(image for _, image in folder_images(path, False, notes))
        else:
            files.append(path)
    return files


def folder_images(folder: Path, recursive: bool, notes: TextIO) -> list[tuple[str, Path]]:
    """``(name, file)`` of a folder's images, by their path relative to it, sorted.

    Hidden entries are left out silently; files without an image extension,
    links to places outside the folder and subfolders that cannot be listed
    are skipped with a note on ``notes``, and so is a folder without images.
    """
    walk = walk_images(folder.resolve(), recursive)
    reasons: dict[str, list[str]] = {}
    for name, reason in walk.skipped:
        reasons.setdefault(reason, []).append(name)
    for reason, names in reasons.items():
        # "." is the folder itself, which could not be listed.
        note = reason if names == ["."] else skipped_note(reason, names)
        print(f"imgsim: {folder}: {note}", file=notes)
    if not walk.images:
        print(f"imgsim: {folder}: no images in this folder", file=notes)
    # Under the folder as given (not its real path): names and labels read as typed.
    return [(name, folder / name) for name in walk.images]


def skipped_note(reason: str, names: Sequence[str]) -> str:
    """``skipped 2 file(s) without an image extension: a.txt, b.svg`` and the like."""
    listed = ", ".join(names)
    if reason == NOT_AN_IMAGE:
        return f"skipped {len(names)} file(s) without an image extension: {listed}"
    if reason == LINK_OUTSIDE:
        return f"skipped {len(names)} symbolic link(s) to a place outside the folder: {listed}"
    return f"skipped {listed}: {reason}"


def expand_named_paths(
    paths: Sequence[str], recursive: bool, notes: TextIO
) -> list[tuple[str, Path]]:
    """``(name, file)`` for each PATH: a file is named by its base name, a folder's
    images by their path relative to it, and ``@list.txt`` stands for the paths
    it lists, one a line (relative ones from the current folder).

    Raises
    ------
    OSError
        When a list file cannot be read.
    """
    named: list[tuple[str, Path]] = []
    for text in paths:
        if text.startswith("@"):
            lines = Path(text[1:]).read_text(encoding="utf-8").splitlines()
            listed = [line.strip() for line in lines if line.strip()]
            named.extend(expand_named_paths(listed, recursive, notes))
            continue
        path = Path(text)
        if path.is_dir():
            named.extend(folder_images(path, recursive, notes))
        else:
            named.append((path.name, path))
    return named


def nested_images_hint(paths: Sequence[str], remedy: str) -> str:
    """``"; FOLDER has N images in its subfolders: REMEDY"`` for the first folder among
    ``paths`` with images in subfolders (which a folder PATH does not descend into),
    else ``""``."""
    for path in map(Path, paths):
        if not path.is_dir():
            continue
        nested = sum("/" in name for name in walk_images(path.resolve(), True).images)
        if nested:
            return f"; {path} has {nested} images in its subfolders: {remedy}"
    return ""
