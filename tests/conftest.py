"""Shared fixtures (photos from skimage.data) and the suite's two lanes.

``python -m pytest -m "not e2e"`` is the fast lane: the library and the page
through AppTest, in one process. Everything that starts a process, a server, a
browser or a Dask cluster is marked ``e2e``: all of ``tests/e2e`` and
the tests of ``tests/cli`` that start a process (`run_process`, a terminal, a
signal), found from their code: the others call ``main(argv)`` in this process.
"""

from __future__ import annotations

import inspect
import types
from pathlib import Path

import numpy as np
import pytest
import skimage.data

TESTS = Path(__file__).resolve().parent
E2E_FOLDERS = ("e2e",)
# Names whose use in a test's code (or in a helper or fixture of its module that
# it reaches) means the test starts a process.
PROCESS_NAMES = frozenset(
    {"subprocess", "pty", "Popen", "fork", "run_process", "run_interrupted", "run_killed"}
)


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
        if relative.parts[0] in E2E_FOLDERS or (
            relative.parts[0] == "cli" and starts_processes(item)
        ):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see failures."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
