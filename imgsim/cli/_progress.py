"""Progress on the terminal: one line, redrawn in place, with the time left."""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from imgsim.timing import Progress, format_duration

MIN_BAR = 10  # the bar's narrowest width before words are dropped


def fit_progress_line(fraction: float, message: str, eta: str, width: int, room: int) -> str:
    """``[###...] 42% message, 9 s left`` in at most ``room`` characters.

    What gives way, in order: the bar narrows (down to `MIN_BAR`), then the
    message loses whole words from its end, then the bar goes; the time left is
    kept whole, or the line is the percentage alone (or empty): no word is ever cut.
    """

    def line(bar: int, text: str) -> str:
        filled = round(fraction * bar)
        drawn = f"[{'#' * filled}{'.' * (bar - filled)}] " if bar else ""
        return f"{drawn}{fraction:4.0%} {text}{eta if text else eta.removeprefix(', ')}".rstrip()

    bar = min(width, max(MIN_BAR, width - (len(line(width, message)) - room)))
    words = message.split(" ")
    for bar_width in (bar, 0):
        for kept in range(len(words), -1, -1):
            text = " ".join(words[:kept]) + ("…" if 0 < kept < len(words) else "")
            if len(candidate := line(bar_width, text)) <= room:
                return candidate
    percent = f"{fraction:.0%}"
    return percent if len(percent) <= room else ""


class TerminalProgress:
    """A one-line progress bar with the time left, redrawn at most 10 times a second.

    Each line is fitted to the terminal's width by `fit_progress_line` (a
    wrapped line cannot be overwritten by ``\\r``) and padded over the previous
    one, so no stale text is ever left behind.
    """

    def __init__(
        self,
        stream: TextIO,
        width: int = 30,
        columns: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._width = width
        self._columns = columns
        self._clock = clock
        self._last = -math.inf
        self._shown = 0  # characters of the line on screen

    def __call__(self, progress: Progress) -> None:
        now = self._clock()
        if now - self._last < 0.1 and progress.fraction < 1:
            return
        self._last = now
        left = progress.remaining
        eta = f", {format_duration(left)} left" if left is not None and left >= 1 else ""
        columns = self._columns or shutil.get_terminal_size().columns
        line = fit_progress_line(
            progress.fraction, progress.message, eta, self._width, max(1, columns - 1)
        )
        self._stream.write("\r" + line.ljust(self._shown))
        self._stream.flush()
        self._shown = len(line)

    def finish(self) -> None:
        if self._shown:
            self._stream.write("\r" + " " * self._shown + "\r")
            self._stream.flush()
            self._shown = 0


@contextmanager
def terminal_progress() -> Iterator[TerminalProgress | None]:
    """A `TerminalProgress` on stderr when it is a terminal, else no progress."""
    bar = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        yield bar
    finally:
        if bar is not None:
            bar.finish()
