"""Command line: ``python -m imgsim {compare,sweep,classify,neighbours,diff} [options] ...``.

A thin shell over `imgsim.compare`, `imgsim.sweep.sweep` and
`imgsim.differences.inspect_pair`: parse options into `Settings`, expand
folders, print a table, CSV or JSON. Exit status: 0 on success (bad files are
reported, one line each on stderr, and the rest still compared), 1 when too
few images could be read, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from PIL import Image

from imgsim import collection_report, report
from imgsim.classify import (
    DEFAULT_THRESHOLD,
    METRICS,
    classify,
    default_labels,
    label_from_folder,
    labels_from_csv,
)
from imgsim.collection import DEFAULT_TOP, SCHEDULER_VARIABLE, neighbours
from imgsim.comparison import compare, unique_names
from imgsim.decoding import is_image_filename
from imgsim.differences import DEFAULT_MIN_AREA, inspect_pair, map_image, side_by_side
from imgsim.limits import LimitError, Limits
from imgsim.progress import Progress, format_duration
from imgsim.settings import (
    ALPHA_MODES,
    DEFAULT_SIZE,
    FITS,
    INTERPS,
    SSIM_CONVENTIONS,
    Settings,
)
from imgsim.sweep import DEFAULT_SIDES, parse_sizes, sweep, sweep_sizes

COMPARE_FORMATS = {"table": report.to_table, "csv": report.to_csv, "json": report.to_json}
SWEEP_FORMATS = {
    "table": report.sweep_to_table,
    "csv": report.sweep_to_csv,
    "json": lambda result: report.to_json_text(report.sweep_to_dict(result)),
}
CLASSIFY_FORMATS = {
    "table": lambda result, source: report.classification_to_table(result),
    "json": lambda result, source: report.to_json_text(
        report.classification_to_dict(result, source)
    ),
}
NEIGHBOURS_FORMATS = {
    "table": collection_report.to_table,
    "csv": collection_report.to_csv,
    "json": collection_report.to_json,
}
DIFF_FORMATS = {
    "table": report.inspection_to_table,
    "json": lambda result: report.to_json_text(report.inspection_to_dict(result)),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
        args.limits = Limits.from_environment()
    except ValueError as error:
        parser.error(str(error))
    try:
        return args.run(args, settings, parser)
    except LimitError as error:
        print(f"imgsim: {error}", file=sys.stderr)
        return 2


def run_compare(args: argparse.Namespace, settings: Settings, _: argparse.ArgumentParser) -> int:
    files = expand_paths(args.paths, sys.stderr)
    with terminal_progress() as bar:
        result = compare(files, settings, progress=bar, limits=args.limits)
    if not _enough_images(result, len(files)):
        return 1
    _write(args, COMPARE_FORMATS[args.format](result))
    return 0


def run_sweep(args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser) -> int:
    sides = args.sizes or [(side, side) for side in DEFAULT_SIDES]
    if args.keep_aspect:
        sizes = sweep_sizes([width for width, _ in sides], aspect_of=settings.size)
    else:
        sizes = sides
    files = expand_paths(args.paths, sys.stderr)
    try:
        with terminal_progress() as bar:
            result = sweep(files, sizes, settings, progress=bar, limits=args.limits)
    except LimitError:
        raise
    except ValueError as error:
        parser.error(str(error))
    if not _enough_images(result, len(files)):
        return 1
    _write(args, SWEEP_FORMATS[args.format](result))
    return 0


def run_diff(args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser) -> int:
    first, second = args.paths
    try:
        result = inspect_pair(
            Path(first),
            Path(second),
            settings,
            threshold=args.threshold,
            min_area=args.min_area,
            limits=args.limits,
        )
    except LimitError:
        raise
    except ValueError as error:
        print(f"imgsim: {error}", file=sys.stderr)
        return 1
    if args.map:
        Image.fromarray(map_image(result.ssim_map)).save(args.map)
    if args.boxes:
        Image.fromarray(side_by_side(result)).save(args.boxes)
    _write(args, DIFF_FORMATS[args.format](result))
    return 0


def run_classify(
    args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser
) -> int:
    files = expand_paths(args.paths, sys.stderr)
    try:
        given = _given_labels(args.labels, files)
    except (OSError, ValueError) as error:
        parser.error(f"--labels: {error}")
    with terminal_progress() as bar:
        result = compare(files, settings, progress=bar, limits=args.limits)
    if not _enough_images(result, len(files)):
        return 1
    unmatched = sorted(set(given or {}) - set(result.names) - {e.name for e in result.errors})
    if unmatched:
        print(
            f"imgsim: --labels: no image is named {', '.join(unmatched)}; those labels are unused",
            file=sys.stderr,
        )
    labels = default_labels(result.names, given) if given is not None else None
    if labels is None:  # folders
        by_name = dict(zip(unique_names([path.name for path in files]), files, strict=True))
        labels = [label_from_folder(str(by_name[name])) for name in result.names]
    try:
        classification = classify(result, labels, args.k, args.metric, args.threshold)
    except ValueError as error:
        parser.error(str(error))
    source = args.labels if args.labels in ("names", "folders") else "csv"
    _write(args, CLASSIFY_FORMATS[args.format](classification, source))
    return 0


def run_neighbours(
    args: argparse.Namespace, settings: Settings, parser: argparse.ArgumentParser
) -> int:
    if args.format == "parquet" and not args.output:
        parser.error("--format parquet writes a file: give it with -o FILE")
    try:
        files = expand_named_paths(args.paths, args.recursive, sys.stderr)
        references = (
            None
            if args.against is None
            else expand_named_paths(args.against, args.recursive, sys.stderr)
        )
    except OSError as error:
        parser.error(f"cannot read the list {error.filename}: {error.strerror}")
    address = args.scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    try:
        with dask_client(address) as client, terminal_progress() as bar:
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
    except OSError as error:  # the scheduler is unreachable, or the cache unwritable
        print(f"imgsim: {error}", file=sys.stderr)
        return 1
    for error in result.errors:
        print(f"imgsim: {error}", file=sys.stderr)
    needed = 2 if references is None else 1
    sets = [(len(result.images), len(files), needed, "images")]
    if result.references is not None:
        sets.append((len(result.references), len(references), 1, "--against images"))
    for read, given, least, what in sets:
        if read < least:
            print(
                f"imgsim: {read} of {given} {what} could be read; at least {least} needed",
                file=sys.stderr,
            )
            return 1
    if args.format == "parquet":
        collection_report.write_parquet(result, args.output)
    else:
        _write(args, NEIGHBOURS_FORMATS[args.format](result))
    return 0


@contextmanager
def dask_client(address: str | None) -> Iterator[object | None]:
    """A Dask client connected to ``address``, or None to run on this machine."""
    if not address:
        yield None
        return
    from distributed import Client

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as error:
        raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {error}") from error
    with client:
        yield client


def _given_labels(option: str, files: Sequence[Path]) -> dict[str, str] | None:
    """Labels by image name: {} for file names, None for folders, or a CSV's."""
    if option == "names":
        return {}
    if option == "folders":
        return None
    return labels_from_csv(Path(option).read_text(encoding="utf-8"))


def _enough_images(result, files: int) -> bool:
    """Report unreadable files; False when fewer than two images remain."""
    for error in result.errors:
        print(f"imgsim: {error}", file=sys.stderr)
    if len(result.images) >= 2:
        return True
    print(
        f"imgsim: {len(result.images)} of {files} images could be read; "
        "at least two are needed to compare",
        file=sys.stderr,
    )
    return False


def _write(args: argparse.Namespace, output: str) -> None:
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m imgsim",
        description="How similar are these images? MSE, PSNR and SSIM for every pair.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Callable, formats: dict, **texts: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, **texts)
        sub.set_defaults(run=run)
        add_settings_options(sub)
        sub.add_argument(
            "--format", choices=tuple(formats), default="table", help="output format (table)"
        )
        sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE")
        return sub

    folders = "A folder stands for its images, sorted by name, not recursive."
    compare_parser = command(
        "compare",
        run_compare,
        COMPARE_FORMATS,
        help="compare every pair of images",
        description=f"Compare every pair of images. {folders}",
    )
    compare_parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")

    sweep_parser = command(
        "sweep",
        run_sweep,
        SWEEP_FORMATS,
        help="compare every pair at several sizes",
        description=f"Compare every pair at each size of a list. {folders}",
    )
    sweep_parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    sweep_parser.add_argument(
        "--sizes",
        type=parse_sizes_option,
        metavar="N,N,...",
        help="square sides (or WxH sizes), comma-separated "
        f"(default {','.join(map(str, DEFAULT_SIDES))})",
    )
    sweep_parser.add_argument(
        "--keep-aspect",
        action="store_true",
        help="take each N as a width and keep the aspect of --size",
    )

    classify_parser = command(
        "classify",
        run_classify,
        CLASSIFY_FORMATS,
        help="classify images by their nearest neighbours",
        description="Label images (from their names, folders or a CSV), measure "
        "k-nearest-neighbour accuracy by leaving one out, predict the unlabelled "
        f"ones and group near-duplicates. {folders}",
    )
    classify_parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    classify_parser.add_argument(
        "--labels",
        default="names",
        metavar="names|folders|FILE.csv",
        help="where labels come from: the leading word of each file name (dog-1.png "
        "is a dog), the folder holding each file, or a name,label CSV (names)",
    )
    classify_parser.add_argument(
        "--k", type=positive_int, default=1, help="neighbours that vote (1)"
    )
    classify_parser.add_argument(
        "--metric", choices=METRICS, default="ssim", help="closeness (ssim; lower MSE is closer)"
    )
    classify_parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"SSIM from which images are near-duplicates ({DEFAULT_THRESHOLD})",
    )

    neighbours_parser = command(
        "neighbours",
        run_neighbours,
        NEIGHBOURS_FORMATS | {"parquet": None},
        help="each image's most similar images, for collections of thousands",
        description="For every image, its --top most similar other images (or, with "
        "--against, its best matches in a second set), without an N x N matrix; with "
        "--min-ssim also every pair at or above it and their groups. A PATH may be a "
        "file, a folder (--recursive to descend) or @list.txt (one path a line).",
    )
    neighbours_parser.add_argument("paths", nargs="+", metavar="PATH", help="images")
    neighbours_parser.add_argument(
        "--against", nargs="+", metavar="PATH", help="match against these images only"
    )
    neighbours_parser.add_argument(
        "--top", type=positive_int, default=DEFAULT_TOP, help=f"matches per image ({DEFAULT_TOP})"
    )
    neighbours_parser.add_argument(
        "--min-ssim",
        type=parse_ssim,
        metavar="T",
        help="also list every pair with SSIM >= T, and the groups they connect",
    )
    neighbours_parser.add_argument(
        "--recursive", action="store_true", help="descend into the folders' subfolders"
    )
    neighbours_parser.add_argument(
        "--cache",
        metavar="DIR",
        help="keep prepared images and results here; a rerun scores only new pairs",
    )
    neighbours_parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"run on this Dask scheduler (default: ${SCHEDULER_VARIABLE}, else this machine)",
    )

    diff_parser = command(
        "diff",
        run_diff,
        DIFF_FORMATS,
        help="show where two images differ",
        description="Find the regions where two images differ, from their SSIM map.",
    )
    diff_parser.add_argument("paths", nargs=2, metavar="PATH", help="the two images")
    diff_parser.add_argument(
        "--threshold",
        type=parse_threshold,
        default=None,
        metavar="otsu|T",
        help="dissimilarity (1 - SSIM) / 2 above which a pixel differs, in [0, 1] "
        "(default: Otsu's method)",
    )
    diff_parser.add_argument(
        "--min-area",
        type=float,
        default=DEFAULT_MIN_AREA,
        metavar="SHARE",
        help=f"drop regions smaller than this share of the image ({DEFAULT_MIN_AREA})",
    )
    diff_parser.add_argument("--map", metavar="PNG", help="write the SSIM map as a colour PNG")
    diff_parser.add_argument(
        "--boxes", metavar="PNG", help="write both images side by side with the boxes"
    )
    return parser


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """The options that make a `Settings`, shared by every command."""
    default = Settings()
    parser.add_argument(
        "--size",
        type=parse_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help=f"resize every image to W x H pixels ({default.width}x{default.height}); N means NxN",
    )
    parser.add_argument(
        "--color", action="store_true", help="compare in colour (default: grayscale)"
    )
    parser.add_argument("--fit", choices=FITS, default=default.fit, help="aspect handling")
    parser.add_argument("--interp", choices=INTERPS, default=default.interp, help="interpolation")
    parser.add_argument(
        "--alpha", choices=ALPHA_MODES, default=default.alpha, help="transparent pixels"
    )
    parser.add_argument(
        "--ssim", choices=SSIM_CONVENTIONS, default=default.ssim, help="SSIM convention"
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The `Settings` that the options of `add_settings_options` describe."""
    return Settings(
        size=args.size,
        grayscale=not args.color,
        fit=args.fit,
        interp=args.interp,
        alpha=args.alpha,
        ssim=args.ssim,
    )


def parse_sizes_option(text: str) -> list[tuple[int, int]]:
    try:
        return parse_sizes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def parse_ssim(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not -1.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected an SSIM in [-1, 1], got {text!r}")
    return value


def parse_threshold(text: str) -> float | None:
    if text.lower() == "otsu":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected otsu or a number in [0, 1], got {text!r}")
    return value


def parse_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        if len(parts) == 1:
            return int(parts[0]), int(parts[0])
        if len(parts) == 2:
            return int(parts[0]), int(parts[1])
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected WxH such as 256x256, got {text!r}")


def expand_paths(paths: Sequence[str], notes: TextIO) -> list[Path]:
    """Files as given; folders replaced by their image files sorted by name.

    Files in a folder without an image extension are skipped with a note.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(folder_images(path, False, notes) if path.is_dir() else [path])
    return files


def folder_images(folder: Path, recursive: bool, notes: TextIO) -> list[Path]:
    """A folder's image files, sorted by their path in it; others skipped with a note."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    entries = sorted(
        (entry for entry in found if entry.is_file()),
        key=lambda entry: entry.relative_to(folder).parts,
    )
    images = [entry for entry in entries if is_image_filename(entry.name)]
    skipped = [
        entry.relative_to(folder).as_posix()
        for entry in entries
        if entry not in images and not entry.name.startswith(".")
    ]
    if skipped:
        print(
            f"imgsim: {folder}: skipped {len(skipped)} file(s) without an image "
            f"extension: {', '.join(skipped)}",
            file=notes,
        )
    if not images:
        print(f"imgsim: {folder}: no images in this folder", file=notes)
    return images


def expand_named_paths(
    paths: Sequence[str], recursive: bool, notes: TextIO
) -> list[tuple[str, Path]]:
    """``(name, file)`` for each PATH: a file is named by its base name, a folder's
    images by their path relative to it, and ``@list.txt`` stands for the paths
    it lists, one a line (relative ones from the current folder).

    Raises
    ------
    OSError
        When a list file cannot be read.
    """
    named: list[tuple[str, Path]] = []
    for text in paths:
        if text.startswith("@"):
            lines = Path(text[1:]).read_text(encoding="utf-8").splitlines()
            listed = [line.strip() for line in lines if line.strip()]
            named.extend(expand_named_paths(listed, recursive, notes))
            continue
        path = Path(text)
        if path.is_dir():
            named.extend(
                (image.relative_to(path).as_posix(), image)
                for image in folder_images(path, recursive, notes)
            )
        else:
            named.append((path.name, path))
    return named


class TerminalProgress:
    """A one-line progress bar with the time left, redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._last = 0.0
        self._drawn = False

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and progress.fraction < 1:
            return
        self._last = now
        filled = round(progress.fraction * self._width)
        left = progress.remaining
        eta = f", {format_duration(left)} left" if left is not None and left >= 1 else ""
        line = (
            f"\r[{'#' * filled}{'.' * (self._width - filled)}] "
            f"{progress.fraction:4.0%} {progress.message}{eta}"
        )
        self._stream.write(line.ljust(79)[:100])
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self._stream.write("\r" + " " * 100 + "\r")
            self._stream.flush()


@contextmanager
def terminal_progress() -> Iterator[TerminalProgress | None]:
    """A `TerminalProgress` on stderr when it is a terminal, else no progress."""
    bar = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        yield bar
    finally:
        if bar is not None:
            bar.finish()
