"""How many threads the kernels may use: the cores this process may run on."""

from __future__ import annotations

import os


def worker_count(tasks: int) -> int:
    """Threads for ``tasks`` independent tasks: at most the cores this process may use.

    ``os.sched_getaffinity`` counts the cores a container or ``taskset`` allows,
    which ``os.cpu_count`` (the machine's) does not.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, tasks))
