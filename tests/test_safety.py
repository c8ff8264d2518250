"""Safe server settings, and uploads that never touch the disk or the unpickler."""

from __future__ import annotations

import ast
import tempfile
import tomllib
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from .test_app import APP, heatmap_values, upload
from .test_cli import ROOT

CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_the_server_listens_locally_with_xsrf_protection_and_no_usage_statistics():
    assert CONFIG["server"]["address"] == "127.0.0.1"
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["browser"]["gatherUsageStats"] is False
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_uploads_are_bounded_and_released_soon_after_a_session_ends():
    assert CONFIG["server"]["maxUploadSize"] == 200
    assert CONFIG["server"]["disconnectedSessionTTL"] <= 60


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if "__pycache__" not in path.parts}


def test_an_upload_writes_nothing_to_disk(chelsea, coffee):
    from .conftest import encode

    watched = [ROOT, Path(tempfile.gettempdir())]
    before = [files_under(folder) for folder in watched]
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    upload(at, [("a.png", encode(chelsea, "PNG")), ("b.jpg", encode(coffee, "JPEG"))])
    assert heatmap_values(at).shape == (2, 2)
    after = [files_under(folder) for folder in watched]
    new = [sorted(map(str, later - earlier)) for earlier, later in zip(before, after, strict=True)]
    assert new == [[], []]


def source_calls(path: Path) -> set[str]:
    """Names of the modules imported and the functions called in a Python file."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call):
            function = node.func
            names.add(
                function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            )
    return names


def test_the_page_never_unpickles_evaluates_or_opens_paths():
    forbidden = {"pickle", "marshal", "shelve", "eval", "exec", "open", "read_bytes", "Path"}
    for path in [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))]:
        assert not source_calls(path) & forbidden, path.name
