"""`python -m imgsim neighbours` as a user runs it: formats, errors, kills, Ctrl-C.

Each test runs the command in a new process (marked e2e); the library's
`imgsim.neighbours` is tested in tests/unit/collection/test_neighbours.py.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import imgsim

# The Ctrl-C driver of the CLI tests, shared.
from tests.cli.test_cli import run_interrupted, screen_text
from tests.helpers import ROOT
from tests.helpers.cli import run_cli, strict_json
from tests.helpers.noisy_photos import collection_with_a_copy, write_collection

SIZE = (32, 32)


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> list[Path]:
    """13 noisy photos and an exact copy of the first."""
    return collection_with_a_copy(tmp_path_factory.mktemp("collection"))


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
            "flags": [],
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
    for images in (document["images"], document["references"]):
        assert all(
            set(image) == {"name", "width", "height", "upsampled", "smooth"} for image in images
        )
    for entry in document["neighbours"]:
        assert len(entry["matches"]) == 2
        for match in entry["matches"]:
            assert set(match) == {"name", "ssim", "mse", "psnr", "flags"}
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
        "grouping",
        "groups",
        "provenance",
    ]
    assert within["grouping"] == "chained"  # not classify's complete-linkage clusters


def test_csv_and_parquet_have_one_row_per_query_rank_and_match(collection, tmp_path):
    inputs = collection[-3:]  # ends with the exact copy of img-000, so one PSNR is infinite
    inputs = [collection[0], *inputs]
    parquet = tmp_path / "out.parquet"
    done = run_cli("neighbours", *inputs, "--size", "32", "--format", "parquet", "-o", parquet)
    assert done.returncode == 0, done.stderr
    table = pq.read_table(parquet)
    assert table.column_names == ["query", "rank", "match", "ssim", "mse", "psnr", "flags"]
    assert [str(field.type) for field in table.schema] == [
        "string",
        "int32",
        "string",
        "double",
        "double",
        "double",
        "string",
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
    assert csv_lines.splitlines()[0] == "query,rank,match,ssim,mse,psnr,flags"
    assert len(csv_lines.splitlines()) == 1 + 4 * 3
    assert csv_lines.splitlines()[1].endswith(",0.0,inf,")  # no flags
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
    for row in (*pairs, *members):  # one cell, the flags joined by ";"
        row["flags"] = row["flags"].split(";") if row["flags"] else []
    assert pairs == document["pairs"]
    groups = [
        {
            "names": [m["name"] for m in members if m["group"] == number],
            "min_ssim": ms,
            "exact": ex,
            "flags": flags.split(";") if flags else [],
        }
        for number, ms, ex, flags in dict.fromkeys(
            (m["group"], m["min_ssim"], m["exact"], ";".join(m["flags"])) for m in members
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


def test_cli_refuses_pairs_over_the_limit(collection):
    over = run_cli(
        "neighbours",
        *collection[:4],
        "--size",
        "32",
        "--min-ssim",
        "-1",
        env={"IMGSIM_MAX_PAIRS": "2"},
    )
    assert over.returncode == 2 and "IMGSIM_MAX_PAIRS" in over.stderr


@pytest.mark.parametrize("address", ["nonsense", "tcp://127.0.0.1:99999", "tcp://:8786", "a:0"])
@pytest.mark.parametrize("source", ["--scheduler", "$DASK_SCHEDULER_ADDRESS"])
def test_a_malformed_scheduler_address_is_a_usage_error_naming_its_source(address, source):
    # The images do not exist: a usage error is found before any of them is read.
    args = ["neighbours", "missing-a.png", "missing-b.png"]
    if source == "--scheduler":
        done = run_cli(*args, "--scheduler", address)
    else:
        done = run_cli(*args, env={"DASK_SCHEDULER_ADDRESS": address})
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
        done = run_cli(*args, "--scheduler", address)
    else:
        done = run_cli(*args, env={"DASK_SCHEDULER_ADDRESS": address})
    assert done.returncode == 1
    assert done.stderr == (
        f"imgsim: the Dask scheduler at {address} (from {source}) could not be reached "
        f"(Connection refused); start it (dask scheduler) or correct {source}\n"
    )


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
