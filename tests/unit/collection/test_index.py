"""A collection's index (`CollectionIndex`): one background run at a time, limits,
cancelling, rescans, and groups equal to `neighbours` (without the page)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

import imgsim
import imgsim.collection._index as collection_index
from imgsim.collection._index import FLOOR_SSIM, CollectionIndex, groups_at
from imgsim.collection._source import list_images, parse_collections
from tests.helpers.collection_corpus import make_collection

SIZE = 64
SETTINGS = imgsim.Settings(size=(SIZE, SIZE))
GROUP_SIZES = (4, 3, 3, *(2,) * 10)
TIMEOUT = 120  # s; a bound for a hung thread, not a speed requirement


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[list[str]]]:
    folder = tmp_path_factory.mktemp("collection") / "photos"
    groups = make_collection(folder, singles=12, group_sizes=GROUP_SIZES)
    return folder, groups


@pytest.fixture
def photos(corpus, monkeypatch) -> tuple[Path, list[list[str]]]:
    """The generated collection and its groups; indexes run in this process."""
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    return corpus


@pytest.fixture(scope="module")
def indexed(corpus, tmp_path_factory):
    """The collection's finished index at `SETTINGS` (made once: every threshold
    regroups the same index)."""
    folder, _ = corpus
    collection = parse_collections(str(folder))[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
        index = CollectionIndex(collection, SETTINGS, tmp_path_factory.mktemp("cache"))
        index.start()
        status = index.wait(TIMEOUT)
    assert status.state == "done", status.error
    return status.result


@pytest.mark.parametrize("threshold", [FLOOR_SSIM, 0.94, 0.96, 0.97, 1.0])
def test_regrouping_the_index_equals_neighbours_at_that_threshold(corpus, indexed, threshold):
    folder, _ = corpus
    result = indexed
    inputs = [(name, str(folder / name)) for name in result.names]
    direct = imgsim.neighbours(inputs, min_ssim=threshold, settings=SETTINGS)
    assert groups_at(result, threshold) == direct.groups


def test_indexes_run_one_at_a_time(photos, tmp_path, monkeypatch):
    folder, _ = photos
    started, release = threading.Event(), threading.Event()
    real = collection_index.neighbours

    def held(*args, **kwargs):
        started.set()
        assert release.wait(TIMEOUT)
        return real(*args, **kwargs)

    monkeypatch.setattr(collection_index, "neighbours", held)
    collection = parse_collections(str(folder))[0]
    first = CollectionIndex(collection, SETTINGS, tmp_path / "one")
    second = CollectionIndex(collection, imgsim.Settings(size=(32, 32)), tmp_path / "two")
    try:
        first.start()
        assert started.wait(TIMEOUT)
        second.start()
        assert second.status.state == "running"
        assert second.status.progress.message == collection_index.WAITING
        assert second.status.listing is None  # not even listing the folder yet
    finally:
        release.set()
    assert first.wait(TIMEOUT).state == "done"
    assert second.wait(TIMEOUT).state == "done"


def test_too_many_pairs_above_the_floor_fail_the_index_with_the_limit_to_raise(photos, tmp_path):
    folder, _ = photos
    collection = parse_collections(str(folder))[0]
    limits = imgsim.Limits(max_pairs=3)  # the collection has more near-duplicate pairs
    index = CollectionIndex(collection, SETTINGS, tmp_path / "cache", limits)
    index.start()
    status = index.wait(TIMEOUT)
    assert status.state == "failed"
    assert "more than 3 pairs" in status.error and "IMGSIM_MAX_PAIRS" in status.error
    assert "--min-ssim" not in status.error


@pytest.mark.parametrize(
    ("limits", "changes", "variable"),
    [
        (imgsim.Limits(max_side=48), {}, "IMGSIM_MAX_SIDE"),
        # The default settings' work is always allowed; 10000 x 10000 is far over it.
        (imgsim.Limits(), {"size": (10000, 10000)}, "IMGSIM_MAX_WORK"),
        (imgsim.Limits(max_cache_bytes=10_000), {}, "IMGSIM_MAX_CACHE_BYTES"),
    ],
)
def test_an_index_over_the_limits_is_refused_before_anything_is_prepared(
    photos, tmp_path, limits, changes, variable
):
    folder, _ = photos
    collection = parse_collections(str(folder))[0]
    cache = tmp_path / "cache"
    index = CollectionIndex(collection, dataclasses.replace(SETTINGS, **changes), cache, limits)
    with pytest.raises(imgsim.LimitError, match=variable):
        index.check(len(list_images(collection).names))
    index.start()
    status = index.wait(TIMEOUT)
    assert status.state == "failed" and variable in status.error
    assert not cache.exists()  # nothing prepared, nothing written


def test_the_default_settings_are_within_the_limits_of_a_large_collection(photos, tmp_path):
    folder, _ = photos
    collection = parse_collections(str(folder))[0]
    index = CollectionIndex(collection, imgsim.Settings(), tmp_path / "cache")
    index.check(5000)  # a few thousand photos at the page's defaults: no error


def _cancelling(index: CollectionIndex, real, block_size: int, stage: str):
    """`neighbours` in blocks of ``block_size`` images, cancelling ``index`` at its
    first report whose message starts with ``stage``."""

    def run(*args, **kwargs):
        report = kwargs["progress"]

        def progress(each):
            if each.message.startswith(stage):
                index.cancel()
            report(each)

        return real(*args, **{**kwargs, "progress": progress, "block_size": block_size})

    return run


def _cancelled_run(photos, cache: Path, monkeypatch, block_size: int, stage: str):
    """An index of the photos collection, run once and cancelled at ``stage``."""
    folder, _ = photos
    index = CollectionIndex(parse_collections(str(folder))[0], SETTINGS, cache)
    real = collection_index.neighbours
    monkeypatch.setattr(collection_index, "neighbours", _cancelling(index, real, block_size, stage))
    index.start()
    status = index.wait(TIMEOUT)
    assert status.state == "cancelled" and status.result is None
    # Later runs in the same blocks, not cancelled.
    monkeypatch.setattr(collection_index, "neighbours", _cancelling(index, real, block_size, "-"))
    return index


def test_cancel_stops_the_index_at_the_next_tile_and_keeps_the_finished_tiles(
    photos, tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    index = _cancelled_run(photos, cache, monkeypatch, 4, "compared")
    assert len(list((cache / "tiles").rglob("*.npz"))) == 1  # the one tile finished
    assert index.start()
    done = index.wait(TIMEOUT)
    readable = len(done.result.images)
    assert done.state == "done"
    # The finished tile is not scored again.
    assert 0 < done.result.pairs_computed < readable * (readable - 1) // 2


def test_cancel_while_preparing_leaves_the_remaining_images_unprepared(
    photos, tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    index = _cancelled_run(photos, cache, monkeypatch, 1, "preparing")
    prepared = len(list((cache / "prepared").rglob("*.npz")))
    # The blocks already running finish; the others are not begun.
    assert prepared < len(list_images(index.collection).names) // 2


def test_the_server_stopping_stops_the_index_at_the_next_tile(photos, tmp_path, monkeypatch):
    folder, _ = photos
    collection = parse_collections(str(folder))[0]
    index = CollectionIndex(collection, SETTINGS, tmp_path / "cache")
    ended = threading.Thread(target=lambda: None)
    ended.start()
    ended.join()
    # What the index's thread sees once the server's main thread has returned.
    monkeypatch.setattr(collection_index.threading, "main_thread", lambda: ended)
    index.start()
    assert index._thread.daemon  # nor does it keep the interpreter from exiting
    status = index.wait(TIMEOUT)
    assert status.state == "cancelled" and status.result is None


def test_waiting_is_said_only_while_another_index_holds_the_lock(photos, tmp_path):
    folder, _ = photos
    seen = []

    class Recorded(CollectionIndex):
        def _set(self, **changes) -> None:
            super()._set(**changes)
            seen.append(self.status.progress)

    index = Recorded(parse_collections(str(folder))[0], SETTINGS, tmp_path / "cache")
    index.start()
    assert index.wait(TIMEOUT).state == "done"
    messages = [progress.message for progress in seen if progress is not None]
    assert messages and collection_index.WAITING not in messages


def test_a_rescan_scores_only_the_pairs_of_new_files(photos, tmp_path, monkeypatch):
    folder, _ = photos
    copy = tmp_path / "growing"
    make_collection(copy, singles=6, group_sizes=(2,))
    collection = parse_collections(str(copy))[0]
    index = CollectionIndex(collection, SETTINGS, tmp_path / "cache")
    index.start()
    before = index.wait(TIMEOUT).result
    (copy / "new.png").write_bytes((folder / "a/img-0000.png").read_bytes())
    assert index.start()
    after = index.wait(TIMEOUT).result
    readable = len(before.images)
    assert after.pairs_computed == readable  # the new image against each of the others
    assert len(after.images) == readable + 1
