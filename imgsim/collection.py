"""Collections: nearest matches, cross-set search and near-duplicate groups.

decode + prepare (blocks of images, in parallel, once per image) -> tiles (a
block of images against a block, the upper triangle only within one set),
scored by the engine -> each tile reduced at once to its top lists and its
pairs at or above ``min_ssim`` -> merged. Memory grows with the number of
images times their prepared size plus N x top (and the pairs kept), never with
N x N or N x M.

The same functions (`prepare_block`, `score_tile`) run on this machine's cores
or as tasks on a Dask cluster (`client=`); the results are identical, because
each tile is scored the same way wherever it runs and merging top lists does
not depend on the order in which tiles finish.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import math
import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from imgsim import cost
from imgsim.comparison import ImageError, ImageInfo, ImageSource, load_image, unique_names
from imgsim.decoding import DEFAULT_MAX_PIXELS, DecodedImage, ImageReadError, read_file
from imgsim.engine import _workers, score_all_pairs, score_block_pairs
from imgsim.limits import DEFAULT_MAX_PAIRS, ENVIRONMENT, LimitError
from imgsim.preparation import prepare
from imgsim.progress import ProgressCallback, ProgressTracker
from imgsim.settings import Settings

DEFAULT_TOP = 5
# Scores equal to this many decimals are ties, broken by the match's name: the
# engine's sums may differ in the last bits with the tiling (about 1e-15), and
# that must not reorder a top list.
TIE_DECIMALS = 12
# A tile is about a second of engine work (at about 2 ns per pair-value): coarse
# enough for a Dask task, small enough that progress moves.
TILE_PAIR_VALUES = 4e8
MIN_BLOCK, MAX_BLOCK = 8, 1024
SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"  # Dask's own convention
CACHE_FORMAT = 1


@dataclass(frozen=True)
class Entry:
    """One input: its name and its source (path, bytes, array, decoded image)."""

    name: str
    source: Any


@dataclass(frozen=True)
class BlockMeta:
    """What the client needs of a prepared block: everything but the pixels."""

    positions: tuple[int, ...]  # input positions of the images that could be read
    infos: tuple[ImageInfo, ...]
    digests: tuple[str, ...]  # SHA-256 of each input's content
    prepared: tuple[str, ...]  # SHA-256 of each prepared image (equal: exact duplicates)
    errors: tuple[tuple[int, ImageError], ...]


@dataclass(frozen=True, eq=False)
class Block:
    """Prepared images of a block of inputs (only those that could be read)."""

    meta: BlockMeta
    images: tuple[np.ndarray, ...]


@dataclass(frozen=True, eq=False)
class Candidates:
    """Rows (query, match, scores), flat; a top list keeps at most ``top`` per query."""

    query: np.ndarray
    match: np.ndarray
    ssim: np.ndarray
    mse: np.ndarray
    psnr: np.ndarray

    @staticmethod
    def empty() -> Candidates:
        ints, floats = np.empty(0, np.int64), np.empty(0)
        return Candidates(ints, ints, floats, floats, floats)

    @staticmethod
    def concat(parts: Sequence[Candidates]) -> Candidates:
        if not parts:
            return Candidates.empty()
        return Candidates(
            *(
                np.concatenate([getattr(part, name) for part in parts])
                for name in ("query", "match", "ssim", "mse", "psnr")
            )
        )

    def take(self, index: np.ndarray) -> Candidates:
        return Candidates(
            self.query[index],
            self.match[index],
            self.ssim[index],
            self.mse[index],
            self.psnr[index],
        )

    def __len__(self) -> int:
        return len(self.query)


@dataclass(frozen=True, eq=False)
class TileResult:
    """What a tile sends back: top candidates, pairs at or above the threshold."""

    tops: Candidates
    pairs: Candidates  # query and match are the pair's two input positions
    pairs_computed: int


@dataclass(frozen=True)
class Group:
    """Images connected by pairs at or above ``min_ssim``.

    Attributes
    ----------
    members : tuple of int
        Indices into ``Neighbours.images``, in input order.
    min_ssim : float
        The smallest score among the pairs that connect the group.
    exact : bool
        Whether every member is the same prepared image (exact duplicates).
    """

    members: tuple[int, ...]
    min_ssim: float
    exact: bool


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Result of `neighbours`.

    Attributes
    ----------
    settings : Settings
    images : tuple of ImageInfo
        The queries that could be read, in input order.
    references : tuple of ImageInfo or None
        The second set (``against``), in input order; None within one set.
    errors : tuple of ImageError
        Inputs that could not be used (queries first, then references).
    top : int
    min_ssim : float or None
    index : ndarray of int64, shape (N, top)
        Each query's best matches, most similar first, as indices into
        ``references`` (or ``images``); -1 where there are fewer matches.
    ssim, mse, psnr : ndarray of float64, shape (N, top)
        Their scores (NaN where ``index`` is -1).
    pairs : (a, b, ssim, mse, psnr) arrays, or None
        With ``min_ssim``: every pair at or above it, by index (``a`` into
        ``images``, ``b`` into ``references`` or ``images`` with ``a < b``).
    groups : tuple of Group, or None
        With ``min_ssim`` within one set: connected components of those pairs.
    digests : tuple of str
        SHA-256 of each image's content (queries, then references).
    pairs_computed : int
        Pairs scored by this call (fewer than all when a cache held the rest).
    """

    settings: Settings
    images: tuple[ImageInfo, ...]
    references: tuple[ImageInfo, ...] | None
    errors: tuple[ImageError, ...]
    top: int
    min_ssim: float | None
    index: np.ndarray
    ssim: np.ndarray
    mse: np.ndarray
    psnr: np.ndarray
    pairs: Candidates | None
    groups: tuple[Group, ...] | None
    digests: tuple[str, ...]
    pairs_computed: int

    @property
    def names(self) -> list[str]:
        return [image.name for image in self.images]

    @property
    def match_names(self) -> list[str]:
        """Names that ``index`` and ``pairs.match`` refer to."""
        return [image.name for image in (self.references or self.images)]


# --- inputs -------------------------------------------------------------------


def entries_from_inputs(inputs: Sequence[ImageSource]) -> list[Entry]:
    """Name every input as `compare` does; ``(name, path)`` tuples keep their name."""
    entries = []
    for index, source in enumerate(inputs):
        if isinstance(source, (DecodedImage, ImageError)):
            entries.append(Entry(source.name, source))
        elif isinstance(source, tuple):
            name, content = source
            entries.append(Entry(str(name), content))
        elif isinstance(source, (str, os.PathLike)):
            entries.append(Entry(Path(source).name, source))
        else:
            entries.append(Entry(f"image-{index + 1}", source))
    names = unique_names([entry.name for entry in entries])
    return [replace(entry, name=name) for entry, name in zip(entries, names, strict=True)]


def content_digest(source: Any) -> str:
    """SHA-256 of an input's content (file bytes, array values, decoded pixels)."""
    digest = hashlib.sha256()
    if isinstance(source, (bytes, bytearray, memoryview)):
        digest.update(source)
    elif isinstance(source, np.ndarray):
        digest.update(f"{source.dtype.str}{source.shape}".encode())
        digest.update(np.ascontiguousarray(source).tobytes())
    elif isinstance(source, DecodedImage):
        for part in (source.rgb, source.alpha):
            if part is not None:
                digest.update(content_digest(part).encode())
    else:
        raise TypeError(f"cannot hash an input of type {type(source).__name__}")
    return digest.hexdigest()


# --- cache --------------------------------------------------------------------


def settings_key(settings: Settings) -> str:
    """A short digest of the settings: data prepared under others is never reused."""
    text = json.dumps({"format": CACHE_FORMAT, **settings.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """Write through a temporary file in the same folder, then rename it into place.

    A run killed halfway leaves either the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _prepared_path(cache: Path, settings: Settings, digest: str) -> Path:
    return cache / "prepared" / settings_key(settings) / digest[:2] / f"{digest}.npz"


def _read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None when it is absent or damaged.

    A damaged file (only possible if something outside imgsim changed it:
    imgsim replaces files whole) is computed afresh and rewritten.
    """
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def _load_prepared(path: Path, name: str) -> tuple[np.ndarray, ImageInfo] | None:
    """A cached prepared image, or None when it is not there (or damaged: rewritten)."""
    stored = _read_arrays(path)
    if stored is None or not {"image", "info"} <= stored.keys():
        return None
    try:
        info = json.loads(bytes(stored["info"]).decode())
    except ValueError:
        return None
    return stored["image"], ImageInfo(name, info["width"], info["height"], tuple(info["log"]))


def _store_prepared(path: Path, image: np.ndarray, info: ImageInfo) -> None:
    text = json.dumps({"width": info.width, "height": info.height, "log": list(info.log)})
    info_bytes = np.frombuffer(text.encode(), dtype=np.uint8)
    _write_atomically(path, lambda stream: np.savez(stream, image=image, info=info_bytes))


# --- the two task functions (local threads or Dask workers) -----------------------


def _load_one(
    entry: Entry, settings: Settings, max_pixels: int, cache: Path | None
) -> tuple[np.ndarray, ImageInfo, str] | ImageError:
    source = entry.source
    if isinstance(source, ImageError):
        return source
    if isinstance(source, (str, os.PathLike)):
        try:
            source = read_file(source, entry.name)
        except ImageReadError as error:
            return ImageError(error.name, error.reason)
    digest = content_digest(source)
    stored = None
    if cache is not None:
        path = _prepared_path(cache, settings, digest)
        stored = _load_prepared(path, entry.name)
    if stored is not None:
        return (*stored, digest)
    item = (
        source
        if isinstance(source, DecodedImage)
        else load_image((entry.name, source), 0, max_pixels)
    )
    if isinstance(item, ImageError):
        return item
    image = prepare(item, settings)
    info = ImageInfo(entry.name, item.width, item.height, item.log)
    if cache is not None:
        _store_prepared(path, image, info)
    return image, info, digest


def prepare_block(
    entries: Sequence[tuple[int, Entry]],
    settings: Settings,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    cache: str | None = None,
) -> Block:
    """Decode and prepare a block of inputs (a task: runs here or on a Dask worker).

    Parameters
    ----------
    entries : sequence of (position, Entry)
    settings : Settings
    max_pixels : int
    cache : str, optional
        Cache folder (shared by the workers); prepared images are read from it
        and written to it, keyed on content and settings.
    """
    folder = Path(cache) if cache is not None else None
    positions, infos, digests, prepared, errors, images = [], [], [], [], [], []
    for position, entry in entries:
        loaded = _load_one(entry, settings, max_pixels, folder)
        if isinstance(loaded, ImageError):
            errors.append((position, loaded))
            continue
        image, info, digest = loaded
        positions.append(position)
        infos.append(info)
        digests.append(digest)
        prepared.append(hashlib.sha256(image.tobytes()).hexdigest())
        images.append(image)
    meta = BlockMeta(tuple(positions), tuple(infos), tuple(digests), tuple(prepared), tuple(errors))
    return Block(meta, tuple(images))


def block_meta(block: Block) -> BlockMeta:
    return block.meta


# A part of a tile: ("triangle", rows, ()) scores every pair within rows of the
# row block; ("cross", rows, cols) scores rows of the row block against cols of
# the column block. rows and cols are indices into the blocks' images.
Part = tuple[str, tuple[int, ...], tuple[int, ...]]


def score_tile(
    row_block: Block,
    col_block: Block,
    parts: Sequence[Part],
    ranks: np.ndarray,
    top: int,
    min_ssim: float | None,
    symmetric: bool,
    convention: str,
) -> TileResult:
    """Score a tile's parts and reduce them to top candidates and pairs (a task).

    Parameters
    ----------
    row_block, col_block : Block
    parts : sequence of Part
    ranks : ndarray of int
        Rank of each match position's name, for ties.
    top : int
        Candidates kept per query.
    min_ssim : float or None
        Pairs at or above it are returned.
    symmetric : bool
        Within one set: each pair is a candidate for both of its images.
    convention : {"skimage", "gaussian"}
    """
    tops, pairs, computed = [], [], 0
    row_positions = np.asarray(row_block.meta.positions, dtype=np.int64)
    col_positions = np.asarray(col_block.meta.positions, dtype=np.int64)
    for kind, rows, cols in parts:
        row_images = [row_block.images[i] for i in rows]
        if kind == "triangle":
            scores = score_all_pairs(row_images, convention)
            queries = matches = row_positions[list(rows)]
            keep = ~np.eye(len(rows), dtype=bool)
            upper = np.triu(np.ones((len(rows), len(rows)), dtype=bool), 1)
            computed += len(rows) * (len(rows) - 1) // 2
        else:
            col_images = [col_block.images[j] for j in cols]
            scores = score_block_pairs(row_images, col_images, convention)
            queries, matches = row_positions[list(rows)], col_positions[list(cols)]
            keep = upper = np.ones((len(rows), len(cols)), dtype=bool)
            computed += len(rows) * len(cols)
        q, m = np.nonzero(keep)
        found = Candidates(
            queries[q], matches[m], scores.ssim[q, m], scores.mse[q, m], scores.psnr[q, m]
        )
        if symmetric and kind == "cross":
            found = Candidates.concat(
                [found, Candidates(found.match, found.query, found.ssim, found.mse, found.psnr)]
            )
        tops.append(best(found, top, ranks))
        if min_ssim is not None:
            a, b = np.nonzero(upper & (scores.ssim >= min_ssim))
            pairs.append(
                Candidates(
                    queries[a], matches[b], scores.ssim[a, b], scores.mse[a, b], scores.psnr[a, b]
                )
            )
    return TileResult(best(Candidates.concat(tops), top, ranks), Candidates.concat(pairs), computed)


def best(found: Candidates, top: int, ranks: np.ndarray) -> Candidates:
    """The ``top`` best candidates of each query: highest SSIM, ties by match name.

    Scores equal to `TIE_DECIMALS` decimals are ties.
    """
    if not len(found):
        return found
    order = np.lexsort((ranks[found.match], -np.round(found.ssim, TIE_DECIMALS), found.query))
    ordered = found.take(order)
    starts = np.flatnonzero(np.r_[True, ordered.query[1:] != ordered.query[:-1]])
    lengths = np.diff(np.r_[starts, len(ordered)])
    within = np.arange(len(ordered)) - np.repeat(starts, lengths)
    return ordered.take(within < top)


# --- where the tasks run ------------------------------------------------------------


class _LocalRunner:
    """Blocks prepared on a thread pool; tiles scored one after another (the
    engine itself uses every core)."""

    def prepare(self, tasks: Sequence[tuple], on_block: Callable[[int], None]):
        pool = ThreadPoolExecutor(_workers(len(tasks)), thread_name_prefix="imgsim-prep")
        try:
            blocks = []
            for block in pool.map(lambda task: prepare_block(*task), tasks):
                blocks.append(block)
                on_block(len(block.meta.positions) + len(block.meta.errors))
        finally:
            # On Ctrl-C (or any error) the blocks not started are dropped, not prepared
            # while the command waits to exit.
            pool.shutdown(wait=True, cancel_futures=True)
        return blocks, [block.meta for block in blocks]

    def tiles(self, rows: Sequence, cols: Sequence, jobs: Sequence, ranks, options: tuple):
        for index, (a, b, parts) in enumerate(jobs):
            yield index, score_tile(rows[a], cols[b], parts, ranks, *options)


class _DaskRunner:
    """The same tasks on a Dask cluster: blocks stay on the workers that prepared
    them; only block metadata and tile results come back."""

    def __init__(self, client: Any) -> None:
        self._client = client
        # The tasks are imgsim's functions, unpickled by the scheduler and the
        # workers: where imgsim cannot be imported, each task fails with a bare
        # "Error during deserialization of the task graph". Say so first.
        places = []
        if client.run_on_scheduler(importlib.util.find_spec, "imgsim") is None:
            places.append(f"the Dask scheduler ({client.scheduler.address})")
        specs = client.run(importlib.util.find_spec, "imgsim")
        missing = sorted(address for address, spec in specs.items() if spec is None)
        if missing:
            places.append(f"the Dask worker{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if places:
            raise ModuleNotFoundError(
                f"imgsim cannot be imported on {' and '.join(places)}, which run its tasks; "
                "install it there (pip install . in a checkout of imgsim) or start them with "
                "the checkout on PYTHONPATH, then run again"
            )

    def prepare(self, tasks: Sequence[tuple], on_block: Callable[[int], None]):
        from distributed import as_completed

        client = self._client
        blocks = [client.submit(prepare_block, *task, pure=False) for task in tasks]
        metas = [client.submit(block_meta, block, pure=False) for block in blocks]
        for future in as_completed(metas):
            meta = future.result()
            on_block(len(meta.positions) + len(meta.errors))
        return blocks, client.gather(metas)

    def tiles(self, rows: Sequence, cols: Sequence, jobs: Sequence, ranks, options: tuple):
        from distributed import as_completed

        client = self._client
        ranks = client.scatter(ranks, broadcast=True)  # sent once, not with every task
        futures = {
            client.submit(score_tile, rows[a], cols[b], parts, ranks, *options, pure=False): index
            for index, (a, b, parts) in enumerate(jobs)
        }
        for future in as_completed(futures):
            yield futures[future], future.result()
            future.release()


# --- planning and merging ---------------------------------------------------------


def block_size_for(settings: Settings) -> int:
    """Images per block, so that a tile (block x block) is about a second of work."""
    values = cost.scored_values(settings)  # MS-SSIM's coarser scales count
    return int(min(MAX_BLOCK, max(MIN_BLOCK, math.isqrt(int(TILE_PAIR_VALUES // values)))))


def _split(known: np.ndarray, meta: BlockMeta) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Indices into a block's images of the new images and of those already known."""
    flags = [bool(known[position]) for position in meta.positions]
    new = tuple(i for i, flag in enumerate(flags) if not flag)
    old = tuple(i for i, flag in enumerate(flags) if flag)
    return new, old


def plan_tiles(
    row_metas: Sequence[BlockMeta],
    col_metas: Sequence[BlockMeta] | None,
    known_rows: np.ndarray,
    known_cols: np.ndarray | None,
) -> list[tuple[int, int, list[Part]]]:
    """The tiles that score every pair that involves a new image, and no other.

    Within one set (``col_metas`` None) the upper triangle of blocks; across
    sets every block pair. Known pairs come from the cache.
    """
    jobs = []
    if col_metas is None:
        splits = [_split(known_rows, meta) for meta in row_metas]
        for a, (new_a, old_a) in enumerate(splits):
            parts: list[Part] = []
            if len(new_a) >= 2:
                parts.append(("triangle", new_a, ()))
            if new_a and old_a:
                parts.append(("cross", new_a, old_a))
            if parts:
                jobs.append((a, a, parts))
            jobs += [(a, b, parts) for b, parts in _cross(new_a, old_a, splits, a + 1)]
        return jobs
    col_splits = [_split(known_cols, meta) for meta in col_metas]
    for a, meta in enumerate(row_metas):
        new_a, old_a = _split(known_rows, meta)
        jobs += [(a, b, parts) for b, parts in _cross(new_a, old_a, col_splits, 0)]
    return jobs


def _cross(
    new_a: tuple[int, ...], old_a: tuple[int, ...], splits: Sequence[tuple], first: int
) -> Iterator[tuple[int, list[Part]]]:
    """Parts of block a against each column block from ``first`` on: its new
    images against all of them, its known images against their new ones."""
    for b in range(first, len(splits)):
        new_b, old_b = splits[b]
        every_b = tuple(sorted(new_b + old_b))
        parts: list[Part] = []
        if new_a and every_b:
            parts.append(("cross", new_a, every_b))
        if old_a and new_b:
            parts.append(("cross", old_a, new_b))
        if parts:
            yield b, parts


def _pair_count(parts: Sequence[Part]) -> int:
    return sum(
        len(rows) * (len(rows) - 1) // 2 if kind == "triangle" else len(rows) * len(cols)
        for kind, rows, cols in parts
    )


class TopLists:
    """Each query's best candidates so far, merged tile by tile (N x top)."""

    def __init__(self, queries: int, top: int, ranks: np.ndarray) -> None:
        self.top = top
        self.ranks = ranks
        self.match = np.full((queries, top), -1, dtype=np.int64)
        self.ssim = np.full((queries, top), np.nan)
        self.mse = np.full((queries, top), np.nan)
        self.psnr = np.full((queries, top), np.nan)

    def rows(self, queries: np.ndarray) -> Candidates:
        match = self.match[queries]
        q, k = np.nonzero(match >= 0)
        return Candidates(
            queries[q],
            match[q, k],
            self.ssim[queries][q, k],
            self.mse[queries][q, k],
            self.psnr[queries][q, k],
        )

    def merge(self, found: Candidates) -> None:
        if not len(found):
            return
        queries = np.unique(found.query)
        merged = best(Candidates.concat([self.rows(queries), found]), self.top, self.ranks)
        for array, fill in (
            (self.match, -1),
            (self.ssim, np.nan),
            (self.mse, np.nan),
            (self.psnr, np.nan),
        ):
            array[queries] = fill
        starts = np.flatnonzero(np.r_[True, merged.query[1:] != merged.query[:-1]])
        slot = np.arange(len(merged)) - np.repeat(starts, np.diff(np.r_[starts, len(merged)]))
        self.match[merged.query, slot] = merged.match
        self.ssim[merged.query, slot] = merged.ssim
        self.mse[merged.query, slot] = merged.mse
        self.psnr[merged.query, slot] = merged.psnr

    def all(self) -> Candidates:
        return self.rows(np.arange(len(self.match)))


def name_ranks(names: Sequence[str]) -> np.ndarray:
    """Rank of each name in sorted order: ties between equal scores go to the first name."""
    ranks = np.empty(len(names), dtype=np.int64)
    ranks[np.argsort(np.asarray(names, dtype=object), kind="stable")] = np.arange(len(names))
    return ranks


# --- results kept in the cache ------------------------------------------------------


def _keys(metas: Sequence[BlockMeta], count: int) -> list[str | None]:
    """Each input position's cache key: content digest and its occurrence number,
    so that two files with the same content are still two images."""
    keys: list[str | None] = [None] * count
    seen: Counter[str] = Counter()
    for meta in metas:
        for position, digest in zip(meta.positions, meta.digests, strict=True):
            seen[digest] += 1
            keys[position] = f"{digest}#{seen[digest]}"
    return keys


def input_set_key(
    inputs: Sequence[ImageSource], against: Sequence[ImageSource] | None = None
) -> str:
    """A short digest of where a run's images come from, naming its results in the cache.

    The resolved folders of the path inputs (and of ``against``'s, apart),
    sorted, and a mark for inputs not read from a file: so that files added to
    the same folders still find the earlier results, while runs over other
    folders sharing one cache never overwrite each other's.
    """
    sides = [inputs] if against is None else [inputs, against]
    places = [
        sorted({_place(entry.source) for entry in entries_from_inputs(each)}) for each in sides
    ]
    return hashlib.sha256(json.dumps(places).encode()).hexdigest()[:16]


def _place(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(Path(source).resolve().parent)
    return "<not a file>"  # uploads, arrays: the run's results are still checked by content


def _run_name(settings: Settings, within: bool, input_set: str) -> str:
    return f"{settings_key(settings)}-{input_set}-{'within' if within else 'against'}"


def _results_path(cache: Path, settings: Settings, within: bool, input_set: str) -> Path:
    return cache / "results" / f"{_run_name(settings, within, input_set)}.npz"


def _tiles_folder(cache: Path, settings: Settings, within: bool, input_set: str) -> Path:
    return cache / "tiles" / _run_name(settings, within, input_set)


def _pack(
    rows: np.ndarray,
    cols: np.ndarray,
    top: int,
    min_ssim: float | None,
    tops: Candidates,
    pairs: Candidates,
) -> dict[str, np.ndarray]:
    """Results as indices into ``rows`` and ``cols``, the positions in this run
    of the images they cover (every query and match is among them)."""
    arrays = {
        "format": np.array(CACHE_FORMAT),
        "top": np.array(top),
        "min_ssim": np.array(np.nan if min_ssim is None else min_ssim),
    }
    row_order, col_order = np.argsort(rows), np.argsort(cols)
    for prefix, found in (("top", tops), ("pair", pairs)):
        arrays[f"{prefix}_query"] = row_order[np.searchsorted(rows, found.query, sorter=row_order)]
        arrays[f"{prefix}_match"] = col_order[np.searchsorted(cols, found.match, sorter=col_order)]
        arrays[f"{prefix}_ssim"] = found.ssim
        arrays[f"{prefix}_mse"] = found.mse
        arrays[f"{prefix}_psnr"] = found.psnr
    return arrays


def _unpack(
    saved: dict[str, np.ndarray],
    rows: np.ndarray,
    cols: np.ndarray,
    top: int,
    min_ssim: float | None,
) -> TileResult | None:
    """Results packed by `_pack`, by position in this run (``rows`` and ``cols``
    are the positions of the images they cover, in the order packed); None
    unless they kept at least ``top`` matches and pairs down to ``min_ssim``."""
    saved_min = float(saved["min_ssim"])
    if int(saved["format"]) != CACHE_FORMAT or int(saved["top"]) < top:
        return None
    if min_ssim is not None and (math.isnan(saved_min) or saved_min > min_ssim):
        return None

    def candidates(prefix: str) -> Candidates:
        return Candidates(
            rows[saved[f"{prefix}_query"]],
            cols[saved[f"{prefix}_match"]],
            saved[f"{prefix}_ssim"],
            saved[f"{prefix}_mse"],
            saved[f"{prefix}_psnr"],
        )

    pairs = candidates("pair")
    if min_ssim is not None:
        pairs = pairs.take(pairs.ssim >= min_ssim)
    return TileResult(candidates("top"), pairs, 0)


def _key_positions(keys: Sequence[str | None]) -> dict[str, int]:
    return {key: position for position, key in enumerate(keys) if key is not None}


@dataclass(frozen=True, eq=False)
class _Reuse:
    known_rows: np.ndarray
    known_cols: np.ndarray
    result: TileResult


def _load_results(
    path: Path,
    row_keys: list[str | None],
    col_keys: list[str | None],
    top: int,
    min_ssim: float | None,
) -> _Reuse | None:
    """What a previous run computed, by position in this run, when it can be reused.

    It can when it kept at least ``top`` matches and pairs down to ``min_ssim``,
    and every image it knew is still here (otherwise a top list may name a
    removed image, and the next best is unknown): then this run scores only the
    pairs that involve a new image.
    """
    saved = _read_arrays(path)
    if saved is None or "row_keys" not in saved:
        return None
    row_at, col_at = _key_positions(row_keys), _key_positions(col_keys)
    saved_rows, saved_cols = saved["row_keys"].tolist(), saved["col_keys"].tolist()
    if not (set(saved_rows) <= row_at.keys() and set(saved_cols) <= col_at.keys()):
        return None
    rows = np.array([row_at[key] for key in saved_rows], dtype=np.int64)
    cols = np.array([col_at[key] for key in saved_cols], dtype=np.int64)
    result = _unpack(saved, rows, cols, top, min_ssim)
    if result is None:
        return None
    known_rows = np.zeros(len(row_keys), dtype=bool)
    known_rows[rows] = True
    known_cols = np.zeros(len(col_keys), dtype=bool)
    known_cols[cols] = True
    return _Reuse(known_rows, known_cols, result)


def _save_results(
    path: Path,
    row_keys: list[str | None],
    col_keys: list[str | None],
    top: int,
    min_ssim: float | None,
    tops: Candidates,
    pairs: Candidates,
) -> None:
    rows = np.array([p for p, key in enumerate(row_keys) if key is not None], dtype=np.int64)
    cols = np.array([p for p, key in enumerate(col_keys) if key is not None], dtype=np.int64)
    arrays = _pack(rows, cols, top, min_ssim, tops, pairs)
    # By content key, so that the next run finds its images wherever they are.
    arrays["row_keys"] = np.array([row_keys[p] for p in rows], dtype=str)
    arrays["col_keys"] = np.array([col_keys[p] for p in cols], dtype=str)
    _write_atomically(path, lambda stream: np.savez(stream, **arrays))


class _Journal:
    """The tiles a run has finished, one file each, so that when the run is
    killed its rerun scores only the tiles it had not finished.

    A tile is named by what decides its result: the content keys and names
    (names break ties) of the images of each of its parts, in order; so a tile
    of the same name covers the same images in the same order, and its file
    holds only scores and indices into them. The file also says the ``top``
    and ``min_ssim`` the tile was reduced with. The run that completes writes
    the whole results and then removes the journal.
    """

    def __init__(
        self,
        folder: Path,
        keys: tuple[list[str | None], list[str | None]],
        names: tuple[list[str], list[str]],
        within: bool,
        top: int,
        min_ssim: float | None,
    ) -> None:
        self.folder = folder
        self.keys, self.names, self.within = keys, names, within
        self.top, self.min_ssim = top, min_ssim

    def describe(
        self, row_meta: BlockMeta, col_meta: BlockMeta, parts: Sequence[Part]
    ) -> tuple[str, np.ndarray, np.ndarray]:
        """A tile's name, and the positions of its images (queries, matches)."""
        (row_keys, col_keys), (row_names, col_names) = self.keys, self.names
        rows, cols = {}, {}  # insertion-ordered sets of positions
        described = []
        for kind, row_indices, col_indices in parts:
            part_rows = [row_meta.positions[i] for i in row_indices]
            part_cols = [col_meta.positions[j] for j in col_indices]
            rows.update(dict.fromkeys(part_rows))
            cols.update(dict.fromkeys(part_cols))
            described.append(
                [
                    kind,
                    [(row_keys[p], row_names[p]) for p in part_rows],
                    [(col_keys[p], col_names[p]) for p in part_cols],
                ]
            )
        if self.within:  # either image of a pair can be the query
            rows = cols = {**rows, **cols}
        key = hashlib.sha256(json.dumps(described).encode()).hexdigest()
        return key, np.array(list(rows), dtype=np.int64), np.array(list(cols), dtype=np.int64)

    def load(self, key: str, rows: np.ndarray, cols: np.ndarray) -> TileResult | None:
        saved = _read_arrays(self.folder / f"{key}.npz")
        return None if saved is None else _unpack(saved, rows, cols, self.top, self.min_ssim)

    def store(self, key: str, rows: np.ndarray, cols: np.ndarray, result: TileResult) -> None:
        arrays = _pack(rows, cols, self.top, self.min_ssim, result.tops, result.pairs)
        _write_atomically(self.folder / f"{key}.npz", lambda stream: np.savez(stream, **arrays))

    def remove(self) -> None:
        """Forget every tile (and what a killed write left): the results are whole."""
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                path.unlink(missing_ok=True)
            self.folder.rmdir()
            # tiles/ itself, unless another settings' run is keeping tiles there.
            with contextlib.suppress(OSError):
                self.folder.parent.rmdir()


# --- the entry point -------------------------------------------------------------------


def neighbours(
    inputs: Sequence[ImageSource],
    against: Sequence[ImageSource] | None = None,
    top: int = DEFAULT_TOP,
    min_ssim: float | None = None,
    settings: Settings | None = None,
    *,
    progress: ProgressCallback | None = None,
    cache: str | os.PathLike | None = None,
    client: Any = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    block_size: int | None = None,
    input_set: str | None = None,
    **changes: Any,
) -> Neighbours:
    """Each image's most similar images, without an N x N matrix.

    Parameters
    ----------
    inputs : sequence
        Paths, ``(name, path)`` tuples, or any input `compare` takes. Inputs
        that cannot be read are reported in ``errors``; the others go on.
    against : sequence, optional
        A second set: each image of ``inputs`` is matched against these only
        (N x M pairs). Without it, against the other images of ``inputs``.
    top : int
        Matches kept per image, most similar first; equal scores (to 12
        decimals) are ordered by name.
    min_ssim : float, optional
        Also return every pair with SSIM at or above it and, within one set,
        their connected components (`Group`).
    settings : Settings, optional
        As for `compare`; ``**changes`` override single fields.
    progress : callable, optional
        Receives a `Progress` as blocks are prepared and tiles scored; an
        exception it raises stops the run, and the tiles finished so far stay
        in ``cache`` for the rerun.
    cache : path, optional
        A folder keeping prepared images (by content hash and settings) and the
        results, so that a rerun scores only the pairs that involve a new image;
        each tile's results are kept as soon as it is scored, so that the rerun
        of a run killed halfway scores only the tiles it had not finished.
    client : distributed.Client, optional
        Run the tasks on this Dask cluster. Inputs must then be paths that the
        workers can read (a shared filesystem), and so must ``cache``.
    max_pixels : int
        Larger images are refused from their header.
    max_pairs : int
        Most pairs at or above ``min_ssim`` kept (a `LimitError` beyond).
    block_size : int, optional
        Images per block; by default about a second of work per tile.
    input_set : str, optional
        Names this input set's results in ``cache`` (the page passes its
        collection's folder); by default `input_set_key` of the inputs, so
        that runs over different folders sharing a cache never collide.

    Returns
    -------
    Neighbours
        Every score equals `compare`'s under the same settings.

    Raises
    ------
    ValueError
        For invalid arguments; `LimitError` when more than ``max_pairs`` pairs
        reach ``min_ssim``.
    """
    settings = replace(settings or Settings(), **changes)
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a whole number of at least 1; got {top!r}")
    if min_ssim is not None and not -1.0 <= float(min_ssim) <= 1.0:
        raise ValueError(f"min_ssim must be in [-1, 1] (SSIM's range); got {min_ssim!r}")
    if block_size is not None and block_size < 1:
        raise ValueError(f"block_size must be at least 1; got {block_size!r}")
    within = against is None
    rows = entries_from_inputs(inputs)
    cols = rows if within else entries_from_inputs(against)
    if client is not None:
        rows = _absolute_paths(rows)
        cols = rows if within else _absolute_paths(cols)
    folder = None if cache is None else str(Path(cache).resolve())
    size = block_size or block_size_for(settings)
    runner = _DaskRunner(client) if client is not None else _LocalRunner()
    model = cost.model_for(progress)
    image_work, pair_work = model.preparation_seconds(settings), model.pair_seconds(settings)
    loading = len(rows) + (0 if within else len(cols))
    expected = len(rows) * (len(rows) - 1) / 2 if within else len(rows) * len(cols)
    tracker = ProgressTracker(loading * image_work + expected * pair_work, progress)

    def on_block(count: int) -> None:
        tracker.advance(count * image_work, "preparing images")

    def tasks(entries: list[Entry]) -> list[tuple]:
        return [
            (
                [(p, entries[p]) for p in range(start, min(start + size, len(entries)))],
                settings,
                max_pixels,
                folder,
            )
            for start in range(0, len(entries), size)
        ]

    row_blocks, row_metas = runner.prepare(tasks(rows), on_block)
    if within:
        col_blocks, col_metas = row_blocks, row_metas
    else:
        col_blocks, col_metas = runner.prepare(tasks(cols), on_block)
    row_keys = _keys(row_metas, len(rows))
    col_keys = row_keys if within else _keys(col_metas, len(cols))
    ranks = name_ranks([entry.name for entry in cols])
    state = TopLists(len(rows), top, ranks)
    pairs: list[Candidates] = []
    kept = 0

    def take(result: TileResult) -> None:
        nonlocal kept
        state.merge(result.tops)
        if min_ssim is not None:
            kept += len(result.pairs)
            if kept > max_pairs:
                raise LimitError(
                    f"more than {max_pairs:,} pairs have SSIM at or above {min_ssim}; "
                    f"raise --min-ssim, or the limit with the environment variable "
                    f"{ENVIRONMENT['max_pairs']}"
                )
            pairs.append(result.pairs)

    known_rows = np.zeros(len(rows), dtype=bool)
    known_cols = np.zeros(len(cols), dtype=bool)
    journal = None
    if folder is not None:
        named = input_set or input_set_key(inputs, against)
        path = _results_path(Path(folder), settings, within, named)
        reuse = _load_results(path, row_keys, col_keys, top, min_ssim)
        if reuse is not None:
            known_rows, known_cols = reuse.known_rows, reuse.known_cols
            take(reuse.result)
        names = ([entry.name for entry in rows], [entry.name for entry in cols])
        journal = _Journal(
            _tiles_folder(Path(folder), settings, within, named),
            (row_keys, col_keys),
            names,
            within,
            top,
            min_ssim,
        )
    jobs = plan_tiles(row_metas, None if within else col_metas, known_rows, known_cols)
    tiles = [None] * len(jobs)
    if journal is not None:  # tiles that a killed run finished are not scored again
        tiles = [journal.describe(row_metas[a], col_metas[b], parts) for a, b, parts in jobs]
        unfinished = []
        for index, tile in enumerate(tiles):
            result = journal.load(*tile)  # merged at once: one tile in memory at a time
            if result is None:
                unfinished.append(index)
            else:
                take(result)
        jobs = [jobs[index] for index in unfinished]
        tiles = [tiles[index] for index in unfinished]
    total_pairs = sum(_pair_count(parts) for _, _, parts in jobs)
    base = tracker.done
    tracker.total = base + total_pairs * pair_work
    tracker.new_stage()  # comparing is off the model by another factor than preparing
    computed = 0
    options = (top, min_ssim, within, settings.ssim_convention)
    for index, result in runner.tiles(row_blocks, col_blocks, jobs, ranks, options):
        if journal is not None:
            journal.store(*tiles[index], result)
        take(result)
        computed += result.pairs_computed
        tracker.update(
            base + computed * pair_work, f"compared {computed:,} of {total_pairs:,} pairs"
        )
    found_pairs = Candidates.concat(pairs) if min_ssim is not None else Candidates.empty()
    if journal is not None:
        _save_results(path, row_keys, col_keys, top, min_ssim, state.all(), found_pairs)
        journal.remove()
    return _result(
        settings,
        rows,
        cols,
        row_metas,
        col_metas,
        within,
        top,
        min_ssim,
        state,
        found_pairs if min_ssim is not None else None,
        computed,
    )


def _absolute_paths(entries: Sequence[Entry]) -> list[Entry]:
    """Entries whose sources are absolute paths, as Dask workers (whose current
    folder is their own) need them."""
    absolute = []
    for entry in entries:
        if not isinstance(entry.source, (str, os.PathLike)):
            raise ValueError(
                f"{entry.name}: with a Dask client every input must be a path that the "
                f"workers can read; got {type(entry.source).__name__}. Pass file paths "
                "on a filesystem the workers share, or run without a client"
            )
        absolute.append(replace(entry, source=os.path.abspath(entry.source)))
    return absolute


def _compact(metas: Sequence[BlockMeta], count: int) -> tuple[np.ndarray, list]:
    """Index of each input position among the images that could be read (-1 if not)."""
    infos = sorted(
        (position, info, prepared)
        for meta in metas
        for position, info, prepared in zip(meta.positions, meta.infos, meta.prepared, strict=True)
    )
    index = np.full(count + 1, -1, dtype=np.int64)  # index[-1] maps "no match" to -1
    index[[position for position, _, _ in infos]] = np.arange(len(infos))
    return index, infos


def _result(
    settings, rows, cols, row_metas, col_metas, within, top, min_ssim, state, pairs, computed
) -> Neighbours:
    row_index, row_infos = _compact(row_metas, len(rows))
    col_index, col_infos = (row_index, row_infos) if within else _compact(col_metas, len(cols))
    kept = row_index[: len(rows)] >= 0
    match = col_index[state.match[kept]]
    groups = None
    if pairs is not None:
        a, b = row_index[pairs.query], col_index[pairs.match]
        if within:
            a, b = np.minimum(a, b), np.maximum(a, b)
        order = np.lexsort((b, a))
        pairs = Candidates(
            a[order], b[order], pairs.ssim[order], pairs.mse[order], pairs.psnr[order]
        )
        if within:
            groups = _groups(pairs, [prepared for _, _, prepared in row_infos])
    errors = sorted(error for meta in row_metas for error in meta.errors)
    if not within:
        errors += sorted(error for meta in col_metas for error in meta.errors)
    return Neighbours(
        settings=settings,
        images=tuple(info for _, info, _ in row_infos),
        references=None if within else tuple(info for _, info, _ in col_infos),
        errors=tuple(error for _, error in errors),
        top=top,
        min_ssim=None if min_ssim is None else float(min_ssim),
        index=match,
        ssim=state.ssim[kept],
        mse=state.mse[kept],
        psnr=state.psnr[kept],
        pairs=pairs,
        groups=groups,
        digests=tuple(_digests(row_metas) + ([] if within else _digests(col_metas))),
        pairs_computed=computed,
    )


def _digests(metas: Sequence[BlockMeta]) -> list[str]:
    pairs = sorted(
        (p, d) for meta in metas for p, d in zip(meta.positions, meta.digests, strict=True)
    )
    return [digest for _, digest in pairs]


def _groups(pairs: Candidates, prepared: Sequence[str]) -> tuple[Group, ...]:
    """Connected components of the pairs (images in input order), largest first."""
    count = len(prepared)
    graph = coo_matrix((np.ones(len(pairs)), (pairs.query, pairs.match)), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    pair_labels = labels[pairs.query]
    groups = []
    for label in np.unique(pair_labels):
        members = tuple(int(i) for i in np.flatnonzero(labels == label))
        weakest = float(pairs.ssim[pair_labels == label].min())
        exact = len({prepared[i] for i in members}) == 1
        groups.append(Group(members, weakest, exact))
    groups.sort(key=lambda group: (-len(group.members), group.members[0]))
    return tuple(groups)
