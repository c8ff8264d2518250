"""A decompression bomb in a process of its own: its resident memory stays flat."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.e2e


BOMB_PROCESS = """
import resource, sys
import imgsim
from tests.helpers.images import png_header_only
bomb = png_header_only(50000, 50000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    imgsim.decode(bomb, "bomb.png")
except imgsim.ImageReadError as error:
    print(error, file=sys.stderr)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(after - before)
"""


def test_the_bomb_leaves_the_resident_memory_of_its_process_flat():
    """The peak RSS of a process that meets the bomb, which sees every allocation."""
    completed = subprocess.run(
        [sys.executable, "-c", BOMB_PROCESS],
        capture_output=True,
        check=True,
        cwd=ROOT,
        text=True,
        timeout=120,
    )
    assert "image is too large" in completed.stderr
    growth_kib = int(completed.stdout)  # ru_maxrss is in KiB on Linux
    assert growth_kib < 20 * 1024
