"""A collection's index: `neighbours` over its folder, run once in a background thread.

One `CollectionIndex` exists per collection and settings (the page keeps them
in ``st.cache_resource``, shared by every visitor). Its thread calls
`imgsim.neighbours` with the on-disk cache, so results survive a restart and a
rescan scores only the pairs that involve new files; with
``DASK_SCHEDULER_ADDRESS`` set, the tiles run on that Dask cluster. The page
only reads `CollectionIndex.status`, so no visitor's page waits for indexing.

The index keeps each image's top `INDEX_TOP` matches and every pair with SSIM
at or above `FLOOR_SSIM`: groups at any threshold from the floor up are
regrouped in memory from those pairs (`groups_at`), without scoring again.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgsim.collection._dask import dask_client, scheduler_address
from imgsim.collection._groups import chained_groups, component_labels
from imgsim.collection._search import neighbours
from imgsim.collection._source import Collection, Listing, list_images, resolve
from imgsim.collection._store import results_path
from imgsim.collection._types import Group, Neighbours
from imgsim.images import ImageSource
from imgsim.settings import ENVIRONMENT, LimitError, Limits, Settings, work
from imgsim.timing import Progress, ProgressCallback, calibrated_model, format_duration

logger = logging.getLogger(__name__)

CANCELLED = "cancelled"

FLOOR_SSIM = 0.5  # pairs kept by the index; groups can be drawn at any threshold above
INDEX_TOP = 10  # matches kept per image
DEFAULT_GROUP_SSIM = 0.9  # the page's threshold for groups until a visitor moves it
# One index runs at a time on this server: two would only share the same cores,
# and each would finish later than one after the other.
_ONE_AT_A_TIME = threading.Lock()
WAITING = "waiting for another index to finish"
_RESULT_IDS = itertools.count(1)


@dataclass(frozen=True)
class IndexStatus:
    """A snapshot of an index, for the page.

    Attributes
    ----------
    state : {"idle", "running", "done", "failed", "cancelled"}
    progress : Progress or None
        The latest report while running.
    result : Neighbours or None
        The last finished index (kept while a rescan runs).
    listing : Listing or None
        The files the last (or current) run indexes.
    error : str or None
        Why the last run failed.
    run : int
        How many runs of this index have finished.
    result_id : int
        Unique in this process for each finished run (of any index): a page
        keys what it derives from ``result`` on it.
    """

    state: str
    progress: Progress | None
    result: Neighbours | None
    listing: Listing | None
    error: str | None
    run: int
    result_id: int = 0


class IndexCancelled(Exception):
    """Raised in an index's thread (through its progress callback) to stop it."""


class CollectionIndex:
    """Indexes one collection at one set of settings, in its own thread.

    `start` refuses settings over the `Limits` up front (`check`); `cancel`
    stops a run after the tile being scored, and so does the server stopping
    (the thread is a daemon and checks that the main thread is alive between
    tiles), keeping the finished tiles in the cache for the next run.

    Parameters
    ----------
    collection : Collection
    settings : Settings
    cache : Path
        The collections cache folder (prepared images and results).
    limits : Limits
        ``max_pixels`` (per image), ``max_pairs`` (pairs at or above
        `FLOOR_SSIM` kept), ``max_side``, ``max_work`` and ``max_cache_bytes``
        (see `check`) apply.
    """

    def __init__(
        self,
        collection: Collection,
        settings: Settings,
        cache: Path,
        limits: Limits | None = None,
    ) -> None:
        self.collection = collection
        self.settings = settings
        self.cache = cache
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._status = IndexStatus("idle", None, None, None, None, 0)
        self._stop = threading.Event()
        # The collection's folder names its results in the cache: two
        # collections at the same settings never share (or overwrite) them.
        root = str(collection.root.resolve())
        self.input_set = "collection-" + hashlib.sha256(root.encode()).hexdigest()[:16]

    @property
    def status(self) -> IndexStatus:
        return self._status

    def cached(self) -> bool:
        """Whether the cache holds results of an earlier run at these settings
        (after a restart: indexing then only reads and checks the files)."""
        return results_path(self.cache, self.settings, True, self.input_set).exists()

    def check(self, image_count: int) -> None:
        """Raise `LimitError` when indexing ``image_count`` images at these settings
        is over the limits, with the limit's message (its environment variable named).

        ``max_side`` as for any comparison; ``max_work`` on `imgsim.settings.work`
        of the whole index, except that the collection at the page's default
        settings is always allowed (the server's owner chose the collection;
        a visitor may not ask for more than that or ``max_work``, whichever is
        larger); ``max_cache_bytes`` on the prepared images kept on disk.
        """
        limits, settings = self.limits, self.settings
        limits.check_side(settings.size)
        allowed = max(limits.max_work, work(image_count, Settings()))
        total = work(image_count, settings)
        if total > allowed:
            raise LimitError(
                f"indexing {image_count:,} images at {settings.width}x{settings.height} is "
                f"{total:,} values of work, more than the limit of {allowed:,} (about "
                f"{format_duration(index_seconds(image_count, settings))} on this server); use "
                "a smaller size",
                "max_work",
            )
        size = prepared_bytes(image_count, settings)
        if size > limits.max_cache_bytes:
            raise LimitError(
                f"indexing {image_count:,} images at {settings.width}x{settings.height} "
                f"keeps about {size / 1e9:,.1f} GB of prepared images in the cache, more "
                f"than the limit of {limits.max_cache_bytes / 1e9:,.1f} GB; use a smaller "
                "size or grayscale",
                "max_cache_bytes",
            )

    def start(self) -> bool:
        """Start a run (listing the folder again) unless one is running; True if started.

        Images already indexed under these settings come from the cache: only
        pairs that involve a new file are scored. A run over the limits ends
        at once as failed, with the limit's message (`check`).
        """
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._stop.clear()
            self._set(state="running", progress=None, error=None)
            self._thread = threading.Thread(
                target=self._run, name=f"imgsim-index-{self.collection.name}", daemon=True
            )
            self._thread.start()
            return True

    def cancel(self) -> None:
        """Stop the current run after the tile being scored (its finished tiles
        stay in the cache, so the next run starts from them)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> IndexStatus:
        """Block until the current run ends (for scripts and tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._status

    def _set(self, **changes: Any) -> None:
        # One assignment: readers in other threads see the old or the new snapshot.
        self._status = IndexStatus(**{**self._status.__dict__, **changes})

    def _run(self) -> None:
        # "Waiting" only while another index really holds the lock.
        if not _ONE_AT_A_TIME.acquire(blocking=False):
            self._set(progress=Progress(0.0, 1.0, WAITING, 0.0))
            _ONE_AT_A_TIME.acquire()
        try:
            self._index()
        finally:
            _ONE_AT_A_TIME.release()

    def _report(self, progress: Progress) -> None:
        # Called after each prepared block and each scored tile (once it is in
        # the cache): the place to stop, on a click or when the server stops.
        if self._stop.is_set() or not threading.main_thread().is_alive():
            raise IndexCancelled(progress.message)
        self._set(progress=progress)

    def _failed(self, error: Exception) -> None:
        # The page shows one line; the server's log keeps the whole traceback.
        logger.exception("imgsim: indexing the collection %r failed", self.collection.name)
        self._set(state="failed", error=f"{type(error).__name__}: {error}")

    def _index(self) -> None:
        try:
            listing = list_images(self.collection)
            self._set(listing=listing)
            self.check(len(listing.names))  # the folder may have grown since the page checked
        except LimitError as error:  # says which limit and how to raise it
            self._set(state="failed", error=str(error))
            return
        except Exception as error:  # a background thread: the page shows why the run failed
            self._failed(error)
            return
        try:
            inputs = [(name, str(resolve(self.collection, name))) for name in listing.names]
            with dask_client(scheduler_address(None)) as client:
                result = neighbours(
                    inputs,
                    top=INDEX_TOP,
                    min_ssim=FLOOR_SSIM,
                    settings=self.settings,
                    progress=self._report,
                    cache=self.cache,
                    input_set=self.input_set,
                    client=client,
                    max_pixels=self.limits.max_pixels,
                    max_pairs=self.limits.max_pairs,
                )
        except IndexCancelled as stopped:
            self._set(state=CANCELLED, error=f"cancelled ({stopped})")
            return
        except LimitError:
            # The core's message names --min-ssim, which the page does not have.
            self._set(
                state="failed",
                error=f"more than {self.limits.max_pairs:,} pairs of this collection have "
                f"SSIM of at least {FLOOR_SSIM}, the floor that the groups' slider "
                f"needs; raise the limit with the environment variable "
                f"{ENVIRONMENT['max_pairs']} (about 40 bytes of memory per pair)",
            )
            return
        except Exception as error:  # a background thread: the page shows why the run failed
            self._failed(error)
            return
        self._set(
            state="done", result=result, run=self._status.run + 1, result_id=next(_RESULT_IDS)
        )


def index_seconds(image_count: int, settings: Settings) -> float:
    """Expected seconds to index ``image_count`` images from scratch on this machine."""
    model = calibrated_model()
    pairs = image_count * (image_count - 1) / 2
    return image_count * model.preparation_seconds(settings) + pairs * model.pair_seconds(settings)


def prepared_bytes(image_count: int, settings: Settings) -> int:
    """Bytes of the prepared images an index keeps in the cache (uint8, one
    channel in grayscale, three in colour)."""
    channels = 1 if settings.grayscale else 3
    return image_count * settings.width * settings.height * channels


def groups_at(result: Neighbours, threshold: float) -> tuple[Group, ...]:
    """Near-duplicate groups of an index at ``threshold`` (at least `FLOOR_SSIM`).

    Connected components of the kept pairs at or above ``threshold``, largest
    first, as `neighbours` would give with ``min_ssim=threshold``.
    """
    if not FLOOR_SSIM <= threshold <= 1.0:
        raise ValueError(
            f"threshold must be between the index's floor {FLOOR_SSIM} and 1; got {threshold}"
        )
    pairs = result.pairs
    assert pairs is not None, "an index keeps its pairs: it always runs with min_ssim"
    kept = pairs.take(pairs.ssim >= threshold)
    # Identical prepared images are the components of the pairs with MSE 0
    # (their SSIM is 1, so the index always keeps them).
    same = component_labels(pairs.take(pairs.mse == 0), len(result.images))
    return chained_groups(kept, [str(label) for label in same], result.image_flags)


@dataclass(frozen=True)
class Match:
    """One match of a query: a collection image, the scores and the pair's flags
    (`imgsim.analyses.FLAGS`, ``()`` for none)."""

    name: str
    ssim: float
    mse: float
    psnr: float
    flags: tuple[str, ...] = ()


def _row_matches(found: Neighbours, row: int) -> list[Match]:
    names = found.match_names
    scores = (found.index[row], found.ssim[row], found.mse[row], found.psnr[row])
    return [
        Match(names[j], float(s), float(m), float(p), found.flags(row, j))
        for j, s, m, p in zip(*scores, strict=True)
        if j >= 0
    ]


def matches_of(result: Neighbours, name: str) -> list[Match]:
    """A collection image's best matches, from the index's top lists."""
    return _row_matches(result, result.names.index(name))


def query(
    index: CollectionIndex,
    queries: Sequence[ImageSource],
    top: int = INDEX_TOP,
    progress: ProgressCallback | None = None,
) -> tuple[Neighbours, list[list[Match]]]:
    """Match images that are not in the collection (uploads) against it.

    Runs in the caller's thread, on this machine (uploads are not files that
    Dask workers could read). Prepared collection images come from the cache,
    but every file is read again to check its content hash.

    Returns
    -------
    (Neighbours, list of list of Match)
        The result (its ``errors`` name unreadable queries) and each readable
        query's matches, most similar first.
    """
    result = index.status.result
    if result is None:
        raise ValueError(f"{index.collection.name} is not indexed yet; wait for its index")
    against = [(name, str(resolve(index.collection, name))) for name in result.names]
    found = neighbours(
        queries,
        against=against,
        top=top,
        settings=index.settings,
        cache=index.cache,
        progress=progress,
        max_pixels=index.limits.max_pixels,
    )
    return found, [_row_matches(found, row) for row in range(len(found.images))]
