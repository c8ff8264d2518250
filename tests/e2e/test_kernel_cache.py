"""Numba's compiled kernels in new interpreters: cached for the next process, and
still running (and saying why) where no cache can be written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import ROOT
from tests.unit.metrics.test_engine import TOLERANCE, reference

pytestmark = pytest.mark.e2e


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with these Numba settings (and no others)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("NUMBA_")}
    environment |= env
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        check=True,
    )


COUNT_CACHE = """
import json
import imgsim.metrics._engine as engine
import imgsim.metrics._windows as windows
engine.warm_up()
kernels = [windows._uniform_stats, windows._uniform_pairs,
           windows._gaussian_stats, windows._gaussian_pairs]
print(json.dumps([[sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values())]
                  for k in kernels]))
"""


def test_compiled_kernels_are_cached_for_the_next_process(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first = json.loads(run_python(COUNT_CACHE, env).stdout)
    assert all(misses > 0 for _, misses in first)  # compiled...
    assert any((tmp_path / "cache").rglob("*.nbi"))  # ...and written where asked
    second = json.loads(run_python(COUNT_CACHE, env).stdout)
    assert all(hits > 0 and misses == 0 for hits, misses in second)  # loaded, not compiled


def test_without_a_writable_cache_the_kernels_still_run_and_say_why(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    env = {
        "NUMBA_CACHE_DIR": str(blocked),  # cannot hold a cache...
        "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",  # ...and no other place
    }
    code = (
        "import numpy as np; from imgsim.metrics import score_all_pairs; "
        "a = np.arange(64, dtype=np.uint8).reshape(8, 8); "
        "print(score_all_pairs([a, a.T.copy()], 'skimage').ssim[0, 1])"
    )
    completed = run_python(code, env)
    assert "Numba cannot cache its kernels" in completed.stderr
    a = np.arange(64, dtype=np.uint8).reshape(8, 8)
    assert float(completed.stdout) == pytest.approx(
        reference(a, a.T.copy(), "skimage"), abs=TOLERANCE
    )
