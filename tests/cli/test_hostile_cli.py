"""Hostile and awkward files on the command line: one line per bad file, the rest compared."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT
from tests.helpers.cli import strict_json
from tests.helpers.corpus import build


@pytest.fixture(scope="module")
def corpus():
    return build()


def refused(entries):
    return [entry for entry in entries if entry.refused]


def test_the_cli_reports_one_line_per_bad_file_and_compares_the_rest(corpus, tmp_path):
    entries, _ = corpus
    paths = []
    for entry in entries:
        path = tmp_path / entry.name
        path.write_bytes(entry.data)
        paths.append(str(path))
    completed = subprocess.run(
        [sys.executable, "-m", "imgsim", "compare", *paths, "--format", "json"],
        capture_output=True,
        check=False,
        cwd=ROOT,
        encoding="utf-8",
        timeout=300,
    )
    assert completed.returncode == 0
    assert "Traceback" not in completed.stderr
    output = strict_json(completed.stdout)
    bad = refused(entries)
    assert [error["name"] for error in output["errors"]] == [entry.name for entry in bad]
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == len(bad)
    for line, entry in zip(lines, bad, strict=True):
        assert line.startswith(f"imgsim: {entry.name}: ") and entry.refused in line
    assert "čaj-日本-фото.png" in [image["name"] for image in output["images"]]


def test_a_folder_notes_files_without_an_image_extension(corpus, tmp_path):
    entries, _ = corpus
    for entry in entries[:10]:
        (tmp_path / entry.name).write_bytes(entry.data)
    completed = subprocess.run(
        [sys.executable, "-m", "imgsim", "compare", str(tmp_path), "--format", "json"],
        capture_output=True,
        check=False,
        cwd=ROOT,
        encoding="utf-8",
        timeout=120,
    )
    assert "skipped 1 file(s) without an image extension: drawing.svg" in completed.stderr
    assert json.loads(completed.stdout)["errors"]
