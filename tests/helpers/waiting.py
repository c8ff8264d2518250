"""Waiting on a condition, bounded by a deadline (never a sleep standing for one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL = 0.1  # seconds between two looks at a condition no event announces


def wait_until(condition: Callable[[], T], timeout: float, what: str) -> T:
    """Return the first true value of ``condition()``; fail after ``timeout`` seconds.

    For states that no event announces (a server's health, a process's memory);
    browser tests wait with Playwright's ``expect`` instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(POLL)
