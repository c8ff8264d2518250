"""The `imgsim` command: one module per subcommand."""

from imgsim.cli._main import main

__all__ = ["main"]
