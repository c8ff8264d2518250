"""A real Dask cluster on 127.0.0.1 for the tests and the benchmark.

A scheduler and worker processes started as `dask scheduler` / `dask worker`
commands, on ports the system picks (port 0, address read back from a
scheduler file), without dashboards, and always stopped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.helpers import ROOT

START_TIMEOUT = 120  # seconds; generous, the machine is shared
STOP_TIMEOUT = 30
# `python -m dask`, in an interpreter that cannot find imgsim even where it is
# installed (an editable install adds a finder to sys.meta_path, an older one a
# folder to sys.path): a cluster set up without imgsim, whatever the venv holds.
WITHOUT_IMGSIM = """
import sys
from pathlib import Path

sys.meta_path[:] = [
    finder for finder in sys.meta_path
    if "imgsim" not in getattr(finder, "__module__", "") + type(finder).__module__
]
sys.path[:] = [entry for entry in sys.path if not (Path(entry) / "imgsim").is_dir()]
sys.argv[0] = "dask"
from dask.cli import run_cli

run_cli()
"""


@contextmanager
def dask_cluster(
    folder: Path, workers: int = 2, threads: int = 1, imgsim_importable: bool = True
) -> Iterator[str]:
    """Yield the scheduler file of a scheduler and ``workers`` worker processes.

    Connect with ``distributed.Client(scheduler_file=...)``. The processes
    import imgsim from this checkout (PYTHONPATH), unless ``imgsim_importable``
    is False (a cluster set up without it: then they cannot import imgsim at all),
    and keep their files under ``folder`` (their current folder).
    """
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    paths = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    paths = [path for path in paths if Path(path).resolve() != ROOT]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *paths] if imgsim_importable else paths),
    }
    dask = (
        [sys.executable, "-m", "dask"]
        if imgsim_importable
        else [sys.executable, "-c", WITHOUT_IMGSIM]
    )
    commands = [
        [
            *dask,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        ],
    ] + [
        [
            *dask,
            "worker",
            "--scheduler-file",
            str(scheduler_file),
            "--host",
            "127.0.0.1",
            "--nthreads",
            str(threads),
            "--no-dashboard",
            "--local-directory",
            str(folder / f"worker-{index}"),
            "--death-timeout",
            str(START_TIMEOUT),
            # A nanny starts the worker in a new interpreter, which could find imgsim.
            *([] if imgsim_importable else ["--no-nanny"]),
        ]
        for index in range(workers)
    ]
    with ExitStack() as stack:
        processes = []
        for index, command in enumerate(commands):
            log = stack.enter_context((folder / f"process-{index}.log").open("wb"))
            processes.append(
                subprocess.Popen(
                    command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=folder
                )
            )
        try:
            yield str(scheduler_file)
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in reversed(processes):
                try:
                    process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(STOP_TIMEOUT)


@contextmanager
def dask_client(scheduler_file: str, workers: int) -> Iterator[object]:
    """A client of the cluster, once ``workers`` workers have joined."""
    from distributed import Client

    with Client(scheduler_file=scheduler_file, timeout=f"{START_TIMEOUT}s") as client:
        client.wait_for_workers(workers, timeout=START_TIMEOUT)
        yield client
