"""Helpers for real-browser tests: a Streamlit server and Debian's Chromium.

Chromium comes from Debian (``apt-get install -y chromium``), not from
``playwright install``. Without it the browser tests are skipped, unless
``IMGSIM_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns the skip into a failure.

Every wait here is on a state of the page (Playwright's ``expect`` and
``wait_for_*``) or of the server (its health endpoint), bounded by a generous
timeout that only limits how long a broken run hangs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import APP, ROOT
from tests.helpers.waiting import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots, for people to look at
START_TIMEOUT = 120  # seconds for a server to answer; generous, the machine is shared
TIMEOUT_MS = 120_000  # the longest any one wait on the page may take


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
    if os.environ.get("IMGSIM_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def answers(url: str) -> bool:
    """Whether the server at ``url`` says it is healthy."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


# What the server logs once it listens (port 0: the system picks a free port).
LISTENING = re.compile(r"(?:server started on|URL: http://)127\.0\.0\.1:(\d+)")


@contextmanager
def streamlit_process(
    *options: str, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``streamlit run app.py`` on 127.0.0.1 and a free port, until it answers.

    Yields its URL and process, and stops it afterwards. ``options`` are extra
    ``--section.option=value`` flags, ``env`` additions to this environment, and
    ``log`` the file that receives its output (tests/artifacts/ if not given).
    The port is the one the system gives Streamlit (``--server.port=0``), read
    back from its log, so no other process can take it in between.
    """
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        "--server.port=0",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
        *options,
    ]
    if log is None:
        ARTIFACTS.mkdir(exist_ok=True)
        log = ARTIFACTS / f"streamlit-{os.getpid()}-{time.monotonic_ns()}.log"
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(log, "w") as output:
        server = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
        try:

            def running() -> None:
                if server.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {server.returncode}; see {log}")

            def listening() -> str | None:
                running()
                found = LISTENING.search(log.read_text(errors="replace"))
                return found and f"http://127.0.0.1:{found.group(1)}"

            url = wait_until(listening, START_TIMEOUT, f"streamlit listening (log: {log})")

            def healthy() -> bool:
                running()
                return answers(url)

            wait_until(healthy, START_TIMEOUT, f"streamlit at {url} healthy (log: {log})")
            yield url, server
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)


@contextmanager
def streamlit_server() -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free local port; yield its URL."""
    with streamlit_process() as (url, _):
        yield url


def resident_memory(process: subprocess.Popen) -> int:
    """The process's resident memory, in bytes."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {process.pid}")


@contextmanager
def launched_chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


SAMPLE_LABEL = "Sample set (shown while nothing is uploaded)"


def wait_until_idle(page) -> None:
    """The app has no run in progress: its running indicator is not on the page.

    This cannot tell a run that has not started yet from one that has ended, so
    it never stands alone after an action: wait for what the action shows first.
    """
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached")


def choose_sample(page, name: str) -> None:
    """Pick a sample set in the sidebar, by the selectbox's label (not its position)."""
    wait_until_idle(page)
    page.get_by_role("combobox", name=SAMPLE_LABEL).click()
    page.get_by_role("option", name=name).click()


def switch_view(page, view: str) -> None:
    page.locator("[data-testid='stButtonGroup'] button", has_text=view).first.click()
