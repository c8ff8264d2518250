"""Collections: `imgsim.neighbours` and `python -m imgsim neighbours`.

Every score and top list is checked against dense `compare` on sets small
enough for it; the cache by counting the pairs a rerun scores; Dask on a real
cluster of two worker processes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import skimage.data
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import imgsim
import imgsim.collection._store as store_module
import imgsim.collection._tiles as collection_module
from imgsim.collection._types import TIE_DECIMALS
from imgsim.collection._search import neighbours

from .conftest import encode
from .dask_cluster import dask_client, dask_cluster
from .test_cli import ROOT, run_cli, run_interrupted, screen_text, strict_json
from .test_limits import run_cli as run_cli_with

SIZE = (32, 32)
# Scores are the engine's, summed in other tiles than compare's: equal to
# rounding (about 1e-15), checked with room to spare.
TOLERANCE = 1e-12


def _photos() -> list[np.ndarray]:
    gray = [
        skimage.data.camera(),
        skimage.data.coins(),
        skimage.data.moon(),
        skimage.data.page(),
        skimage.color.rgb2gray(skimage.data.chelsea()),
        skimage.color.rgb2gray(skimage.data.coffee()),
    ]
    return [skimage.util.img_as_ubyte(photo) for photo in gray]


def write_collection(folder: Path, count: int, seed: int = 0, first: int = 0) -> list[Path]:
    """``count`` PNGs: the six photos with more and more noise, named img-NNN.png."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = _photos()
    paths = []
    for index in range(first, first + count):
        photo = photos[index % len(photos)].astype(float)
        noisy = photo + rng.normal(0, 4 + 3 * index, photo.shape)
        path = folder / f"img-{index:03d}.png"
        path.write_bytes(encode(np.clip(noisy, 0, 255).astype(np.uint8), "PNG"))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> list[Path]:
    """13 noisy photos and an exact copy of the first."""
    folder = tmp_path_factory.mktemp("collection")
    paths = write_collection(folder, 13)
    copy = folder / "img-copy.png"
    shutil.copyfile(paths[0], copy)
    return [*paths, copy]


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


def test_identical_prepared_images_are_flagged_as_exact_duplicates(collection, tmp_path):
    output = tmp_path / "out.json"
    done = run_cli(
        "neighbours",
        *collection,
        "--size",
        "32",
        "--min-ssim",
        "0.999",
        "--format",
        "json",
        "-o",
        output,
    )
    assert done.returncode == 0, done.stderr
    document = strict_json(output.read_text())
    assert document["groups"] == [
        {
            "names": ["img-000.png", "img-copy.png"],
            "min_ssim": document["groups"][0]["min_ssim"],
            "exact": True,
        }
    ]
    (pair,) = document["pairs"]
    assert (pair["a"], pair["b"], pair["mse"], pair["psnr"], pair["exact"]) == (
        "img-000.png",
        "img-copy.png",
        0.0,
        None,
        True,
    )


def test_equal_scores_are_ordered_by_name(tmp_path):
    photo = _photos()[0]
    query = encode(photo, "PNG")
    copy = encode(photo[::-1], "PNG")  # every copy scores the same against the query
    inputs = [("query.png", query), ("c.png", copy), ("a.png", copy), ("b.png", copy)]
    result = neighbours(inputs[:1], against=inputs[1:], top=3, size=SIZE)
    names = [result.match_names[i] for i in result.index[0]]
    assert names == ["a.png", "b.png", "c.png"]


def test_unreadable_files_are_reported_one_line_each_and_the_rest_matched(collection, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    missing = tmp_path / "missing.png"
    done = run_cli(
        "neighbours",
        collection[0],
        broken,
        collection[1],
        missing,
        collection[2],
        "--size",
        "32",
        "--format",
        "json",
    )
    assert done.returncode == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("imgsim: broken.png: ") and "missing.png: cannot read" in lines[1]
    document = strict_json(done.stdout)
    assert [error["name"] for error in document["errors"]] == ["broken.png", "missing.png"]
    assert [entry["name"] for entry in document["neighbours"]] == [
        "img-000.png",
        "img-001.png",
        "img-002.png",
    ]


def test_fewer_than_two_readable_images_exit_with_one(collection, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"garbage")
    done = run_cli("neighbours", collection[0], broken, "--size", "32")
    assert done.returncode == 1 and "1 of 2 images could be read" in done.stderr


def test_names_are_paths_relative_to_the_path_given(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    write_collection(first / "deep", 2)
    write_collection(second, 2, seed=1)
    (tmp_path / "list.txt").write_text(f"{second / 'img-001.png'}\n\n")
    done = run_cli(
        "neighbours",
        first,
        second,
        f"@{tmp_path / 'list.txt'}",
        "--recursive",
        "--size",
        "32",
        "--top",
        "1",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    names = [image["name"] for image in strict_json(done.stdout)["images"]]
    # Equal base names stay apart: the folder's relative path, then " (2)" as compare does.
    assert names == [
        "deep/img-000.png",
        "deep/img-001.png",
        "img-000.png",
        "img-001.png",
        "img-001.png (2)",
    ]
    flat = run_cli("neighbours", first, second, "--size", "32", "--format", "json")
    assert [image["name"] for image in strict_json(flat.stdout)["images"]] == [
        "img-000.png",
        "img-001.png",
    ]


def test_json_follows_the_contract(collection):
    done = run_cli(
        "neighbours",
        *collection[:4],
        "--against",
        *collection[4:8],
        "--size",
        "32",
        "--top",
        "2",
        "--min-ssim",
        "-1",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    document = strict_json(done.stdout)
    assert list(document) == [
        "settings",
        "images",
        "references",
        "errors",
        "neighbours",
        "pairs",
        "provenance",
    ]
    # Queries then references, each with the SHA-256 of its bytes, as compare's.
    assert document["provenance"]["inputs"] == [
        {"name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in collection[:8]
    ]
    assert set(document["provenance"]["versions"]) >= {"imgsim", "numpy", "opencv"}
    assert document["settings"] == {
        **imgsim.Settings(size=SIZE).to_dict(),
        "top": 2,
        "min_ssim": -1.0,
    }
    assert [image["name"] for image in document["references"]] == [
        path.name for path in collection[4:8]
    ]
    assert set(document["images"][0]) == {"name", "width", "height"}
    for entry in document["neighbours"]:
        assert len(entry["matches"]) == 2
        for match in entry["matches"]:
            assert set(match) == {"name", "ssim", "mse", "psnr"}
    assert len(document["pairs"]) == 16  # every cross pair is >= -1
    within = strict_json(
        run_cli(
            "neighbours", *collection[:4], "--size", "32", "--min-ssim", "0.9", "--format", "json"
        ).stdout
    )
    assert list(within) == [
        "settings",
        "images",
        "errors",
        "neighbours",
        "pairs",
        "groups",
        "provenance",
    ]


def test_csv_and_parquet_have_one_row_per_query_rank_and_match(collection, tmp_path):
    inputs = collection[-3:]  # ends with the exact copy of img-000, so one PSNR is infinite
    inputs = [collection[0], *inputs]
    parquet = tmp_path / "out.parquet"
    done = run_cli("neighbours", *inputs, "--size", "32", "--format", "parquet", "-o", parquet)
    assert done.returncode == 0, done.stderr
    table = pq.read_table(parquet)
    assert table.column_names == ["query", "rank", "match", "ssim", "mse", "psnr"]
    assert [str(field.type) for field in table.schema] == [
        "string",
        "int32",
        "string",
        "double",
        "double",
        "double",
    ]
    rows = table.to_pylist()
    assert len(rows) == 4 * 3
    assert [row["rank"] for row in rows[:3]] == [1, 2, 3]
    first = rows[0]
    assert (first["query"], first["match"], first["mse"], first["psnr"]) == (
        "img-000.png",
        "img-copy.png",
        0.0,
        None,
    )
    csv_lines = run_cli("neighbours", *inputs, "--size", "32", "--format", "csv").stdout
    assert csv_lines.splitlines()[0] == "query,rank,match,ssim,mse,psnr"
    assert len(csv_lines.splitlines()) == 1 + 4 * 3
    assert csv_lines.splitlines()[1].endswith(",0.0,inf")
    refused = run_cli("neighbours", *inputs, "--format", "parquet")
    assert refused.returncode == 2 and "-o FILE" in refused.stderr


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_pairs_and_groups_at_min_ssim_go_to_sibling_files_equal_to_json(collection, tmp_path, kind):
    options = ["--size", "32", "--min-ssim", "0.3"]
    document = strict_json(run_cli("neighbours", *collection, *options, "--format", "json").stdout)
    assert document["pairs"] and document["groups"]  # something to compare
    done = run_cli("neighbours", *collection, *options, "-o", tmp_path / f"out.{kind}")
    assert done.returncode == 0 and done.stderr == ""
    if kind == "parquet":
        pairs = pq.read_table(tmp_path / "out.pairs.parquet").to_pylist()
        members = pq.read_table(tmp_path / "out.groups.parquet").to_pylist()
    else:
        pairs = list(csv.DictReader((tmp_path / "out.pairs.csv").open()))
        members = list(csv.DictReader((tmp_path / "out.groups.csv").open()))
        for pair in pairs:  # CSV: text, PSNR inf where infinite
            psnr = float(pair["psnr"])
            pair.update(
                ssim=float(pair["ssim"]), mse=float(pair["mse"]), exact=pair["exact"] == "True"
            )
            pair["psnr"] = None if math.isinf(psnr) else psnr
        for member in members:
            member.update(
                group=int(member["group"]),
                min_ssim=float(member["min_ssim"]),
                exact=member["exact"] == "True",
            )
    assert pairs == document["pairs"]
    groups = [
        {"names": [m["name"] for m in members if m["group"] == number], "min_ssim": ms, "exact": ex}
        for number, ms, ex in dict.fromkeys(
            (m["group"], m["min_ssim"], m["exact"]) for m in members
        )
    ]
    assert groups == document["groups"]


def test_csv_on_stdout_names_the_pairs_and_groups_it_leaves_out(collection):
    done = run_cli(
        "neighbours", *collection[:4], "--size", "32", "--min-ssim", "0.3", "--format", "csv"
    )
    assert done.returncode == 0
    assert done.stderr == (
        "imgsim: note: the CSV on stdout has the top lists only, without the pairs and groups "
        "at --min-ssim: -o FILE.csv also writes FILE.pairs.csv and FILE.groups.csv "
        "(or use --format json)\n"
    )


def test_images_only_in_subfolders_suggest_recursive(tmp_path):
    write_collection(tmp_path / "photos" / "2019", 2)
    write_collection(tmp_path / "photos" / "2020", 1)
    done = run_cli("neighbours", tmp_path / "photos", "--size", "32")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"imgsim: 0 of 0 images could be read; at least 2 needed; {tmp_path / 'photos'} "
        "has 3 images in its subfolders: add --recursive"
    )


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


KILL_TIMEOUT = 120  # seconds; generous, the machine is shared


@pytest.mark.parametrize("where", ["scoring", "writing"])
def test_a_run_killed_with_sigkill_is_rerun_scoring_only_its_unfinished_tiles(tmp_path, where):
    """A real `python -m imgsim neighbours --cache` process, killed with SIGKILL once
    four of its ten tiles are in the cache: while it scores the fifth, or while
    the fifth is half written. The rerun scores only the six others and writes
    exactly what a fresh run writes."""
    folder, cache = tmp_path / "images", tmp_path / "cache"
    write_collection(folder, 12)
    count = tmp_path / "scored.txt"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent / "killed_run"), str(ROOT)]),
        "IMGSIM_TEST_BLOCK": "3",  # 4 blocks of 3 images: 10 tiles
        "IMGSIM_TEST_COUNT": str(count),
    }

    def command(output: Path, *options: str) -> list[str]:
        return [
            sys.executable, "-m", "imgsim", "neighbours", str(folder), "--size", "32",
            "--top", "3", "--min-ssim", "0.3", "--format", "json", "-o", str(output), *options,
        ]  # fmt: skip

    killed = subprocess.Popen(
        command(tmp_path / "killed.json", "--cache", str(cache)),
        env={**environment, "IMGSIM_TEST_STOP_AFTER": "4", "IMGSIM_TEST_STOP_WHERE": where},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Bounded: should the run neither stop nor end, it is killed, and waitpid returns.
    watchdog = threading.Timer(KILL_TIMEOUT, killed.kill)
    watchdog.start()
    try:
        _, status = os.waitpid(killed.pid, os.WUNTRACED)  # until it stops itself
    finally:
        watchdog.cancel()
    assert os.WIFSTOPPED(status), f"the run did not stop where asked (wait status {status})"
    journal = [path.name for path in (cache / "tiles").rglob("*") if path.is_file()]
    killed.kill()
    assert killed.wait(KILL_TIMEOUT) == -signal.SIGKILL
    finished = [name for name in journal if not name.startswith(".tmp-")]
    assert len(finished) == 4
    assert len(journal) == (5 if where == "writing" else 4)  # the fifth, half written
    assert not (tmp_path / "killed.json").exists()
    # Scored before the kill: the four tiles kept, and with "writing" the fifth (1-1).
    assert sum(map(int, count.read_text().split())) == 30 + (3 if where == "writing" else 0)

    count.unlink()
    rerun = subprocess.run(
        command(tmp_path / "rerun.json", "--cache", str(cache)),
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=KILL_TIMEOUT,
        check=False,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    # 66 pairs in all; the four tiles kept, blocks 0-0, 0-1, 0-2 and 0-3, held 3 + 3 x 9.
    assert sum(map(int, count.read_text().split())) == 66 - 30
    assert not [path for path in (cache / "tiles").rglob("*") if path.is_file()]
    fresh = subprocess.run(
        command(tmp_path / "fresh.json"),
        env=environment, cwd=ROOT, capture_output=True, text=True, timeout=KILL_TIMEOUT,
        check=False,
    )  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert (tmp_path / "rerun.json").read_text() == (tmp_path / "fresh.json").read_text()


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


def test_a_dask_cluster_gives_the_local_results(collection, tmp_path, monkeypatch):
    options = {"top": 3, "min_ssim": 0.3, "size": SIZE, "block_size": 4}
    local = neighbours(collection, **options)
    with dask_cluster(tmp_path / "cluster", workers=2) as scheduler_file:
        with dask_client(scheduler_file, workers=2) as client:
            # Relative paths: the workers' current folder is not this one.
            monkeypatch.chdir(collection[0].parent)
            relative = [path.name for path in collection]
            distributed = neighbours(relative, client=client, cache=tmp_path / "cache", **options)
            monkeypatch.undo()
            with pytest.raises(ValueError, match="must be a path that the workers can read"):
                neighbours([("array", np.zeros((8, 8), np.uint8))] * 2, client=client)
        address = json.loads(Path(scheduler_file).read_text())["address"]
        cli = run_cli(
            "neighbours",
            *collection,
            "--size",
            "32",
            "--top",
            "3",
            "--scheduler",
            address,
            "--format",
            "json",
        )
    # The same tiles scored the same way: identical, not merely close.
    assert distributed.names == local.names
    assert np.array_equal(distributed.index, local.index)
    assert np.array_equal(distributed.ssim, local.ssim)
    assert np.array_equal(distributed.mse, local.mse)
    assert np.array_equal(distributed.pairs.ssim, local.pairs.ssim)
    assert distributed.groups == local.groups
    assert cli.returncode == 0, cli.stderr
    here = strict_json(
        run_cli("neighbours", *collection, "--size", "32", "--top", "3", "--format", "json").stdout
    )
    assert strict_json(cli.stdout) == here


def test_a_cluster_that_cannot_import_imgsim_is_named_before_any_task(collection, tmp_path):
    # Without this check every task fails with Dask's bare "Error during
    # deserialization of the task graph" and a traceback.
    with dask_cluster(tmp_path / "cluster", workers=1, imgsim_importable=False) as scheduler_file:
        with dask_client(scheduler_file, workers=1) as client:
            (worker,) = client.scheduler_info()["workers"]
            address = client.scheduler.address
        done = run_cli("neighbours", *collection[:3], "--size", "32", "--scheduler", address)
    assert done.returncode == 1
    assert done.stderr == (
        f"imgsim: imgsim cannot be imported on the Dask scheduler ({address}) and the Dask "
        f"worker {worker}, which run its tasks; install it there (pip install . in a checkout "
        "of imgsim) or start them with the checkout on PYTHONPATH, then run again\n"
    )


def test_cli_refuses_pairs_over_the_limit(collection):
    over = run_cli_with(
        {"IMGSIM_MAX_PAIRS": "2"}, "neighbours", *collection[:4], "--size", "32", "--min-ssim", "-1"
    )
    assert over.returncode == 2 and "IMGSIM_MAX_PAIRS" in over.stderr


@pytest.mark.parametrize("address", ["nonsense", "tcp://127.0.0.1:99999", "tcp://:8786", "a:0"])
@pytest.mark.parametrize("source", ["--scheduler", "$DASK_SCHEDULER_ADDRESS"])
def test_a_malformed_scheduler_address_is_a_usage_error_naming_its_source(address, source):
    # The images do not exist: a usage error is found before any of them is read.
    args = ["neighbours", "missing-a.png", "missing-b.png"]
    if source == "--scheduler":
        done = run_cli_with({}, *args, "--scheduler", address)
    else:
        done = run_cli_with({"DASK_SCHEDULER_ADDRESS": address}, *args)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: ")
    assert done.stderr.splitlines()[-1].endswith(
        f"error: {source}: expected a Dask scheduler address such as tcp://10.0.0.5:8786 "
        f"(host and a port from 1 to 65535), got {address!r}"
    )


@pytest.mark.parametrize("source", ["--scheduler", "$DASK_SCHEDULER_ADDRESS"])
def test_an_unreachable_scheduler_is_named_with_where_its_address_came_from(collection, source):
    # A port nothing listens on (the system's own ephemeral range is avoided): refused at
    # once, where Dask alone would retry for its whole timeout and then say "Timed out".
    address = "tcp://127.0.0.1:9"
    args = ["neighbours", *map(str, collection[:4]), "--size", "32"]
    if source == "--scheduler":
        done = run_cli_with({}, *args, "--scheduler", address)
    else:
        done = run_cli_with({"DASK_SCHEDULER_ADDRESS": address}, *args)
    assert done.returncode == 1
    assert done.stderr == (
        f"imgsim: the Dask scheduler at {address} (from {source}) could not be reached "
        f"(Connection refused); start it (dask scheduler) or correct {source}\n"
    )


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


def test_ctrl_c_keeps_the_finished_tiles_and_a_rerun_resumes_from_them(tmp_path):
    folder, cache = tmp_path / "images", tmp_path / "cache"
    write_collection(folder, 8)
    options = ["--size", "32", "--top", "3", "--min-ssim", "0.3", "--format", "json"]
    code, written = run_interrupted(
        "neighbours", folder, *options, "--cache", cache, stop_at="compared"
    )
    assert "Traceback" not in written
    assert screen_text(written) == [
        f"imgsim: interrupted; the images prepared and the tiles scored so far are kept in "
        f"{cache}, and the same command run again resumes from them"
    ]
    assert code == 130
    assert [path for path in (cache / "tiles").rglob("*") if path.is_file()]
    rerun = run_cli("neighbours", folder, *options, "--cache", cache)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout == run_cli("neighbours", folder, *options).stdout
