"""``imgsim dashboard``: the page, served by Streamlit's own command line in this process.

Streamlit is imported only when the command runs (`imgsim.dashboard.serve`), so that the rest of
imgsim works without it (it comes with the ``imgsim[app]`` extra).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from imgsim.cli._options import DefaultsHelpFormatter, UsageError
from imgsim.collection import COLLECTION_VARIABLE
from imgsim.dashboard import DEFAULT_PORT, LOOPBACK, serve
from imgsim.settings import Settings


def add_dashboard(commands: Any) -> None:
    """Add ``dashboard`` to the subcommands ``commands``."""
    parser = commands.add_parser(
        "dashboard",
        formatter_class=DefaultsHelpFormatter,
        help="start the dashboard: the page, in a browser",
        description="Serve the page with Streamlit, with imgsim's safe server settings "
        "(this machine only unless --address, XSRF protection, no error details for "
        "visitors, no usage statistics). Needs the app extra: "
        'pip install "imgsim[app]". Ctrl-C stops it.',
    )
    parser.set_defaults(run=run, command_parser=parser, compares=False)
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, metavar="N", help="the port to serve on"
    )
    parser.add_argument(
        "--address",
        metavar="A",
        help=f"the address to serve on (default: {LOOPBACK}, this machine only)",
    )
    parser.add_argument(
        "--collection",
        metavar="FOLDER",
        help=f"serve this folder of images as a collection (sets ${COLLECTION_VARIABLE})",
    )


def port_number(text: str) -> int:
    """A TCP port, 1 to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return value


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    """Serve the page until Ctrl-C; 2 when Streamlit is not installed.

    Raises
    ------
    UsageError
        When --collection is not a folder, or has a name that
        ``$IMGSIM_COLLECTION`` cannot hold.
    """
    if args.collection:
        os.environ[COLLECTION_VARIABLE] = collection_value(args.collection)
    try:
        serve(args.port, args.address)
    except ImportError:
        print('imgsim: the dashboard needs Streamlit: pip install "imgsim[app]"', file=sys.stderr)
        return 2
    except SystemExit as exited:  # click ends every command so, 0 included
        return exit_status(exited.code)
    return 0


def collection_value(folder: str) -> str:
    """``$IMGSIM_COLLECTION`` for one folder: its absolute path.

    Raises
    ------
    UsageError
        When it is not a folder, or its path holds `os.pathsep`, which separates
        the variable's entries.
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UsageError(f"--collection: {folder} is not a folder")
    absolute = str(path.resolve())
    if os.pathsep in absolute:
        raise UsageError(
            f"--collection: {absolute} holds {os.pathsep!r}, which separates the entries of "
            f"${COLLECTION_VARIABLE}; give a folder without it"
        )
    return absolute


def exit_status(code: object) -> int:
    """The exit status that ``SystemExit(code)`` stands for, as Python's own exit sees it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(f"imgsim: {code}", file=sys.stderr)  # a message: Python prints it and exits with 1
    return 1
