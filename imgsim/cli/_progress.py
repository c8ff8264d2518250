"""Progress on the terminal: one line drawn by tqdm, with imgsim's own time left.

tqdm draws and redraws the line, pads it over the previous one, reads the
terminal's width and stays silent when stderr is not a terminal. The time
left is `imgsim.timing.Progress.remaining` (the time model's, corrected by
the current stage's speed), not tqdm's rate, which knows nothing of stages.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

from imgsim.timing import Progress, format_duration

MIN_BAR = 10  # the bar's narrowest width before words are dropped
REDRAW_SECONDS = 0.1  # at most 10 redraws a second
# tqdm fills {bar} up to its width, which leaves the terminal's last column free: a
# line that fills it wraps on some terminals, and a wrapped line cannot be redrawn.
WITH_BAR = "[{bar}] {percentage:3.0f}% {desc}"
WITHOUT_BAR = "{percentage:3.0f}% {desc}"
TEXT_ONLY = "{desc}"
DEFAULT_COLUMNS = 80  # when the terminal does not say its width


def fit_progress_text(fraction: float, message: str, eta: str, room: int) -> tuple[str, str]:
    """The tqdm ``bar_format`` and the text for a line of at most ``room`` characters.

    The line is ``[###...] 42% message, 9 s left``. What gives way, in order:
    the bar narrows (tqdm fills what is left, down to `MIN_BAR`), then the
    message loses whole words from its end, then the bar goes; the time left
    is kept whole, or the line is the percentage alone (or empty). tqdm itself
    would cut the line at the terminal's edge, in the middle of a word:
    hence this hand-written fitting.

    Parameters
    ----------
    fraction : float
        Share of the work done, in [0, 1].
    message : str
        What is being done now.
    eta : str
        ``", 9 s left"``, or ``""``.
    room : int
        The characters the line may take.
    """
    percent = f"{fraction * 100:3.0f}%"  # as tqdm's {percentage:3.0f}% shows it
    words = message.split(" ")
    for bar_format, fixed in (
        (WITH_BAR, len("[] ") + MIN_BAR + len(percent) + 1),
        (WITHOUT_BAR, len(percent) + 1),
    ):
        for kept in range(len(words), -1, -1):
            text = " ".join(words[:kept]) + ("…" if 0 < kept < len(words) else "")
            text = f"{text}{eta if text else eta.removeprefix(', ')}"
            if fixed + len(text) <= room:
                return bar_format, text
    percent = percent.strip()
    return TEXT_ONLY, percent if len(percent) <= room else ""


class TerminalProgress:
    """A one-line progress bar with the time left, redrawn at most 10 times a second.

    A progress callback (`imgsim.timing.ProgressCallback`). Nothing is drawn
    when ``stream`` is not a terminal (`enabled` is then False).

    Parameters
    ----------
    stream : text stream
        Where the bar is drawn (stderr).
    columns : int, optional
        The terminal's width; by default tqdm reads it at each redraw. The
        line takes one column less.
    clock : callable
        Seconds, for the redraws' pace.
    """

    def __init__(
        self,
        stream: TextIO,
        columns: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._last = -float("inf")
        self._bar = tqdm(
            total=1.0,
            file=stream,
            disable=None,  # tqdm's own test: drawn only on a terminal
            leave=False,  # cleared when closed: the command's output follows
            # The width tqdm may use: as it reads it from a terminal, one column less.
            ncols=None if columns is None else max(1, columns - 1),
            dynamic_ncols=columns is None,
            ascii=".#",
            bar_format=TEXT_ONLY,  # tqdm draws at once: an empty line until the first report
        )

    @property
    def enabled(self) -> bool:
        """Whether the bar is drawn (``stream`` is a terminal)."""
        return not self._bar.disable

    def __call__(self, progress: Progress) -> None:
        """Show ``progress``: its share done, its message and the time left."""
        now = self._clock()
        # Redrawn here rather than through tqdm's update(), whose pace follows its own
        # clock and count; the last report (done) is always shown.
        if not self.enabled or (now - self._last < REDRAW_SECONDS and progress.fraction < 1):
            return
        self._last = now
        left = progress.remaining
        eta = f", {format_duration(left)} left" if left is not None and left >= 1 else ""
        room = self._bar.format_dict["ncols"] or DEFAULT_COLUMNS - 1
        bar_format, text = fit_progress_text(progress.fraction, progress.message, eta, room)
        self._bar.bar_format = bar_format
        self._bar.n = progress.fraction
        self._bar.set_description_str(text, refresh=False)
        self._bar.refresh()

    def finish(self) -> None:
        """Clear the line; nothing more is drawn."""
        self._bar.close()


@contextmanager
def terminal_progress() -> Iterator[TerminalProgress | None]:
    """A `TerminalProgress` on stderr when it is a terminal, else no progress at all
    (None: without anyone watching, the analyses skip their time model too)."""
    bar = TerminalProgress(sys.stderr)
    try:
        yield bar if bar.enabled else None
    finally:
        bar.finish()
