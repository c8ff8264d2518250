"""`imgsim dashboard` serves the page from any folder, on loopback only.

A real server in a subprocess, started from an empty folder (so no
``.streamlit/config.toml`` is read), on a free port, stopped by the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.browser import answers
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.e2e

STARTUP_DEADLINE = 180  # s; a bound on a hung start, not a speed requirement


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port``, from /proc (no traffic sent)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                if width == 8:
                    found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
                else:
                    found.add(address)
    return found


def wait_for_health(process: subprocess.Popen, port: int) -> None:
    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"imgsim dashboard exited with {process.returncode}")
        return answers(f"http://127.0.0.1:{port}")

    wait_until(healthy, STARTUP_DEADLINE, "imgsim dashboard's health endpoint")


def test_imgsim_dashboard_serves_from_any_folder_on_loopback_only(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "imgsim", "dashboard", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_health(process, port)
        assert listening_addresses(port) == {"127.0.0.1"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b"<title>" in page.read()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
