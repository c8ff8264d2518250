"""Hostile and awkward files: each is compared correctly or refused with a reason.

Through `imgsim.compare`, the CLI and the page; no traceback ever escapes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import PIL.Image
import PIL.ImageFile
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import imgsim

from .corpus import build
from .test_app import APP, heatmap_values
from .test_cli import ROOT, strict_json
from .test_decode import png_header_only


@pytest.fixture(scope="module")
def corpus():
    return build()


def refused(entries):
    return [entry for entry in entries if entry.refused]


def test_compare_refuses_exactly_the_bad_files_and_compares_the_rest(corpus):
    entries, twins = corpus
    result = imgsim.compare([(entry.name, entry.data) for entry in entries])
    bad = refused(entries)
    assert [error.name for error in result.errors] == [entry.name for entry in bad]
    for error, entry in zip(result.errors, bad, strict=True):
        assert entry.refused in error.error, error
        assert "\n" not in error.error
    assert result.names == [entry.name for entry in entries if not entry.refused]
    for twin in twins:
        i, j = result.names.index(twin.first), result.names.index(twin.second)
        assert result.ssim[i, j] >= twin.ssim, f"{twin.first} vs {twin.second}"
    logs = {image.name: image.log for image in result.images}
    assert "first of 2 frames used" in logs["animated.gif"]
    assert logs["rotated-6.jpg"][0].startswith("EXIF orientation 6")
    sizes = {image.name: (image.width, image.height) for image in result.images}
    assert sizes["rotated-8.jpg"] == (451, 300)
    assert sizes["large-8000x6000.jpg"] == (8000, 6000)
    assert sizes["tiny.png"] == (1, 1)


def test_the_bomb_is_refused_without_loading_any_pixels(monkeypatch):
    """Refused from its header: any pixel load would fail this test.

    (tracemalloc cannot see Pillow's buffers, so it cannot tell.)
    """

    def no_pixels(*args, **kwargs):
        raise AssertionError("pixel data was loaded")

    monkeypatch.setattr(PIL.ImageFile.ImageFile, "load", no_pixels)
    monkeypatch.setattr(PIL.Image.Image, "load", no_pixels)
    bomb = png_header_only(50000, 50000)  # 2.5 gigapixels, 7.5 GB as RGB
    with pytest.raises(imgsim.ImageReadError, match="image is too large"):
        imgsim.decode(bomb, "bomb.png")


BOMB_PROCESS = """
import resource, sys
import imgsim
from tests.test_decode import png_header_only
bomb = png_header_only(50000, 50000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    imgsim.decode(bomb, "bomb.png")
except imgsim.ImageReadError as error:
    print(error, file=sys.stderr)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(after - before)
"""


def test_the_bomb_leaves_the_resident_memory_of_its_process_flat():
    """The peak RSS of a process that meets the bomb, which sees every allocation."""
    completed = subprocess.run(
        [sys.executable, "-c", BOMB_PROCESS],
        capture_output=True,
        check=True,
        cwd=ROOT,
        text=True,
        timeout=120,
    )
    assert "image is too large" in completed.stderr
    growth_kib = int(completed.stdout)  # ru_maxrss is in KiB on Linux
    assert growth_kib < 20 * 1024


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


def test_the_page_names_every_bad_file_and_compares_the_rest(corpus):
    entries, _ = corpus
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.sidebar.file_uploader[0].set_value(
        [(entry.name, entry.data, "application/octet-stream") for entry in entries]
    )
    at.run()
    assert not at.exception
    (message,) = at.error
    for entry in refused(entries):
        assert f"**{entry.name}**" in message.value
    good = len(entries) - len(refused(entries))
    assert heatmap_values(at).shape == (good, good)
