"""The command line: in this process through ``main(argv)``, or in a new process.

`run_cli` calls `imgsim.cli.main` here, with the output captured, the
environment and the folder set for the call and restored after it: the same
exit status, stdout and stderr as a process, without a process's start-up.
`run_process` runs ``python -m imgsim`` for what only a process shows
(``-m`` itself, signals, a terminal, Numba's environment).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from imgsim.cli import main

from . import ROOT

TIMEOUT = 120  # seconds; a bound for a hung command, not a speed requirement


def run_cli(
    *args: object, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run ``imgsim ARGS`` in this process; ``env`` adds to (or overrides) the environment."""
    argv = [str(arg) for arg in args]
    out, err = io.StringIO(), io.StringIO()
    saved_environment, saved_folder = dict(os.environ), os.getcwd()
    try:
        os.environ.update(env or {})
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exited:  # argparse's usage errors and --help
                status = exited.code if isinstance(exited.code, int) else int(bool(exited.code))
    finally:
        os.chdir(saved_folder)
        os.environ.clear()
        os.environ.update(saved_environment)
    return subprocess.CompletedProcess(["imgsim", *argv], status, out.getvalue(), err.getvalue())


def run_process(
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
