"""Reaching a Dask scheduler: the one way the CLI and the page's index find a cluster.

The address comes from an explicit option or from ``$DASK_SCHEDULER_ADDRESS``
(Dask's own convention); it is checked before any work, and a scheduler that
cannot be reached is named with where its address came from.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"  # Dask's own convention


class SchedulerAddressError(ValueError):
    """An address that is not ``[PROTOCOL://]HOST:PORT`` with a port in 1-65535, or one
    that cannot be used because `distributed` is not installed."""


# How long to wait for the scheduler: long enough for a busy or distant one to answer,
# short enough that a wrong address is reported promptly.
SCHEDULER_TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class Scheduler:
    """A Dask scheduler's address, and where it came from (for messages)."""

    address: str
    source: str  # "--scheduler" or "$DASK_SCHEDULER_ADDRESS"
    host: str
    port: int


def scheduler_address(option: str | None) -> Scheduler | None:
    """The scheduler to run on (--scheduler, else $DASK_SCHEDULER_ADDRESS), checked.

    The address is read by Dask's own parser (`distributed.comm.addressing`),
    so what is accepted here is what a Dask client accepts; `distributed` is
    imported only when there is an address.

    Raises
    ------
    SchedulerAddressError
        When the address is not ``[PROTOCOL://]HOST:PORT`` with a known
        protocol and a port in 1-65535, or when `distributed` is not installed.
    """
    if option:
        address, source = option, "--scheduler"
    elif os.environ.get(SCHEDULER_VARIABLE):
        address, source = os.environ[SCHEDULER_VARIABLE], f"${SCHEDULER_VARIABLE}"
    else:
        return None
    try:
        from distributed.comm import registry
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError:
        raise SchedulerAddressError(
            f'{source}: running on a Dask scheduler needs distributed: pip install "imgsim[dask]"'
        ) from None
    address = address.strip()
    try:
        protocol, location = parse_address(address)
        registry.get_backend(protocol)  # a protocol Dask knows (tcp, tls, ws...)
        host, port = parse_host_port(location)
    except ValueError:
        host, port = "", 0
    if not host or not 1 <= port <= 65535:
        raise SchedulerAddressError(
            f"{source}: expected a Dask scheduler address such as tcp://10.0.0.5:8786 "
            f"(host and a port from 1 to 65535), got {address!r}"
        )
    return Scheduler(address, source, host, port)


@contextmanager
def dask_client(scheduler: Scheduler | None) -> Iterator[object | None]:
    """A Dask client connected to ``scheduler``, or None to run on this machine.

    Raises
    ------
    ConnectionError
        When nothing answers at the address within `SCHEDULER_TIMEOUT`; the
        message names the address and where it came from.
    """
    if scheduler is None:
        yield None
        return
    from distributed import Client

    given = f"the Dask scheduler at {scheduler.address} (from {scheduler.source})"
    try:
        # A closed port is refused at once; Dask itself would retry until its timeout.
        socket.create_connection((scheduler.host, scheduler.port), SCHEDULER_TIMEOUT).close()
        client = Client(scheduler.address, timeout=f"{SCHEDULER_TIMEOUT}s")
    except (OSError, TimeoutError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise ConnectionError(
            f"{given} could not be reached ({reason}); start it (dask scheduler) or "
            f"correct {scheduler.source}"
        ) from error
    with client:
        yield client
