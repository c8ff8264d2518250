"""Command line: ``imgsim {compare,sweep,diff,classify,neighbours} [options] ...``.

A thin shell over `imgsim.compare`, `imgsim.sweep.sweep`,
`imgsim.differences.inspect_pair` and `imgsim.classify.classify`: parse options
into `Settings`, expand folders, print a table, CSV or JSON. Exit status: 0 on
success (bad files are reported, one line each on stderr, and the rest still
compared), 1 when too few images could be read, 2 for a usage error or a
request over the limits, 130 on Ctrl-C (one line, no traceback). Everything the
command line can get wrong (options, output paths, formats, the scheduler's
address) is checked before any work, and a usage error shows the command's own
usage; no traceback ever reaches the terminal for them.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from PIL import Image

from imgsim import outputs
from imgsim._version import __version__
from imgsim.analyses import (
    DEFAULT_MIN_AREA,
    DEFAULT_SIDES,
    DEFAULT_THRESHOLD,
    METRICS,
    classify,
    compare,
    default_labels,
    inspect_pair,
    label_from_folder,
    labels_from_csv,
    map_image,
    parse_sizes,
    settings_at,
    side_by_side,
    sweep,
    sweep_sizes,
)
from imgsim.collection import (
    DEFAULT_TOP,
    SCHEDULER_VARIABLE,
    Scheduler,
    SchedulerAddressError,
    dask_client,
    neighbours,
    scheduler_address,
)
from imgsim.images import ImageError, is_image_filename, load_image, unique_names
from imgsim.settings import (
    ALPHA_MODES,
    DEFAULT_SIZE,
    FITS,
    INTERPS,
    SSIM_CONVENTIONS,
    LimitError,
    Limits,
    Settings,
    checked_max_pixels,
)
from imgsim.timing import Progress, format_duration

COMPARE_FORMATS = {
    "table": lambda result, record: outputs.to_table(result),
    "csv": outputs.to_csv,
    "json": outputs.to_json,
}
SWEEP_FORMATS = {
    "table": lambda result, record: outputs.sweep_to_table(result),
    "csv": outputs.sweep_to_csv,
    "json": lambda result, record: outputs.to_json_text(
        outputs.with_provenance(outputs.sweep_to_dict(result), record)
    ),
}
CLASSIFY_FORMATS = {
    "table": lambda result, source, record: outputs.classification_to_table(result),
    "json": lambda result, source, record: outputs.to_json_text(
        outputs.with_provenance(outputs.classification_to_dict(result, source), record)
    ),
}
NEIGHBOURS_FORMATS = {
    "table": outputs.neighbours_to_table,
    "csv": outputs.neighbours_to_csv,
    "json": outputs.neighbours_to_json,
}
DIFF_FORMATS = {
    "table": lambda result, record: outputs.inspection_to_table(result),
    "json": lambda result, record: outputs.to_json_text(
        outputs.with_provenance(outputs.inspection_to_dict(result), record)
    ),
}
# Output formats implied by -o's extension (any other extension: --format, else table).
EXTENSION_FORMATS = {".json": "json", ".csv": "csv", ".parquet": "parquet"}
# The image outputs' help names these (those that Pillow here writes); `image_file`
# accepts every extension Pillow writes.
IMAGE_EXTENSION_EXAMPLES = (".png", ".jpg", ".webp", ".bmp", ".tif")


def implying_extensions(formats: Sequence[str]) -> str:
    """The -o extensions that imply one of ``formats``, as help text (``.json or .csv``)."""
    return " or ".join(
        extension for extension, kind in EXTENSION_FORMATS.items() if kind in formats
    )


class UsageError(Exception):
    """A command line that cannot be run as given: exit 2 with the command's usage."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # parse_args would report extras with the top-level usage; the command's own
    # usage says what that command takes.
    args, extras = parser.parse_known_args(argv)
    if extras:
        args.command_parser.error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        args.limits = _limits()
        if uses_size(args):
            # The bound first: a side too large is refused as such, not as some other rule.
            args.limits.check_side(args.size)
        settings = _settings(args)
        args.format = output_format(args)
        return args.run(args, settings)
    except UsageError as error:
        args.command_parser.error(str(error))
    except LimitError as error:
        print(f"imgsim: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C is an answer, not a failure: one line, and the shell's status for SIGINT
        # (the `with` blocks have already stopped the progress bar, threads and client).
        print(f"imgsim: interrupted{interrupted_note(args)}", file=sys.stderr)
        return INTERRUPTED


INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports a command ended by Ctrl-C


def interrupted_note(args: argparse.Namespace) -> str:
    """What an interrupted run leaves behind worth knowing (neighbours' cached tiles)."""
    if getattr(args, "cache", None):
        return (
            f"; the images prepared and the tiles scored so far are kept in {args.cache}, "
            "and the same command run again resumes from them"
        )
    return ""


def uses_size(args: argparse.Namespace) -> bool:
    """Whether the command uses --size: sweep without --keep-aspect sweeps --sizes only."""
    return args.command != "sweep" or args.keep_aspect


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return settings_from_args(args)
    except ValueError as error:
        if uses_size(args):
            raise UsageError(str(error)) from None
    # A --size that sweep does not use is not checked: the settings take the size
    # the sweep ends at (its reference) instead, which run_sweep checks.
    sides = args.sizes or [(side, side) for side in DEFAULT_SIDES]
    args.size = max(sides, key=lambda size: size[0] * size[1])
    try:
        return settings_from_args(args)
    except ValueError:
        args.size = (max(DEFAULT_SIDES),) * 2
        return settings_from_args(args)


def _limits() -> Limits:
    try:
        return Limits.from_environment()
    except ValueError as error:
        raise UsageError(str(error)) from None


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
    digests = []
    for name, path in zip(names, files, strict=True):
        try:
            digests.append((name, outputs.sha256_of(path)))
        except OSError:
            digests.append((name, None))  # its error line already says why
    return outputs.provenance(digests)


def run_compare(args: argparse.Namespace, settings: Settings) -> int:
    files = expand_paths(args.paths, sys.stderr)
    with terminal_progress() as bar:
        result = compare(files, settings, progress=bar, limits=args.limits, terms=args.terms)
    if not _enough_images(result, len(files), args.paths):
        return 1
    record = input_provenance(files) if args.format != "table" else None
    _write(args, COMPARE_FORMATS[args.format](result, record))
    return 0


def run_sweep(args: argparse.Namespace, settings: Settings) -> int:
    sizes = checked_sweep_sizes(args, settings)
    files = expand_paths(args.paths, sys.stderr)
    with terminal_progress() as bar:
        result = sweep(files, sizes, settings, progress=bar, limits=args.limits)
    if not _enough_images(result, len(files), args.paths):
        return 1
    record = input_provenance(files) if args.format != "table" else None
    _write(args, SWEEP_FORMATS[args.format](result, record))
    return 0


def checked_sweep_sizes(args: argparse.Namespace, settings: Settings) -> list[tuple[int, int]]:
    """The sizes to sweep: --sizes, checked, or the default sizes that fit the convention.

    Each size is checked as sweep() checks it: the size bound first (a `LimitError`,
    reported by main as a request over the limits), then the SSIM window. Default
    sizes below the window are left out with a note; typed ones are a usage error
    naming every size that is too small.
    """
    sides = args.sizes or [(side, side) for side in DEFAULT_SIDES]
    if args.keep_aspect:
        sizes = sweep_sizes([width for width, _ in sides], aspect_of=settings.size)
    else:
        sizes = sides
    fitting, small = [], []
    for size in sizes:
        try:
            settings_at(settings, size, args.limits)
        except LimitError:
            raise
        except ValueError:
            small.append(f"{size[0]}x{size[1]}")
            continue
        fitting.append(size)
    rule = f"below the {settings.ssim_convention} convention's smallest side, {settings.min_side}"
    if small and args.sizes:
        raise UsageError(
            f"--sizes: {', '.join(small)} {'is' if len(small) == 1 else 'are'} {rule}; "
            f"give sizes of at least {settings.min_side}x{settings.min_side}"
        )
    if not fitting:
        raise UsageError(
            f"every default size ({', '.join(small)}) is {rule}; give --sizes larger ones"
        )
    if small:
        print(f"imgsim: default sizes {', '.join(small)} left out: {rule}", file=sys.stderr)
    return fitting


def run_diff(args: argparse.Namespace, settings: Settings) -> int:
    files = [Path(path) for path in args.paths]
    max_pixels = checked_max_pixels(args.limits, 2, settings)
    loaded = [load_image(path, index, max_pixels) for index, path in enumerate(files)]
    unreadable = [item for item in loaded if isinstance(item, ImageError)]
    for error in unreadable:
        print(f"imgsim: {error}", file=sys.stderr)
    if unreadable:
        return 1
    result = inspect_pair(
        *loaded, settings, threshold=args.threshold, min_area=args.min_area, limits=args.limits
    )
    if args.map:
        Image.fromarray(map_image(result.ssim_map)).save(args.map)
    if args.boxes:
        Image.fromarray(side_by_side(result)).save(args.boxes)
    record = input_provenance(files) if args.format != "table" else None
    _write(args, DIFF_FORMATS[args.format](result, record))
    return 0


def run_classify(args: argparse.Namespace, settings: Settings) -> int:
    files = expand_paths(args.paths, sys.stderr)
    source = args.labels
    with terminal_progress() as bar:
        result = compare(files, settings, progress=bar, limits=args.limits)
    if not _enough_images(result, len(files), args.paths):
        return 1
    given = source.given
    unmatched = sorted(set(given or {}) - set(result.names) - {e.name for e in result.errors})
    if unmatched:
        print(
            f"imgsim: --labels: no image is named {', '.join(unmatched)}; those labels are unused",
            file=sys.stderr,
        )
    if source.kind == "folders":
        by_name = dict(zip(unique_names([path.name for path in files]), files, strict=True))
        labels = [label_from_folder(str(by_name[name])) for name in result.names]
    else:
        labels = default_labels(result.names, given)
    classification = classify(result, labels, args.k, args.metric, args.threshold)
    for note in classification.notes:
        print(f"imgsim: note: {note}", file=sys.stderr)
    record = input_provenance(files) if args.format != "table" else None
    _write(args, CLASSIFY_FORMATS[args.format](classification, source.kind, record))
    return 0


def run_neighbours(args: argparse.Namespace, settings: Settings) -> int:
    if args.format == "parquet" and not args.output:
        raise UsageError("--format parquet writes a file: give it with -o FILE")
    checked_scheduler(args.scheduler)  # a malformed address is a usage error, before any work
    try:
        files = expand_named_paths(args.paths, args.recursive, sys.stderr)
        references = (
            None
            if args.against is None
            else expand_named_paths(args.against, args.recursive, sys.stderr)
        )
    except OSError as error:
        raise UsageError(f"cannot read the list {error.filename}: {error.strerror}") from None
    scheduler = checked_scheduler(args.scheduler)
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
    except (OSError, ImportError) as error:
        print(f"imgsim: {error}", file=sys.stderr)
        return 1
    for error in result.errors:
        print(f"imgsim: {error}", file=sys.stderr)
    needed = 2 if references is None else 1
    sets = [(len(result.images), len(files), needed, "images")]
    if result.references is not None:
        sets.append((len(result.references), len(references), 1, "--against images"))
    hint = "" if args.recursive else nested_images_hint(args.paths, "add --recursive")
    for read, given, least, what in sets:
        if read < least:
            print(
                f"imgsim: {read} of {given} {what} could be read; at least {least} needed{hint}",
                file=sys.stderr,
            )
            return 1
    if args.format not in ("csv", "parquet"):
        _write(args, NEIGHBOURS_FORMATS[args.format](result))
        return 0
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
        return 0
    for table in tables:
        path = outputs.table_path(args.output, table)
        if args.format == "parquet":
            outputs.neighbours_to_parquet(result, path, table)
        else:
            Path(path).write_text(outputs.neighbours_to_csv(result, table), encoding="utf-8")
    return 0


def checked_scheduler(option: str | None) -> Scheduler | None:
    """`cluster.scheduler_address`, a malformed address being a usage error."""
    try:
        return scheduler_address(option)
    except SchedulerAddressError as error:
        raise UsageError(str(error)) from None


def _enough_images(result, files: int, paths: Sequence[str] = ()) -> bool:
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


def nested_images_hint(paths: Sequence[str], remedy: str) -> str:
    """``"; FOLDER has N images in its subfolders: REMEDY"`` for the first folder among
    ``paths`` with images in subfolders (which a folder PATH does not descend into),
    else ``""``."""
    for path in map(Path, paths):
        if not path.is_dir():
            continue
        nested = sum(
            1
            for entry in path.rglob("*")
            if entry.parent != path and entry.is_file() and is_image_filename(entry.name)
        )
        if nested:
            return f"; {path} has {nested} images in its subfolders: {remedy}"
    return ""


def _write(args: argparse.Namespace, output: str) -> None:
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default (when it has a meaningful one)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "%(default)" in text
            or not action.option_strings
            or action.default in (None, False, argparse.SUPPRESS)
        ):
            return text
        return f"{text} (default: %(default)s)"


def program_name() -> str:
    """``python -m imgsim`` when run as a module, else the console script's name."""
    invoked = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if invoked in ("", "__main__.py", "-c"):
        return "python -m imgsim"
    return invoked


def version_text() -> str:
    versions = outputs.library_versions()
    libraries = ", ".join(f"{name} {value}" for name, value in versions.items() if name != "imgsim")
    return f"imgsim {__version__} ({libraries})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="How similar are these images? MSE, PSNR and SSIM for every pair.",
        # Keeps --version on one line.
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Callable, formats: dict, **texts: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, formatter_class=DefaultsHelpFormatter, **texts)
        _allow_negative_values(sub)
        sub.set_defaults(run=run, command_parser=sub, formats=tuple(formats))
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
            type=output_file,
            help="write to FILE (default: standard output)",
        )
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
    compare_parser.add_argument(
        "--terms",
        action="store_true",
        help="also give each pair's SSIM luminance, contrast and structure (several times slower)",
    )

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
        help="square sides (or WxH sizes), separated by commas or spaces; each size once "
        f"(default: {','.join(map(str, DEFAULT_SIDES))}, less those below the SSIM "
        "convention's smallest side)",
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
        type=label_source,
        metavar="names|folders|FILE.csv",
        help="where labels come from: the leading word of each file name (dog-1.png "
        "is a dog), the folder holding each file, or a name,label CSV",
    )
    classify_parser.add_argument("--k", type=positive_int, default=1, help="neighbours that vote")
    classify_parser.add_argument(
        "--metric", choices=METRICS, default="ssim", help="closeness (lower MSE is closer)"
    )
    classify_parser.add_argument(
        "--threshold",
        type=parse_ssim,
        default=DEFAULT_THRESHOLD,
        help="SSIM from which images are near-duplicates",
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
        type=share,
        default=DEFAULT_MIN_AREA,
        metavar="SHARE",
        help="drop regions smaller than this share of the image, in [0, 1)",
    )
    examples = [suffix for suffix in IMAGE_EXTENSION_EXAMPLES if writes_images(suffix)]
    image_kinds = f"an image file: {', '.join(examples)} or any other extension Pillow writes"
    diff_parser.add_argument(
        "--map",
        metavar="IMAGE",
        type=image_file,
        help=f"write the SSIM map in colour (viridis) to {image_kinds}",
    )
    diff_parser.add_argument(
        "--boxes",
        metavar="IMAGE",
        type=image_file,
        help=f"write both images side by side with the boxes to {image_kinds}",
    )
    return parser


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """The options that make a `Settings`, shared by every command."""
    default = Settings()
    parser.add_argument(
        "--size",
        type=parse_size,
        default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}",
        metavar="WxH",
        help="resize every image to W x H pixels; N means NxN",
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
        "--ssim",
        choices=SSIM_CONVENTIONS,
        default=default.ssim_convention,
        help="SSIM convention",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The `Settings` that the options of `add_settings_options` describe."""
    return Settings(
        size=args.size,
        grayscale=not args.color,
        fit=args.fit,
        interp=args.interp,
        alpha=args.alpha,
        ssim_convention=args.ssim,
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
        raise argparse.ArgumentTypeError(f"expected an SSIM in [-1, 1] such as 0.9, got {text!r}")
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
        sides = [int(part) for part in parts] if len(parts) in (1, 2) else []
    except ValueError:
        sides = []
    if not sides:
        raise argparse.ArgumentTypeError(f"expected WxH such as 256x256, got {text!r}")
    if min(sides) < 1:
        raise argparse.ArgumentTypeError(f"expected positive sides such as 256x256, got {text!r}")
    return sides[0], sides[-1]


def share(text: str) -> float:
    """A share of the image, in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a share in [0, 1) such as 0.001, got {text!r}")
    return value


def output_file(text: str) -> str:
    """A file that can be written: not a folder, in a folder that exists."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name inside it")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: the folder {folder} cannot be written to")
    return text


def writes_images(suffix: str) -> bool:
    """Whether Pillow writes an image for a file name ending in ``suffix`` (``.png``)."""
    kind = Image.registered_extensions().get(suffix.lower())
    return kind is not None and kind in Image.SAVE


def image_file(text: str) -> str:
    """An `output_file` whose extension names an image format Pillow can write."""
    output_file(text)
    suffix = Path(text).suffix.lower()
    if not writes_images(suffix):
        raise argparse.ArgumentTypeError(
            f"{text}: {suffix or 'no extension'} is not an image format; use .png"
        )
    return text


@dataclass(frozen=True)
class LabelSource:
    """Where classify's labels come from: file ``names``, ``folders`` or a ``csv``."""

    kind: str
    given: dict[str, str] | None = None  # the CSV's labels by image name


def label_source(text: str) -> LabelSource:
    if text in ("names", "folders"):
        return LabelSource(text)
    try:
        content = Path(text).read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise argparse.ArgumentTypeError(
            f"cannot read {text} ({reason}); expected names, folders or a name,label CSV"
        ) from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{text} is not UTF-8 text; expected a CSV") from None
    try:
        return LabelSource("csv", labels_from_csv(content))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text}: {error}") from None


def _allow_negative_values(parser: argparse.ArgumentParser) -> None:
    """Let values such as ``-5x5`` reach their option's checks.

    argparse takes anything starting with ``-`` that is not a plain negative
    number for an option, and then says "expected one argument"; these
    commands have no option that starts with a digit, so a ``-`` followed by a
    digit is always a value.
    """
    parser._negative_number_matcher = re.compile(r"^-\d")


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
