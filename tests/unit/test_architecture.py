"""The house's rules, held by the code's own imports.

Data flows one way through the subpackages; nothing imports in a circle, no
module takes another's private names, only the dashboard imports Streamlit,
and no module outgrows one concern.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "imgsim"
# Bottom to top: a subpackage may import only those before it.
FLOW = (
    "_version",
    "settings",
    "images",
    "metrics",
    "data",
    "timing",
    "analyses",
    "collection",
    "outputs",
    "dashboard",  # its __init__ names the page and its settings without Streamlit
    "cli",  # the top: `imgsim dashboard` starts the page
)
MAX_LINES = 600


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 else relative.stem


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every absolute import in ``path``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_each_module_imports_only_down_the_flow(path):
    own = part_of(path)
    if own in ("__init__", "__main__"):
        return  # the package's face re-exports every layer; -m runs the CLI
    allowed = set(FLOW[: FLOW.index(own) + 1])
    for module, _ in imports(path):
        if module == "imgsim":
            assert own in ("cli", "dashboard"), f"{path.name} imports the package's face"
            continue
        if not module.startswith("imgsim."):
            continue
        target = module.split(".")[1]
        assert target in allowed, f"{path} imports {module}, which sits above {own}"
        if target == own and own in FLOW[1:]:
            continue  # its own subpackage's private modules
        assert not any(part.startswith("_") for part in module.split(".")[2:]), (
            f"{path} imports the private module {module} of another subpackage"
        )


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_imports_another_modules_private_names(path):
    for module, names in imports(path):
        if module.startswith("imgsim"):
            private = [name for name in names if name.startswith("_") and name != "__version__"]
            assert not private, f"{path} imports {private} from {module}"


def test_only_the_dashboard_imports_streamlit():
    outside = [
        path
        for path in modules()
        if part_of(path) != "dashboard"
        and any(module.split(".")[0] == "streamlit" for module, _ in imports(path))
    ]
    assert outside == []


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_outgrows_one_concern(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path} has {lines} lines"


def test_importing_the_core_loads_no_ui_and_no_cluster():
    import subprocess
    import sys

    code = (
        "import sys, imgsim, imgsim.cli, imgsim.outputs, imgsim.collection; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'streamlit', 'distributed', 'dask', 'pyarrow', 'plotly', 'pandas'}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "[]"
