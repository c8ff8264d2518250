"""Collections: `imgsim.neighbours`, in this process.

Every score and top list is checked against dense `compare` on sets small
enough for it; the cache by counting the pairs a rerun scores. The command
(`python -m imgsim neighbours`) is tested in tests/cli/test_neighbours_cli.py,
a real Dask cluster in tests/e2e/test_dask.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import imgsim
import imgsim.collection._store as store_module
import imgsim.collection._tiles as collection_module
from imgsim.collection._search import neighbours
from imgsim.collection._types import TIE_DECIMALS
from tests.helpers.images import encode
from tests.helpers.noisy_photos import collection_with_a_copy, gray_photos, write_collection

SIZE = (32, 32)
# Scores are the engine's, summed in other tiles than compare's: equal to
# rounding (about 1e-15), checked with room to spare.
TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> list[Path]:
    """13 noisy photos and an exact copy of the first."""
    return collection_with_a_copy(tmp_path_factory.mktemp("collection"))


def dense_top(ssim: np.ndarray, names: list[str], top: int) -> list[list[int]]:
    """Each row's best columns, by SSIM then name, from a dense matrix."""
    return [
        sorted(range(len(names)), key=lambda j: (-round(row[j], TIE_DECIMALS), names[j]))[:top]
        for row in ssim
    ]


def assert_matches_dense(result, ssim, mse, psnr, match_names) -> None:
    expected = dense_top(ssim, match_names, result.top)
    for query, columns in enumerate(expected):
        assert result.index[query].tolist() == columns
        np.testing.assert_allclose(result.ssim[query], ssim[query, columns], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(result.mse[query], mse[query, columns], rtol=TOLERANCE)
        np.testing.assert_allclose(result.psnr[query], psnr[query, columns], rtol=TOLERANCE)


@pytest.mark.parametrize("block_size", [1, 3, 64])
def test_top_lists_and_scores_equal_dense_compare(collection, block_size):
    dense = imgsim.compare(collection, size=SIZE)
    result = neighbours(collection, top=4, size=SIZE, block_size=block_size)
    assert result.names == dense.names
    ssim = dense.ssim.copy()
    np.fill_diagonal(ssim, -np.inf)  # an image is never its own match
    assert_matches_dense(result, ssim, dense.mse, dense.psnr, dense.names)
    assert result.pairs_computed == len(collection) * (len(collection) - 1) // 2


@pytest.mark.parametrize("block_size", [2, 64])
def test_cross_set_matches_equal_dense_compare(collection, block_size):
    queries, references = collection[:5], collection[5:]
    dense = imgsim.compare(collection, size=SIZE)
    result = neighbours(queries, against=references, top=3, size=SIZE, block_size=block_size)
    cross = (slice(0, 5), slice(5, None))
    assert [image.name for image in result.references] == dense.names[5:]
    assert_matches_dense(
        result, dense.ssim[cross], dense.mse[cross], dense.psnr[cross], dense.names[5:]
    )
    assert result.pairs_computed == 5 * (len(collection) - 5)


@pytest.mark.parametrize(
    "changes",
    [{"grayscale": False}, {"ssim_convention": "gaussian"}, {"fit": "crop", "size": (40, 24)}],
)
def test_every_setting_gives_compare_scores(collection, changes):
    changes = {"size": SIZE, **changes}
    dense = imgsim.compare(collection[:7], **changes)
    result = neighbours(collection[:7], top=6, block_size=3, **changes)
    ssim = dense.ssim.copy()
    np.fill_diagonal(ssim, -np.inf)
    assert_matches_dense(result, ssim, dense.mse, dense.psnr, dense.names)


def test_pairs_and_groups_are_the_components_of_pairs_at_min_ssim(collection):
    threshold = 0.35
    dense = imgsim.compare(collection, size=SIZE)
    result = neighbours(collection, top=2, min_ssim=threshold, size=SIZE, block_size=4)
    upper = np.triu(dense.ssim >= threshold, 1)
    expected = list(zip(*np.nonzero(upper), strict=True))
    assert list(zip(result.pairs.query, result.pairs.match, strict=True)) == expected
    np.testing.assert_allclose(result.pairs.ssim, dense.ssim[upper], rtol=0, atol=TOLERANCE)
    count = len(collection)
    graph = coo_matrix((np.ones(len(expected)), np.nonzero(upper)), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    components = [tuple(np.flatnonzero(labels == label)) for label in np.unique(labels)]
    assert {group.members for group in result.groups} == {c for c in components if len(c) > 1}
    assert len(result.groups) >= 2  # the data has groups, or this test proves nothing
    for group in result.groups:
        inside = upper & np.isin(np.arange(count), group.members)[:, None]
        assert group.min_ssim == pytest.approx(dense.ssim[inside].min(), abs=TOLERANCE)


def test_equal_scores_are_ordered_by_name(tmp_path):
    photo = gray_photos()[0]
    query = encode(photo, "PNG")
    copy = encode(photo[::-1], "PNG")  # every copy scores the same against the query
    inputs = [("query.png", query), ("c.png", copy), ("a.png", copy), ("b.png", copy)]
    result = neighbours(inputs[:1], against=inputs[1:], top=3, size=SIZE)
    names = [result.match_names[i] for i in result.index[0]]
    assert names == ["a.png", "b.png", "c.png"]


def _same(first, second) -> None:
    assert first.names == second.names
    assert first.index.tolist() == second.index.tolist()
    np.testing.assert_allclose(first.ssim, second.ssim, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(first.mse, second.mse, rtol=TOLERANCE)
    if first.pairs is not None:
        assert first.pairs.query.tolist() == second.pairs.query.tolist()
        assert first.pairs.match.tolist() == second.pairs.match.tolist()
        assert [g.members for g in first.groups] == [g.members for g in second.groups]


def test_cache_rerun_scores_only_the_pairs_with_new_images(tmp_path):
    folder, cache = tmp_path / "images", tmp_path / "cache"
    old = write_collection(folder, 10)
    options = {"top": 3, "min_ssim": 0.3, "size": SIZE, "block_size": 4}
    first = neighbours(old, cache=cache, **options)
    assert first.pairs_computed == 45
    # New images sorted among the old ones: img-010... and a0 first.
    new = write_collection(folder, 4, seed=7, first=10)
    everything = sorted([*old, *new])
    again = neighbours(everything, cache=cache, **options)
    assert again.pairs_computed == 4 * 10 + 4 * 3 // 2
    _same(again, neighbours(everything, **options))
    unchanged = neighbours(everything, cache=cache, **options)
    assert unchanged.pairs_computed == 0
    _same(unchanged, again)


def test_cache_rerun_across_sets_scores_only_new_queries_and_references(tmp_path):
    cache = tmp_path / "cache"
    queries = write_collection(tmp_path / "q", 5)
    references = write_collection(tmp_path / "r", 6, seed=3)
    options = {"top": 2, "size": SIZE, "block_size": 3}
    neighbours(queries[:4], against=references[:4], cache=cache, **options)
    again = neighbours(queries, against=references, cache=cache, **options)
    assert again.pairs_computed == 5 * 6 - 4 * 4
    _same(again, neighbours(queries, against=references, **options))


@pytest.mark.parametrize("against", [False, True])
def test_runs_over_different_folders_sharing_a_cache_keep_their_own_results(tmp_path, against):
    cache = tmp_path / "cache"
    first = write_collection(tmp_path / "first", 5)
    second = write_collection(tmp_path / "second", 4, seed=5)
    options = {"top": 2, "min_ssim": 0.3, "size": SIZE, "block_size": 2, "cache": cache}
    references = write_collection(tmp_path / "refs", 3, seed=9) if against else None
    for paths in (first, second):
        neighbours(paths, against=references, **options)
    for paths in (first, second):  # neither run overwrote the other's results
        assert neighbours(paths, against=references, **options).pairs_computed == 0


def test_cache_never_reuses_data_prepared_under_other_settings(tmp_path):
    cache = tmp_path / "cache"
    paths = write_collection(tmp_path / "images", 5)
    neighbours(paths, size=SIZE, cache=cache)
    other = neighbours(paths, size=(40, 40), cache=cache)
    assert other.pairs_computed == 10
    _same(other, neighbours(paths, size=(40, 40)))
    assert len(list((cache / "prepared").iterdir())) == 2


def test_a_run_killed_before_its_results_are_written_is_recovered_from_its_tiles(
    tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    paths = write_collection(tmp_path / "images", 9)
    options = {"top": 3, "min_ssim": 0.3, "size": SIZE, "block_size": 3}
    neighbours(paths[:6], cache=cache, **options)
    real_replace = collection_module.os.replace
    calls = []

    def killed_at_the_results(source, target):
        # Dies just before the new results replace the old ones: a temporary
        # file is left behind, and the old results are still whole.
        if "results" in str(target):
            raise KeyboardInterrupt
        calls.append(target)
        return real_replace(source, target)

    monkeypatch.setattr(collection_module.os, "replace", killed_at_the_results)
    with pytest.raises(KeyboardInterrupt):
        neighbours(paths, cache=cache, **options)
    assert calls  # the new images' prepared data and every tile were written before the kill
    monkeypatch.undo()
    (cache / "results" / ".tmp-left-by-a-kill.npz").write_bytes(b"PK\x03\x04 half")
    recovered = neighbours(paths, cache=cache, **options)
    assert recovered.pairs_computed == 0  # every tile of the killed run was kept
    _same(recovered, neighbours(paths, **options))
    assert not (cache / "tiles").exists()  # the journal is gone, folders and all
    assert neighbours(paths, cache=cache, **options).pairs_computed == 0  # from the results


@pytest.mark.parametrize(
    ("changes", "scored"),
    [
        ({}, 36 - 12),  # the same command: the two tiles kept (3 + 9 pairs) are not scored again
        ({"top": 2}, 36 - 12),  # fewer matches: the tiles' top 3 hold them
        ({"min_ssim": 0.4}, 36 - 12),  # fewer pairs: the tiles hold every pair from 0.3
        ({"top": 4}, 36),  # the tiles kept only 3 matches an image
        ({"min_ssim": 0.2}, 36),  # the tiles kept no pair below 0.3
    ],
)
def test_tiles_of_a_killed_run_are_reused_only_when_they_hold_the_answer(
    tmp_path, monkeypatch, changes, scored
):
    cache = tmp_path / "cache"
    paths = write_collection(tmp_path / "images", 9)
    options = {"top": 3, "min_ssim": 0.3, "size": SIZE, "block_size": 3}  # 6 tiles, 36 pairs
    real_store = store_module.Journal.store

    def killed_after_two_tiles(journal, *tile):
        real_store(journal, *tile)
        if len(list(journal.folder.iterdir())) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(store_module.Journal, "store", killed_after_two_tiles)
    with pytest.raises(KeyboardInterrupt):
        neighbours(paths, cache=cache, **options)
    monkeypatch.undo()
    options.update(changes)
    rerun = neighbours(paths, cache=cache, **options)
    assert rerun.pairs_computed == scored
    _same(rerun, neighbours(paths, **options))


def test_tiles_never_hold_more_than_two_blocks(collection, monkeypatch):
    sizes = []

    def recording(function):
        def wrapper(*blocks, **kwargs):
            sizes.append(sum(len(block) for block in blocks if isinstance(block, list)))
            return function(*blocks, **kwargs)

        return wrapper

    monkeypatch.setattr(
        collection_module, "score_all_pairs", recording(collection_module.score_all_pairs)
    )
    monkeypatch.setattr(
        collection_module, "score_block_pairs", recording(collection_module.score_block_pairs)
    )
    neighbours(collection, top=2, size=SIZE, block_size=3)
    assert sizes and max(sizes) <= 2 * 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"top": 0}, "top must be a whole number of at least 1; got 0"),
        ({"min_ssim": 1.5}, r"min_ssim must be in \[-1, 1\]"),
        ({"block_size": 0}, "block_size must be at least 1"),
    ],
)
def test_invalid_arguments_say_what_was_expected(collection, arguments, message):
    with pytest.raises(ValueError, match=message):
        neighbours(collection[:2], **arguments)


def test_pairs_over_the_limit_are_refused_naming_the_variable(collection):
    with pytest.raises(imgsim.LimitError, match="IMGSIM_MAX_PAIRS"):
        neighbours(collection, min_ssim=-1, size=SIZE, max_pairs=10)


@pytest.mark.parametrize("against", [False, True])
def test_a_completed_cache_run_leaves_no_tiles_folder(collection, tmp_path, against):
    cache = tmp_path / "cache"
    other = {"against": collection[10:]} if against else {}
    neighbours(collection[:10] if against else collection, cache=cache, size=SIZE, **other)
    assert sorted(path.name for path in cache.iterdir()) == ["prepared", "results"]


def test_each_image_is_prepared_once_and_progress_reaches_the_end(collection, monkeypatch):
    prepared = []
    real_prepare = collection_module.prepare

    def counting(image, settings):
        prepared.append(image.name)
        return real_prepare(image, settings)

    monkeypatch.setattr(collection_module, "prepare", counting)
    reports = []
    neighbours(collection, top=2, size=SIZE, block_size=3, progress=reports.append)
    assert sorted(prepared) == sorted(path.name for path in collection)
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert reports[-1].message == "compared 91 of 91 pairs"  # 14 images
