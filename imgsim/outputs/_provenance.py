"""Provenance: what a result needs to be reproduced and audited.

The versions of imgsim and of the libraries whose code computes its numbers,
and the SHA-256 of every input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from imgsim._version import __version__

# The distributions whose versions decide the numbers.
# scikit-image is only the reference the tests check against: none of its code
# computes a number imgsim reports.
LIBRARIES = {
    "numpy": "numpy",
    "numba": "numba",
    "opencv": "opencv-python-headless",
    "pillow": "pillow",
    "scipy": "scipy",
}


def sha256_of(source: str | Path | bytes) -> str:
    """SHA-256 of a file's bytes (a path, read in chunks) or of bytes, in hex."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return hashlib.sha256(source).hexdigest()
    with open(source, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def library_versions() -> dict[str, str]:
    """imgsim's version and those of the libraries that decide the numbers."""
    versions = {"imgsim": __version__}
    for name, distribution in LIBRARIES.items():
        try:
            versions[name] = version(distribution)
        except PackageNotFoundError:
            # Installed under another distribution name (opencv-python, say).
            versions[name] = _module_version(name)
    return versions


def _module_version(name: str) -> str:
    import importlib

    modules = {
        "numpy": "numpy",
        "numba": "numba",
        "opencv": "cv2",
        "pillow": "PIL",
        "scipy": "scipy",
    }
    return str(importlib.import_module(modules[name]).__version__)


def provenance(inputs: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """What a result needs to be reproduced and audited: versions and input digests.

    Parameters
    ----------
    inputs : sequence of (name, sha256 or None)
        Every input in input order, named as in ``images`` and ``errors``
        (files that could not be read included, with the digest of their bytes;
        a file that could not be opened has ``None``).

    Returns
    -------
    dict
        ``{"versions": {"imgsim", "numpy", "numba", "opencv", "pillow", "scipy"},
        "inputs": [{"name", "sha256"}]}``, ready for any JSON output.
    """
    return {
        "versions": library_versions(),
        "inputs": [{"name": name, "sha256": digest} for name, digest in inputs],
    }


def with_provenance(document: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """The document with a ``"provenance"`` key last, when there is one."""
    return document if record is None else {**document, "provenance": record}
