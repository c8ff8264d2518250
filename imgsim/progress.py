"""Progress reports for long work, with an estimate of the time left."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One progress report.

    Attributes
    ----------
    done, total : float
        Work done so far and in all, in seconds that the time model
        (`imgsim.cost`) expects on this machine.
    message : str
        What is being done now, e.g. "comparing 3 of 15 pairs".
    elapsed : float
        Seconds since the work started.
    """

    done: float
    total: float
    message: str
    elapsed: float

    @property
    def fraction(self) -> float:
        """Share of the work done, in [0, 1]."""
        return min(1.0, self.done / self.total) if self.total > 0 else 1.0

    @property
    def remaining(self) -> float | None:
        """Estimated seconds left, or None before anything is done.

        The model's seconds left, times the run's speed against the model so
        far: elapsed over done, with `PRIOR_SECONDS` of the model's own speed
        mixed in, so that one slow first step cannot make the estimate jump,
        while a run that is steadily slower than the model (a busy machine) is
        believed within a few seconds and the countdown keeps pace with it.
        """
        if self.done <= 0 or self.elapsed <= 0:
            return None
        prior = min(PRIOR_SECONDS, PRIOR_SHARE * self.total)
        speed = (self.elapsed + prior) / (self.done + prior)
        return max(0.0, self.total - self.done) * speed


# Weight of the model's speed in the time left, in expected seconds of work.
PRIOR_SECONDS = 0.5
PRIOR_SHARE = 0.2  # of the whole run, for runs shorter than 5 s


ProgressCallback = Callable[[Progress], None]


class ProgressTracker:
    """Counts work units and reports them to an optional callback."""

    def __init__(self, total: float, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0.0
        self._callback = callback
        self._start = time.monotonic()

    def advance(self, units: float, message: str) -> None:
        self.update(self.done + units, message)

    def update(self, done: float, message: str) -> None:
        self.done = done
        if self._callback is not None:
            elapsed = time.monotonic() - self._start
            self._callback(Progress(self.done, self.total, message, elapsed))


def format_duration(seconds: float) -> str:
    """Short human duration: "0.4 s", "12 s", "3 min 05 s", "18 h 24 min"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"
