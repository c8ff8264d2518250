"""Test hook for `test_cli`: a command that stops itself once it draws a given progress.

Put this folder first on PYTHONPATH and Python imports this module at start-up
(as any ``sitecustomize``); the command itself is unchanged. With
``IMGSIM_TEST_STOP_AT`` = TEXT, the command stops (SIGSTOP) right after its
progress bar is first given a progress whose message starts with TEXT, so the test
waits for that state (``waitpid`` with ``WUNTRACED``: no polling, no sleeping),
sends SIGINT, and lets it continue: the Ctrl-C lands mid-run, every time.
"""

import os
import signal

import imgsim.cli._progress as terminal

_stop_at = os.environ["IMGSIM_TEST_STOP_AT"]
_real_call = terminal.TerminalProgress.__call__
_stopped = [False]


def _call(self, progress):
    _real_call(self, progress)
    if not _stopped[0] and progress.message.startswith(_stop_at):
        _stopped[0] = True
        os.kill(os.getpid(), signal.SIGSTOP)


terminal.TerminalProgress.__call__ = _call
