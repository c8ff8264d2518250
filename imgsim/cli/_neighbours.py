"""``imgsim neighbours``: each image's most similar images, for large collections."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from functools import partial
from typing import Any, BinaryIO

from imgsim import outputs
from imgsim.cli._options import UsageError, parse_ssim, positive_int
from imgsim.cli._output import add_command, check_writable, write_file, write_output
from imgsim.cli._paths import expand_named_paths, nested_images_hint
from imgsim.cli._progress import terminal_progress
from imgsim.collection import (
    DEFAULT_TOP,
    SCHEDULER_VARIABLE,
    Scheduler,
    SchedulerAddressError,
    dask_client,
    neighbours,
    scheduler_address,
)
from imgsim.settings import Settings

FORMATS = {
    "table": outputs.neighbours_to_table,
    "csv": outputs.neighbours_to_csv,
    "json": outputs.neighbours_to_json,
}


def add_neighbours(commands: Any) -> None:
    """Add ``neighbours`` to the subcommands ``commands``."""
    parser = add_command(
        commands,
        "neighbours",
        run,
        FORMATS | {"parquet": None},
        help="each image's most similar images, for collections of thousands",
        description="For every image, its --top most similar other images (or, with "
        "--against, its best matches in a second set), without an N x N matrix; with "
        "--min-ssim also every pair at or above it and their groups. A PATH may be a "
        "file, a folder (--recursive to descend) or @list.txt (one path a line); a "
        "folder's hidden files (named .*) and links to places outside it are left out.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="images")
    parser.add_argument(
        "--against", nargs="+", metavar="PATH", help="match against these images only"
    )
    parser.add_argument(
        "--top", type=positive_int, default=DEFAULT_TOP, help=f"matches per image ({DEFAULT_TOP})"
    )
    parser.add_argument(
        "--min-ssim",
        "--min-score",
        dest="min_ssim",
        type=parse_ssim,
        metavar="T",
        help="also list every pair whose score (SSIM, or MS-SSIM with --ssim ms-ssim) is "
        ">= T, and the chained groups they connect; --min-score is the same option",
    )
    parser.add_argument(
        "--recursive", action="store_true", help="descend into the folders' subfolders"
    )
    parser.add_argument(
        "--cache",
        metavar="DIR",
        help="keep prepared images and results here; a rerun scores only new pairs",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"run on this Dask scheduler (default: ${SCHEDULER_VARIABLE}, else this machine)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Find the neighbours; 1 when too few images could be read or Dask failed."""
    if args.format == "parquet" and not args.output:
        raise UsageError("--format parquet writes a file: give it with -o FILE")
    if args.format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise UsageError('--format parquet needs pyarrow: pip install "imgsim[parquet]"')
    if args.output and args.format in ("csv", "parquet"):
        # The tables --min-ssim adds go next to -o's file (FILE.pairs.csv...).
        for table in ("pairs", "groups") if args.min_ssim is not None else ():
            check_writable(outputs.table_path(args.output, table))
    scheduler = checked_scheduler(args.scheduler)  # a usage error, before any work
    try:
        files = expand_named_paths(args.paths, args.recursive, sys.stderr)
        references = (
            None
            if args.against is None
            else expand_named_paths(args.against, args.recursive, sys.stderr)
        )
    except OSError as error:
        raise UsageError(f"cannot read the list {error.filename}: {error.strerror}") from None
    try:
        with dask_client(scheduler) as client, terminal_progress() as bar:
            result = neighbours(
                files,
                against=references,
                top=args.top,
                min_ssim=args.min_ssim,
                settings=settings,
                progress=bar,
                cache=args.cache,
                client=client,
                max_pixels=args.limits.max_pixels,
                max_pairs=args.limits.max_pairs,
            )
    # The scheduler is unreachable, the cache unwritable, or imgsim missing on the workers.
    except (OSError, ImportError) as failure:
        print(f"imgsim: {failure}", file=sys.stderr)
        return 1
    for unreadable in result.errors:
        print(f"imgsim: {unreadable}", file=sys.stderr)
    needed = 2 if references is None else 1
    sets = [(len(result.images), len(files), needed, "images")]
    if result.references is not None and references is not None:
        sets.append((len(result.references), len(references), 1, "--against images"))
    hint = "" if args.recursive else nested_images_hint(args.paths, "add --recursive")
    for read, given, least, what in sets:
        if read < least:
            print(
                f"imgsim: {read} of {given} {what} could be read; at least {least} needed{hint}",
                file=sys.stderr,
            )
            return 1
    write_tables(args, result)
    return 0


def write_tables(args: argparse.Namespace, result: Any) -> None:
    """The output: one document, or (CSV, Parquet) a file per table next to -o."""
    if args.format not in ("csv", "parquet"):
        write_output(args, FORMATS[args.format](result))
        return
    tables = outputs.neighbours_tables(result)
    if not args.output:  # CSV on stdout: one table only
        sys.stdout.write(outputs.neighbours_to_csv(result))
        if len(tables) > 1:
            files = " and ".join(f"FILE.{table}.csv" for table in tables[1:])
            print(
                f"imgsim: note: the CSV on stdout has the top lists only, without the "
                f"{' and '.join(tables[1:])} at --min-ssim: -o FILE.csv also writes {files} "
                "(or use --format json)",
                file=sys.stderr,
            )
        return
    for table in tables:
        path = outputs.table_path(args.output, table)
        if args.format == "parquet":
            # pyarrow writes to any binary stream, the temporary file's too.
            write_file(path, partial(outputs.neighbours_to_parquet, result, table=table))
        else:
            data = outputs.neighbours_to_csv(result, table).encode("utf-8")
            write_file(path, partial(_write_bytes, data))


def checked_scheduler(option: str | None) -> Scheduler | None:
    """`scheduler_address`, a malformed address being a usage error."""
    try:
        return scheduler_address(option)
    except SchedulerAddressError as error:
        raise UsageError(str(error)) from None


def _write_bytes(data: bytes, stream: BinaryIO) -> None:
    stream.write(data)
