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

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from imgsim.analyses import ImageFlags
from imgsim.collection._groups import chained_groups
from imgsim.collection._inputs import entries_from_inputs, input_set_key
from imgsim.collection._runners import DaskRunner, LocalRunner, PrepareTask
from imgsim.collection._store import (
    Journal,
    content_keys,
    load_results,
    results_path,
    save_results,
    tiles_folder,
)
from imgsim.collection._tiles import block_size_for, part_pairs, plan_tiles
from imgsim.collection._top import TopLists, name_ranks
from imgsim.collection._types import (
    DEFAULT_TOP,
    BlockMeta,
    Candidates,
    Entry,
    Neighbours,
    TileResult,
)
from imgsim.images import ImageInfo, ImageSource
from imgsim.settings import DEFAULT_MAX_PAIRS, DEFAULT_MAX_PIXELS, ENVIRONMENT, LimitError, Settings
from imgsim.timing import ProgressCallback, ProgressTracker, model_for


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
    cols = rows if against is None else entries_from_inputs(against)
    if client is not None:
        rows = _absolute_paths(rows)
        cols = rows if within else _absolute_paths(cols)
    folder = None if cache is None else str(Path(cache).resolve())
    size = block_size or block_size_for(settings)
    runner = DaskRunner(client) if client is not None else LocalRunner()
    model = model_for(progress)
    image_work, pair_work = model.preparation_seconds(settings), model.pair_seconds(settings)
    loading = len(rows) + (0 if within else len(cols))
    expected = len(rows) * (len(rows) - 1) / 2 if within else len(rows) * len(cols)
    tracker = ProgressTracker(loading * image_work + expected * pair_work, progress)

    def on_block(count: int) -> None:
        tracker.advance(count * image_work, "preparing images")

    def tasks(entries: list[Entry]) -> list[PrepareTask]:
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
    row_keys = content_keys(row_metas, len(rows))
    col_keys = row_keys if within else content_keys(col_metas, len(cols))
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
        path = results_path(Path(folder), settings, within, named)
        reuse = load_results(path, row_keys, col_keys, top, min_ssim)
        if reuse is not None:
            known_rows, known_cols = reuse.known_rows, reuse.known_cols
            take(reuse.result)
        names = ([entry.name for entry in rows], [entry.name for entry in cols])
        journal = Journal(
            tiles_folder(Path(folder), settings, within, named),
            (row_keys, col_keys),
            names,
            within,
            top,
            min_ssim,
        )
    jobs = plan_tiles(row_metas, None if within else col_metas, known_rows, known_cols)
    tiles: list[tuple[str, np.ndarray, np.ndarray]] = []  # read only with a journal
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
    total_pairs = sum(part_pairs(parts) for _, _, parts in jobs)
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
        save_results(path, row_keys, col_keys, top, min_ssim, state.all(), found_pairs)
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


def _compact(
    metas: Sequence[BlockMeta], count: int
) -> tuple[np.ndarray, list[tuple[int, ImageInfo, str]], tuple[ImageFlags, ...]]:
    """Index of each input position among the images that could be read (-1 if
    not); their infos and flags in that order."""
    infos = sorted(
        (position, info, prepared, flags)
        for meta in metas
        for position, info, prepared, flags in zip(
            meta.positions, meta.infos, meta.prepared, meta.flags, strict=True
        )
    )
    index = np.full(count + 1, -1, dtype=np.int64)  # index[-1] maps "no match" to -1
    index[[position for position, _, _, _ in infos]] = np.arange(len(infos))
    return index, [item[:3] for item in infos], tuple(item[3] for item in infos)


def _result(
    settings: Settings,
    rows: Sequence[Entry],
    cols: Sequence[Entry],
    row_metas: Sequence[BlockMeta],
    col_metas: Sequence[BlockMeta],
    within: bool,
    top: int,
    min_ssim: float | None,
    state: TopLists,
    pairs: Candidates | None,
    computed: int,
) -> Neighbours:
    row_index, row_infos, row_flags = _compact(row_metas, len(rows))
    col_index, col_infos, col_flags = (
        (row_index, row_infos, row_flags) if within else _compact(col_metas, len(cols))
    )
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
            groups = chained_groups(pairs, [prepared for _, _, prepared in row_infos], row_flags)
    errors = sorted(error for meta in row_metas for error in meta.errors)
    if not within:
        errors += sorted(error for meta in col_metas for error in meta.errors)
    return Neighbours(
        settings=settings,
        images=tuple(info for _, info, _ in row_infos),
        references=None if within else tuple(info for _, info, _ in col_infos),
        image_flags=row_flags,
        reference_flags=None if within else col_flags,
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
