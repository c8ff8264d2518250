"""One Chromium, one Streamlit server per distinct environment, and one Dask
cluster, each started once for the test session (when a test first needs it)
and stopped at its end; a fresh browser context (a new visitor) per test.

Every test here is marked ``e2e`` (by its module's ``pytestmark``, and by the
root conftest for the whole folder).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import (
    ARTIFACTS,
    TIMEOUT_MS,
    launched_chromium,
    require_chromium,
    streamlit_process,
)

# Playwright's `expect` waits 5 s by default, whatever the page's own default
# timeout: on a busy machine a page can take longer than that to show what it
# shows. The bound is the same for every wait; it only limits a broken run.
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """The session's one Chromium (Playwright's sync API)."""
    require_chromium()
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def server_url(tmp_path_factory) -> Iterator[str]:
    """The page as ``streamlit run app.py`` serves it, with the shipped settings."""
    require_chromium()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with streamlit_process(log=log) as (url, _):
        yield url


@pytest.fixture
def open_page(chromium, request) -> Iterator[Callable]:
    """Opens ``url`` in a new browser context (a new visitor, a new Streamlit session)
    at a viewport size; each is closed after the test, with a screenshot in
    tests/artifacts/ if the test failed."""
    opened = []

    def open_at(url: str, width: int = 1400, height: int = 1800):
        context = chromium.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        opened.append((context, page))
        page.goto(url)
        return page

    yield open_at
    report = getattr(request.node, "report_call", None)
    for number, (context, page) in enumerate(opened):
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = f"{request.node.name}-{number}.png".replace("/", "_")
            try:
                page.screenshot(path=ARTIFACTS / name, full_page=True)
            except Exception as error:  # a failed test's page may be gone: say so, go on
                print(f"no screenshot of {name}: {error}")
        context.close()


@pytest.fixture
def page(open_page, server_url):
    """The page, open at its default view in a new session, 1400 x 1800."""
    return open_page(server_url)


@pytest.fixture(scope="session")
def dask_scheduler(tmp_path_factory) -> Iterator[str]:
    """The session's Dask cluster: a scheduler and two one-thread worker processes
    on 127.0.0.1 that import imgsim from this checkout; yields its scheduler file."""
    from tests.e2e.dask_cluster import dask_client, dask_cluster

    with dask_cluster(tmp_path_factory.mktemp("dask"), workers=2) as scheduler_file:
        with dask_client(scheduler_file, 2):  # up, with both workers joined
            pass
        yield scheduler_file
