"""Hostile and awkward files: each is compared correctly or refused with a reason.

Through `imgsim.compare` here; through the CLI in tests/cli/test_hostile_cli.py,
the page in tests/dashboard/test_hostile_page.py, and a process's memory in
tests/e2e/test_bomb_process.py. No traceback ever escapes.
"""

from __future__ import annotations

import PIL.Image
import PIL.ImageFile
import pytest

import imgsim
from tests.helpers.corpus import build
from tests.helpers.images import png_header_only


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
