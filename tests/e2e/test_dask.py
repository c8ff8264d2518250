"""A real Dask cluster on 127.0.0.1: collections scored there equal those scored here.

The cluster (a scheduler and two worker processes) is the session's
(`dask_scheduler` in conftest.py); the one without imgsim is this module's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import imgsim
from imgsim.collection._index import CollectionIndex, groups_at
from imgsim.collection._search import neighbours
from imgsim.collection._source import parse_collections
from tests.e2e.dask_cluster import dask_client, dask_cluster
from tests.helpers.cli import run_cli, strict_json
from tests.helpers.collection_corpus import make_collection
from tests.helpers.noisy_photos import collection_with_a_copy

pytestmark = pytest.mark.e2e

SIZE = (32, 32)
TIMEOUT = 120  # s; a bound for a hung index, not a speed requirement


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> list[Path]:
    """13 noisy photos and an exact copy of the first."""
    return collection_with_a_copy(tmp_path_factory.mktemp("collection"))


@pytest.fixture
def client(dask_scheduler):
    """A client of the session's cluster, for one test."""
    with dask_client(dask_scheduler, workers=2) as client:
        yield client


def test_a_dask_cluster_gives_the_local_results(
    collection, dask_scheduler, client, tmp_path, monkeypatch
):
    options = {"top": 3, "min_ssim": 0.3, "size": SIZE, "block_size": 4}
    local = neighbours(collection, **options)
    # Relative paths: the workers' current folder is not this one.
    monkeypatch.chdir(collection[0].parent)
    relative = [path.name for path in collection]
    distributed = neighbours(relative, client=client, cache=tmp_path / "cache", **options)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="must be a path that the workers can read"):
        neighbours([("array", np.zeros((8, 8), np.uint8))] * 2, client=client)
    address = json.loads(Path(dask_scheduler).read_text())["address"]
    cli = run_cli(
        "neighbours", *collection, "--size", "32", "--top", "3", "--scheduler", address,
        "--format", "json",
    )  # fmt: skip
    # The same tiles scored the same way: identical, not merely close.
    assert distributed.names == local.names
    assert np.array_equal(distributed.index, local.index)
    assert np.array_equal(distributed.ssim, local.ssim)
    assert np.array_equal(distributed.mse, local.mse)
    assert np.array_equal(distributed.pairs.ssim, local.pairs.ssim)
    assert distributed.groups == local.groups
    assert distributed.image_flags == local.image_flags  # made on the workers, sent back
    assert cli.returncode == 0, cli.stderr
    here = strict_json(
        run_cli("neighbours", *collection, "--size", "32", "--top", "3", "--format", "json").stdout
    )
    assert strict_json(cli.stdout) == here


def test_with_a_dask_scheduler_the_index_runs_there(client, tmp_path, monkeypatch):
    from distributed import get_task_stream

    folder = tmp_path / "photos"
    make_collection(folder, singles=12, group_sizes=(4, 3, 3, *(2,) * 10))
    collection = parse_collections(str(folder))[0]
    settings = imgsim.Settings(size=(64, 64))
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    local = CollectionIndex(collection, settings, tmp_path / "local")
    local.start()
    expected = local.wait(TIMEOUT).result
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", client.scheduler.address)
    remote = CollectionIndex(collection, settings, tmp_path / "remote")
    with get_task_stream(client) as stream:
        remote.start()
        status = remote.wait(TIMEOUT)
    assert status.state == "done", status.error
    ran = {
        task["key"][0] if isinstance(task["key"], tuple) else task["key"] for task in stream.data
    }
    assert any("score_tile" in str(key) for key in ran)
    result = status.result
    assert result.names == expected.names
    np.testing.assert_array_equal(result.index, expected.index)
    np.testing.assert_allclose(result.ssim, expected.ssim, rtol=0, atol=1e-12)
    assert groups_at(result, 0.9) == groups_at(expected, 0.9)


@pytest.fixture(scope="module")
def cluster_without_imgsim(tmp_path_factory):
    """A scheduler and one worker started without this checkout on PYTHONPATH."""
    folder = tmp_path_factory.mktemp("dask-without-imgsim")
    with dask_cluster(folder, workers=1, imgsim_importable=False) as scheduler_file:
        with dask_client(scheduler_file, workers=1) as client:
            (worker,) = client.scheduler_info()["workers"]
            address = client.scheduler.address
        yield address, worker


def test_a_cluster_that_cannot_import_imgsim_is_named_before_any_task(
    collection, cluster_without_imgsim
):
    # Without this check every task fails with Dask's bare "Error during
    # deserialization of the task graph" and a traceback.
    address, worker = cluster_without_imgsim
    done = run_cli("neighbours", *collection[:3], "--size", "32", "--scheduler", address)
    assert done.returncode == 1
    assert done.stderr == (
        f"imgsim: imgsim cannot be imported on the Dask scheduler ({address}) and the Dask "
        f"worker {worker}, which run its tasks; install it there (pip install . in a checkout "
        "of imgsim) or start them with the checkout on PYTHONPATH, then run again\n"
    )
