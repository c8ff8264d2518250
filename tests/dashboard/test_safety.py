"""Safe server settings, and uploads that never touch the disk or the unpickler."""

from __future__ import annotations

import ast
import os
import sys
import tomllib
from pathlib import Path

from tests.dashboard.pages import heatmap_values, new_session, upload
from tests.helpers import APP, ROOT
from tests.helpers.images import encode

CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_the_server_listens_locally_with_xsrf_protection_and_no_usage_statistics():
    assert CONFIG["server"]["address"] == "127.0.0.1"
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["browser"]["gatherUsageStats"] is False
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_the_checkout_config_is_what_imgsim_dashboard_starts_the_server_with():
    """`streamlit run app.py` reads .streamlit/config.toml; `imgsim dashboard`
    passes SERVER_OPTIONS on its command line (imgsim/dashboard/_server.py)."""
    from imgsim.dashboard import SERVER_OPTIONS

    assert CONFIG == SERVER_OPTIONS


def test_uploads_are_bounded_and_released_soon_after_a_session_ends():
    assert CONFIG["server"]["maxUploadSize"] == 200
    assert CONFIG["server"]["disconnectedSessionTTL"] <= 60


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if "__pycache__" not in path.parts}


class DiskWrites:
    """Paths this process opens for writing or creates, while `watching`.

    An audit hook sees only this process, so files that other processes create
    or delete meanwhile (in the system temp folder, say) cannot fail the test;
    and it sees writes anywhere, not just in the folders a walk would cover.
    """

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    CREATING = frozenset({"os.mkdir", "os.rename", "os.link", "os.symlink", "shutil.copyfile"})

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.watching = False
        sys.addaudithook(self._hook)  # hooks cannot be removed: `watching` turns it off

    def _hook(self, event: str, args: tuple) -> None:
        if not self.watching:
            return
        if event == "open":
            path, mode, flags = args
            writing = any(c in (mode or "") for c in "wax+") or bool(
                (flags or 0) & self.WRITE_FLAGS
            )
            if writing and path is not None and not isinstance(path, int):
                self.paths.append(os.fsdecode(path))
        elif event in self.CREATING:
            self.paths.append(os.fsdecode(args[0]))


DISK_WRITES = DiskWrites()


def test_the_disk_watch_sees_a_write_anywhere(tmp_path):
    target = tmp_path / "seen.txt"
    DISK_WRITES.watching = True
    try:
        target.write_bytes(b"x")
        (tmp_path / "folder").mkdir()
    finally:
        DISK_WRITES.watching = False
    assert str(target) in DISK_WRITES.paths and str(tmp_path / "folder") in DISK_WRITES.paths
    DISK_WRITES.paths.clear()


def test_an_upload_writes_nothing_to_disk(chelsea, coffee):
    before = files_under(ROOT)
    at = new_session().run()
    files = [("a.png", encode(chelsea, "PNG")), ("b.jpg", encode(coffee, "JPEG"))]
    DISK_WRITES.paths.clear()
    DISK_WRITES.watching = True
    try:
        upload(at, files)
    finally:
        DISK_WRITES.watching = False
    assert heatmap_values(at).shape == (2, 2)
    # Python's own bytecode cache is not the upload's doing.
    written = [path for path in DISK_WRITES.paths if "__pycache__" not in path]
    assert written == []
    assert files_under(ROOT) == before


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


PAGE_MODULES = sorted((ROOT / "imgsim" / "dashboard").glob("*.py"))
# Not the page: what `imgsim dashboard` runs to start Streamlit (it names page.py
# by its path), before any session exists.
LAUNCHER = ROOT / "imgsim" / "dashboard" / "_server.py"


def test_the_page_never_unpickles_evaluates_or_opens_paths():
    forbidden = {"pickle", "marshal", "shelve", "eval", "exec", "open", "read_bytes", "Path"}
    modules = [APP, *(path for path in PAGE_MODULES if path != LAUNCHER)]
    assert ROOT / "imgsim" / "dashboard" / "page.py" in modules  # the page's code is found
    for path in modules:
        assert not source_calls(path) & forbidden, path.name
