"""The images that PATH arguments stand for: files as given, folders by their images."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from imgsim.images import is_image_filename

# The commands' help says what a folder PATH stands for.
FOLDERS_HELP = "A folder stands for its images, sorted by name, not recursive."


def expand_paths(paths: Sequence[str], notes: TextIO) -> list[Path]:
    """Files as given; folders replaced by their image files sorted by name.

    Files in a folder without an image extension are skipped with a note.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(folder_images(path, False, notes) if path.is_dir() else [path])
    return files


def folder_images(folder: Path, recursive: bool, notes: TextIO) -> list[Path]:
    """A folder's image files, sorted by their path in it; others skipped with a note."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    entries = sorted(
        (entry for entry in found if entry.is_file()),
        key=lambda entry: entry.relative_to(folder).parts,
    )
    images = [entry for entry in entries if is_image_filename(entry.name)]
    skipped = [
        entry.relative_to(folder).as_posix()
        for entry in entries
        if entry not in images and not entry.name.startswith(".")
    ]
    if skipped:
        print(
            f"imgsim: {folder}: skipped {len(skipped)} file(s) without an image "
            f"extension: {', '.join(skipped)}",
            file=notes,
        )
    if not images:
        print(f"imgsim: {folder}: no images in this folder", file=notes)
    return images


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
            named.extend(
                (image.relative_to(path).as_posix(), image)
                for image in folder_images(path, recursive, notes)
            )
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
        nested = sum(
            1
            for entry in path.rglob("*")
            if entry.parent != path and entry.is_file() and is_image_filename(entry.name)
        )
        if nested:
            return f"; {path} has {nested} images in its subfolders: {remedy}"
    return ""
