"""Where and how a command writes: the format, the file, the provenance, the report.

The format is --format, else implied by -o's extension, else a table. Every
file is checked before any work, so that a wrong path never costs a run, and
written through `imgsim.images.write_atomically`, so that a failed write
leaves the previous file whole; either failure is one line, ``imgsim: cannot
write FILE: REASON``, and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from imgsim import outputs
from imgsim.cli._options import (
    DefaultsHelpFormatter,
    UsageError,
    add_settings_options,
    checked_settings,
)
from imgsim.cli._paths import nested_images_hint
from imgsim.images import unique_names, write_atomically
from imgsim.settings import Settings

# Output formats implied by -o's extension (any other extension: --format, else table).
EXTENSION_FORMATS = {".json": "json", ".csv": "csv", ".parquet": "parquet"}


class OutputError(Exception):
    """A file that cannot be written: ``cannot write FILE: REASON``, exit status 2."""


def implying_extensions(formats: Mapping[str, object] | Sequence[str]) -> str:
    """The -o extensions that imply one of ``formats``, as help text (``.json or .csv``)."""
    return " or ".join(
        extension for extension, kind in EXTENSION_FORMATS.items() if kind in formats
    )


def add_command(
    commands: Any,
    name: str,
    run: Callable[[argparse.Namespace, Settings], int],
    formats: Mapping[str, object],
    **texts: str,
) -> argparse.ArgumentParser:
    """A subcommand that compares images: the settings options, --format and -o.

    Parameters
    ----------
    commands
        What ``ArgumentParser.add_subparsers`` returned.
    name : str
        The command's name.
    run : callable
        ``run(args, settings) -> exit status``.
    formats : mapping
        The output formats the command writes, by name (``table`` first).
    **texts
        ``help`` and ``description``, as for ``add_parser``.
    """
    sub = commands.add_parser(name, formatter_class=DefaultsHelpFormatter, **texts)
    sub.set_defaults(
        run=run,
        command_parser=sub,
        formats=tuple(formats),
        compares=True,
        make_settings=checked_settings,  # sweep has its own
    )
    add_settings_options(sub)
    sub.add_argument(
        "--format",
        choices=tuple(formats),
        default=None,
        help=f"output format (default: from -o's extension: {implying_extensions(formats)}, "
        "else table)",
    )
    sub.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE (default: standard output)",
    )
    return sub


def output_format(args: argparse.Namespace) -> str:
    """The format to write: --format, else -o's extension, else a table.

    Raises
    ------
    UsageError
        When --format contradicts -o's extension, or the extension names a
        format this command cannot write.
    """
    suffix = Path(args.output).suffix.lower() if args.output else ""
    implied = EXTENSION_FORMATS.get(suffix)
    if args.format is not None:
        if implied is not None and implied != args.format:
            raise UsageError(
                f"--format {args.format} contradicts -o {args.output}, whose extension means "
                f"{implied}; drop --format or change the file's extension"
            )
        return args.format
    if implied is not None and implied not in args.formats:
        raise UsageError(
            f"-o {args.output}: {args.command} cannot write {implied.upper()}; "
            f"use --format {'|'.join(args.formats)} with another extension"
        )
    return implied or "table"


def input_provenance(files: Sequence[Path]) -> dict[str, Any]:
    """Versions and each input's SHA-256, named as in the output (None: unreadable)."""
    names = unique_names([path.name for path in files])
    digests: list[tuple[str, str | None]] = []
    for name, path in zip(names, files, strict=True):
        try:
            digests.append((name, outputs.sha256_of(path)))
        except OSError:
            digests.append((name, None))  # its error line already says why
    return outputs.provenance(digests)


def provenance_for(args: argparse.Namespace, files: Sequence[Path]) -> dict[str, Any] | None:
    """The provenance that the output format carries (a table has none)."""
    return input_provenance(files) if args.format != "table" else None


def check_writable(path: str) -> None:
    """Raise `OutputError` unless ``path`` can be written: before any work is done.

    The folder must exist and be writable (the file is written next to it
    first, then renamed), the path must not be a folder, and an existing file
    must not be read-only (it would be replaced, not written).
    """
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        reason = "it is a folder; give a file name inside it"
    elif not folder.exists():
        reason = f"the folder {folder} does not exist"
    elif not folder.is_dir():
        reason = f"{folder} is not a folder"
    elif target.exists() and not target.is_file():
        return  # a pipe or a device, written in place
    elif target.is_file() and not os.access(target, os.W_OK):
        reason = "the file is read-only"
    elif not os.access(target.resolve().parent, os.W_OK | os.X_OK):
        reason = f"the folder {folder} cannot be written to"
    else:
        return
    raise OutputError(f"cannot write {path}: {reason}")


def write_file(path: str, write: Callable[[BinaryIO], object]) -> None:
    """Write a file whole or not at all: through a temporary file renamed into place.

    A symbolic link is written through (the file it names is replaced, the link
    kept); a file keeps its permissions, and a new one gets the usual ones
    (the temporary file's are the owner's alone). A pipe or a device, which
    cannot be replaced (``-o /dev/stdout``), is written in place.

    Raises
    ------
    OutputError
        When the file cannot be written, with the system's reason.
    """
    target = Path(path)
    try:
        if target.exists() and not target.is_file():
            with open(target, "wb") as stream:
                write(stream)
            return
        real = target.resolve()
        mode = stat.S_IMODE(real.stat().st_mode) if real.exists() else new_file_mode()

        def write_with_mode(stream: BinaryIO) -> None:
            os.chmod(stream.fileno(), mode)
            write(stream)

        write_atomically(real, write_with_mode)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def new_file_mode() -> int:
    """The permissions ``open`` would give a new file: 0o666 less the umask."""
    # The umask can only be read by setting it; 0o022 meanwhile, should a thread
    # create a file in between.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_output(args: argparse.Namespace, text: str) -> None:
    """The command's output, to -o's file or to standard output."""
    if args.output:
        write_file(args.output, lambda stream: stream.write(text.encode("utf-8")))
    else:
        sys.stdout.write(text)


def enough_images(result: Any, files: int, paths: Sequence[str] = ()) -> bool:
    """Report unreadable files; False when fewer than two images remain (with a hint
    when a folder among ``paths`` has its images in subfolders only)."""
    hint = nested_images_hint(paths, "give those subfolders as PATHs") if paths else ""
    for error in result.errors:
        print(f"imgsim: {error}", file=sys.stderr)
    if len(result.images) >= 2:
        return True
    print(
        f"imgsim: {len(result.images)} of {files} images could be read; "
        f"at least two are needed to compare{hint}",
        file=sys.stderr,
    )
    return False
