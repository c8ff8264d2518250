"""Shared fixtures (photos from skimage.data) and the suite's two lanes.

``python -m pytest -m "not e2e"`` is the fast lane: the library and the page
through AppTest, in one process. Everything that starts a process, a server, a
browser or a Dask cluster is marked ``e2e``: all of ``tests/e2e`` and
``tests/cli`` by their modules' ``pytestmark``, and the tests of
``tests/test_cli.py`` here, by what their code calls (that file is being
rewritten elsewhere, so it carries no marks of its own yet).
"""

from __future__ import annotations

import inspect
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import skimage.data

from .helpers.images import encode, noise_image
from .helpers.shapes import shape

__all__ = ["encode", "noise_image"]  # tests/test_cli.py imports them from here

# tests/test_cli.py also imports `shape` from tests/test_classify.py, which is now
# tests/unit/analyses/test_classify.py (and `shape` is in tests/helpers/shapes.py).
# Until that file moves into tests/cli/ and imports from tests.helpers, this
# stands for the old module (with `shape` only: no test is collected twice).
_old_test_classify = types.ModuleType(f"{__package__}.test_classify")
_old_test_classify.shape = shape
sys.modules.setdefault(_old_test_classify.__name__, _old_test_classify)

TESTS = Path(__file__).resolve().parent
E2E_FOLDERS = ("e2e", "cli")
# Names whose use in a test's code (or in a helper or fixture of its module that
# it reaches) means the test starts a process.
PROCESS_NAMES = frozenset({"subprocess", "pty", "Popen", "fork"})


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    """A 451 x 300 RGB photo (scikit-image's cat)."""
    return skimage.data.chelsea()


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """A 600 x 400 RGB photo."""
    return skimage.data.coffee()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A 512 x 512 RGB photo."""
    return skimage.data.astronaut()


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _code_names(constant)
    return names


def _starts_processes(function, module: types.ModuleType, seen: set) -> bool:
    """Whether ``function``, or a function of ``module`` it names, uses a process."""
    function = inspect.unwrap(function)
    if function in seen or not hasattr(function, "__code__"):
        return False
    seen.add(function)
    names = _code_names(function.__code__)
    if names & PROCESS_NAMES:
        return True
    return any(
        _starts_processes(value, module, seen)
        for value in (module.__dict__.get(name) for name in names)
        if inspect.isfunction(value) and value.__module__ == module.__name__
    )


def starts_processes(item: pytest.Function) -> bool:
    module = item.module
    seen: set = set()
    functions = [item.function]
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        functions += [d.func for d in definitions if d.func.__module__ == module.__name__]
    return any(_starts_processes(function, module, seen) for function in functions)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = item.path.relative_to(TESTS)
        if relative.parts[0] in E2E_FOLDERS:
            item.add_marker(pytest.mark.e2e)  # also said by each module's pytestmark
        elif relative == Path("test_cli.py") and starts_processes(item):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see failures."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
