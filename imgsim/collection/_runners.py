"""Where the tasks run: this machine's threads, or a Dask cluster."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from imgsim.collection._tiles import block_meta, prepare_block, score_tile
from imgsim.collection._types import Block, BlockMeta, Entry, Part, TileResult
from imgsim.metrics import worker_count
from imgsim.settings import Settings, SsimConvention

# `prepare_block`'s arguments: (position, entry) pairs, settings, max_pixels, cache folder.
PrepareTask = tuple[Sequence[tuple[int, Entry]], Settings, int, str | None]
# A tile to score: row block, column block and the parts (`plan_tiles`).
Job = tuple[int, int, list[Part]]
# `score_tile`'s arguments after the ranks: top, min_ssim, symmetric, convention.
TileOptions = tuple[int, float | None, bool, SsimConvention]


class LocalRunner:
    """Blocks prepared on a thread pool; tiles scored one after another (the
    engine itself uses every core)."""

    def prepare(
        self, tasks: Sequence[PrepareTask], on_block: Callable[[int], None]
    ) -> tuple[list[Block], list[BlockMeta]]:
        pool = ThreadPoolExecutor(worker_count(len(tasks)), thread_name_prefix="imgsim-prep")
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

    def tiles(
        self,
        rows: Sequence[Block],
        cols: Sequence[Block],
        jobs: Sequence[Job],
        ranks: np.ndarray,
        options: TileOptions,
    ) -> Iterator[tuple[int, TileResult]]:
        for index, (a, b, parts) in enumerate(jobs):
            yield index, score_tile(rows[a], cols[b], parts, ranks, *options)


class DaskRunner:
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

    def prepare(
        self, tasks: Sequence[PrepareTask], on_block: Callable[[int], None]
    ) -> tuple[list[Any], list[BlockMeta]]:
        """The blocks as futures (their pixels stay on the workers), and their metadata."""
        from distributed import as_completed

        client = self._client
        blocks = [client.submit(prepare_block, *task, pure=False) for task in tasks]
        metas = [client.submit(block_meta, block, pure=False) for block in blocks]
        for future in as_completed(metas):
            meta = future.result()
            on_block(len(meta.positions) + len(meta.errors))
        return blocks, client.gather(metas)

    def tiles(
        self,
        rows: Sequence[Any],
        cols: Sequence[Any],
        jobs: Sequence[Job],
        ranks: np.ndarray,
        options: TileOptions,
    ) -> Iterator[tuple[int, TileResult]]:
        """Scores of ``jobs`` over the blocks' futures, as the tiles finish."""
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
