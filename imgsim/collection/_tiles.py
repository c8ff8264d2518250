"""The two task functions (decode and prepare a block; score a tile) and the plan of tiles.

They run on this machine's threads or as tasks on Dask workers, with the same results.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from imgsim.analyses import ImageFlags, image_flags
from imgsim.collection._inputs import content_digest
from imgsim.collection._store import load_prepared, prepared_path, store_prepared
from imgsim.collection._top import best
from imgsim.collection._types import (
    MAX_BLOCK,
    MIN_BLOCK,
    TILE_PAIR_VALUES,
    Block,
    BlockMeta,
    Candidates,
    Entry,
    Part,
    TileResult,
)
from imgsim.images import (
    DecodedImage,
    ImageError,
    ImageInfo,
    ImageReadError,
    load_image,
    prepare,
    read_file,
)
from imgsim.metrics import score_all_pairs, score_block_pairs
from imgsim.settings import DEFAULT_MAX_PIXELS, Settings, SsimConvention, scored_values


def _load_one(
    entry: Entry, settings: Settings, max_pixels: int, cache: Path | None
) -> tuple[np.ndarray, ImageInfo, ImageFlags, str] | ImageError:
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
        path = prepared_path(cache, settings, digest)
        stored = load_prepared(path, entry.name)
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
    flags = image_flags((item.width, item.height), image, settings)
    if cache is not None:
        store_prepared(path, image, info, flags)
    return image, info, flags, digest


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
    positions, infos, digests, prepared, errors, images, flags = [], [], [], [], [], [], []
    for position, entry in entries:
        loaded = _load_one(entry, settings, max_pixels, folder)
        if isinstance(loaded, ImageError):
            errors.append((position, loaded))
            continue
        image, info, its_flags, digest = loaded
        positions.append(position)
        infos.append(info)
        flags.append(its_flags)
        digests.append(digest)
        prepared.append(hashlib.sha256(image.tobytes()).hexdigest())
        images.append(image)
    meta = BlockMeta(
        tuple(positions),
        tuple(infos),
        tuple(digests),
        tuple(prepared),
        tuple(errors),
        tuple(flags),
    )
    return Block(meta, tuple(images))


def block_meta(block: Block) -> BlockMeta:
    return block.meta


def score_tile(
    row_block: Block,
    col_block: Block,
    parts: Sequence[Part],
    ranks: np.ndarray,
    top: int,
    min_ssim: float | None,
    symmetric: bool,
    convention: SsimConvention,
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
    convention : {"skimage", "gaussian", "ms-ssim"}
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


def block_size_for(settings: Settings) -> int:
    """Images per block, so that a tile (block x block) is about a second of work."""
    values = scored_values(settings)  # MS-SSIM's coarser scales count
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
    known_cols: np.ndarray,
) -> list[tuple[int, int, list[Part]]]:
    """The tiles that score every pair that involves a new image, and no other.

    Within one set (``col_metas`` None, ``known_cols`` unused) the upper
    triangle of blocks; across sets every block pair. Known pairs come from
    the cache.
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
    new_a: tuple[int, ...],
    old_a: tuple[int, ...],
    splits: Sequence[tuple[tuple[int, ...], tuple[int, ...]]],
    first: int,
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


def part_pairs(parts: Sequence[Part]) -> int:
    return sum(
        len(rows) * (len(rows) - 1) // 2 if kind == "triangle" else len(rows) * len(cols)
        for kind, rows, cols in parts
    )
