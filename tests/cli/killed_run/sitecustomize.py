"""Test hook for `test_neighbours`: a `python -m imgsim neighbours` run that stops itself.

Put this folder first on PYTHONPATH and Python imports this module at start-up
(as any ``sitecustomize``), before the command runs; the command itself is
unchanged. The test then waits for the process to stop (``waitpid`` with
``WUNTRACED``: no polling, no sleeping) and kills it with SIGKILL, at a known
point of the run:

- ``IMGSIM_TEST_BLOCK``: images per block, so that a small collection makes
  several tiles (the command sizes blocks for about a second of work each);
- ``IMGSIM_TEST_STOP_AFTER`` = K and ``IMGSIM_TEST_STOP_WHERE``: stop (SIGSTOP)
  once K tiles are in the cache, either just before the next tile is scored
  (``scoring``) or after it is scored and written to its temporary file, just
  before it is renamed into place (``writing``);
- ``IMGSIM_TEST_COUNT``: a file that receives the pairs of each tile scored,
  one line a tile.
"""

import os
import signal
from pathlib import Path

import imgsim.collection._runners as runners
import imgsim.collection._search as search

_block = int(os.environ["IMGSIM_TEST_BLOCK"])
_stop_after = int(os.environ.get("IMGSIM_TEST_STOP_AFTER", "-1"))
_where = os.environ.get("IMGSIM_TEST_STOP_WHERE")
_count = Path(os.environ["IMGSIM_TEST_COUNT"])
_real_score_tile = runners.score_tile
_real_replace = os.replace
_scored, _written = [0], [0]


def _stop() -> None:
    os.kill(os.getpid(), signal.SIGSTOP)


def _score_tile(*args, **kwargs):
    if _where == "scoring" and _scored[0] == _stop_after:
        _stop()
    _scored[0] += 1
    result = _real_score_tile(*args, **kwargs)
    with _count.open("a") as stream:
        stream.write(f"{result.pairs_computed}\n")
    return result


def _replace(source, target):
    if Path(target).parent.parent.name == "tiles":  # a finished tile going into place
        if _where == "writing" and _written[0] == _stop_after:
            _stop()
        _written[0] += 1
    return _real_replace(source, target)


search.block_size_for = lambda settings: _block
runners.score_tile = _score_tile
os.replace = _replace
