"""Helpers for real-browser tests: a Streamlit server and Debian's Chromium.

Chromium comes from Debian (``apt-get install -y chromium``), not from
``playwright install``. Without it the browser tests are skipped, unless
``IMGSIM_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns the skip into a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "tests" / "artifacts"


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
    if os.environ.get("IMGSIM_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def streamlit_process(*options: str, timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``streamlit run app.py`` on a free local port; yield its URL and process.

    ``options`` are extra ``--section.option=value`` flags.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
        *options,
    ]
    log_path = ARTIFACTS / f"streamlit-{port}.log"
    ARTIFACTS.mkdir(exist_ok=True)
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(url, server, timeout)
            yield url, server
        finally:
            server.terminate()
            server.wait(timeout=20)


@contextmanager
def streamlit_server(timeout: float = 60) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free local port; yield its URL."""
    with streamlit_process(timeout=timeout) as (url, _):
        yield url


def resident_memory(process: subprocess.Popen) -> int:
    """The process's resident memory, in bytes."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {process.pid}")


def wait_until_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}; see {ARTIFACTS}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


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
    """The app has finished its run: the running indicator is gone."""
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached")


def choose_sample(page, name: str) -> None:
    """Pick a sample set in the sidebar, by the selectbox's label (not its position)."""
    wait_until_idle(page)
    page.get_by_role("combobox", name=SAMPLE_LABEL).click()
    page.get_by_role("option", name=name).click()


def switch_view(page, view: str) -> None:
    page.locator("[data-testid='stButtonGroup'] button", has_text=view).first.click()
