"""Command line: ``imgsim {compare,sweep,classify,neighbours,diff,dashboard} [options] ...``.

A thin shell over the analyses: each command is a module (``_compare``,
``_sweep``, ...) that adds its subparser and runs it; this one builds the
parser from them, turns the options into `Settings` and dispatches. Exit
status: 0 on success (bad files are reported, one line each on stderr, and the
rest still compared), 1 when too few images could be read, 2 for a usage error
or a request over the limits or an output that cannot be written, 130 on
Ctrl-C (one line, no traceback). Everything the command line can get wrong
(options, formats, the scheduler's address, output paths) is checked before
any work; a usage error shows the command's own usage, an output that cannot
be written is one line (``imgsim: cannot write FILE: REASON``), and no
traceback ever reaches the terminal for them.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from imgsim import outputs
from imgsim.cli._classify import add_classify
from imgsim.cli._compare import add_compare
from imgsim.cli._dashboard import add_dashboard
from imgsim.cli._diff import add_diff
from imgsim.cli._neighbours import add_neighbours
from imgsim.cli._options import CommandParser, UsageError
from imgsim.cli._output import OutputError, check_writable, output_format
from imgsim.cli._sweep import add_sweep
from imgsim.settings import LimitError, Limits, Settings

# In the order `imgsim --help` lists them.
COMMANDS = (add_compare, add_sweep, add_classify, add_neighbours, add_diff, add_dashboard)

INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports a command ended by Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    # parse_args would report extras with the top-level usage; the command's own
    # usage says what that command takes.
    args, extras = parser.parse_known_args(argv)
    if extras:
        args.command_parser.error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        if not args.compares:  # the dashboard: no settings, no output
            return args.run(args, None)
        settings = prepared_settings(args)
        if args.output:
            check_writable(args.output)
        return args.run(args, settings)
    except UsageError as error:
        args.command_parser.error(str(error))  # exits 2 with the command's usage
        raise  # not reached: error() exits
    except (LimitError, OutputError) as error:  # one line: the command line itself is fine
        print(f"imgsim: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C is an answer, not a failure: one line, and the shell's status for SIGINT
        # (the `with` blocks have already stopped the progress bar, threads and client).
        print(f"imgsim: interrupted{interrupted_note(args)}", file=sys.stderr)
        return INTERRUPTED


def prepared_settings(args: argparse.Namespace) -> Settings:
    """The limits in force (``args.limits``), the settings and the output format, checked.

    Raises
    ------
    UsageError
        For a malformed limit variable, unusable settings or a wrong format.
    LimitError
        For a --size over the size bound.
    """
    try:
        args.limits = Limits.from_environment()
    except ValueError as error:
        raise UsageError(str(error)) from None
    settings = args.make_settings(args, args.limits)
    args.format = output_format(args)
    return settings


def interrupted_note(args: argparse.Namespace) -> str:
    """What an interrupted run leaves behind worth knowing (neighbours' cached tiles)."""
    if getattr(args, "cache", None):
        return (
            f"; the images prepared and the tiles scored so far are kept in {args.cache}, "
            "and the same command run again resumes from them"
        )
    return ""


def program_name() -> str:
    """``python -m imgsim`` when run as a module, else the console script's name."""
    invoked = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if invoked in ("", "__main__.py", "-c"):
        return "python -m imgsim"
    return invoked


def version_text() -> str:
    """``imgsim 0.1.0 (numpy 2.4.6, ...)``: the libraries whose versions decide the numbers."""
    versions = outputs.library_versions()
    libraries = ", ".join(f"{name} {value}" for name, value in versions.items() if name != "imgsim")
    return f"imgsim {versions['imgsim']} ({libraries})"


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, each added by its module."""
    # Its subparsers are CommandParsers too (argparse makes them of the parser's class).
    parser = CommandParser(
        prog=program_name(),
        description="How similar are these images? MSE, PSNR and SSIM for every pair.",
        # Keeps --version on one line.
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(commands)
    return parser
