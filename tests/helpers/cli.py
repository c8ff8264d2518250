"""The command line as a user runs it: ``python -m imgsim`` in a new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from . import ROOT

TIMEOUT = 120  # seconds; a bound for a hung command, not a speed requirement


def run_cli(
    *args: object, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m imgsim ARGS``; ``env`` adds to (or overrides) this environment."""
    return subprocess.run(
        [sys.executable, "-m", "imgsim", *map(str, args)],
        capture_output=True,
        check=False,
        text=True,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        timeout=TIMEOUT,
    )


def strict_json(text: str) -> dict:
    """JSON that must be standard: NaN and Infinity are refused."""

    def refuse(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)
