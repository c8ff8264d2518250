"""A collection's folder: named in the environment, listed, read and thumbnailed,
never outside itself (the Collection view's files, without the page)."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from imgsim.collection._source import (
    Collection,
    CollectionPathError,
    list_images,
    parse_collections,
    read_image_bytes,
    resolve,
    thumbnail_png,
)
from imgsim.images._files import LINK_OUTSIDE, NOT_AN_IMAGE
from tests.helpers.images import encode


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{a}", [("a", "a")]),
        ("cats={a}", [("cats", "a")]),
        ("cats={a}{sep}dogs={b}", [("cats", "a"), ("dogs", "b")]),
        ("{sep} cats = {a} {sep}", [("cats", "a")]),
    ],
)
def test_collections_are_read_from_paths_or_names_separated_by_pathsep(tmp_path, text, expected):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    found = parse_collections(text.format(a=tmp_path / "a", b=tmp_path / "b", sep=os.pathsep))
    assert [(c.name, c.root) for c in found] == [(n, tmp_path / f) for n, f in expected]


@pytest.mark.parametrize(
    "text, message",
    [
        ("{missing}", "is not a folder"),
        ("x={a}{sep}x={b}", "given twice"),
        ("x=", "names no folder"),
    ],
)
def test_bad_collection_settings_are_refused_with_the_reason(tmp_path, text, message):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    values = {"a": tmp_path / "a", "b": tmp_path / "b", "missing": tmp_path / "none"}
    with pytest.raises(ValueError, match=message):
        parse_collections(text.format(sep=os.pathsep, **values))


@pytest.fixture
def fenced(tmp_path) -> Collection:
    """A collection with links that leave it (to a file and to a folder) and one that
    stays inside; a secret image sits outside."""
    root, outside = tmp_path / "inside", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    image = encode(np.full((16, 16, 3), 128, np.uint8), "PNG")
    (root / "sub" / "ok.png").write_bytes(image)
    (outside / "secret.png").write_bytes(image)
    (root / "to-secret.png").symlink_to(outside / "secret.png")
    (root / "to-outside").symlink_to(outside, target_is_directory=True)
    (root / "to-ok.png").symlink_to(root / "sub" / "ok.png")
    return parse_collections(str(root))[0]


@pytest.mark.parametrize(
    "name",
    [
        "../outside/secret.png",
        "sub/../../outside/secret.png",
        "to-secret.png",
        "to-outside/secret.png",
        "/etc/passwd",
        "",
        "sub",
        "missing.png",
    ],
)
def test_a_name_cannot_make_the_server_read_outside_the_collection(fenced, tmp_path, name):
    with pytest.raises(CollectionPathError):
        resolve(fenced, name)
    with pytest.raises(CollectionPathError):
        read_image_bytes(fenced, name)
    with pytest.raises(CollectionPathError):
        thumbnail_png(fenced, name, tmp_path / "cache")


def test_listing_leaves_out_links_that_leave_the_collection(fenced):
    listing = list_images(fenced)
    assert listing.names == ("sub/ok.png", "to-ok.png")
    assert listing.skipped == (("to-outside", LINK_OUTSIDE), ("to-secret.png", LINK_OUTSIDE))
    assert read_image_bytes(fenced, "to-ok.png") == (fenced.root / "sub" / "ok.png").read_bytes()


def test_files_without_an_image_extension_are_listed_as_left_out(tmp_path):
    root = tmp_path / "folder"
    root.mkdir()
    (root / "a.png").write_bytes(encode(np.full((8, 8, 3), 9, np.uint8), "PNG"))
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden.txt").write_text("hidden: left out silently, as documented")
    listing = list_images(parse_collections(str(root))[0])
    assert listing.names == ("a.png",)
    assert listing.skipped == (("notes.txt", NOT_AN_IMAGE),)


@pytest.mark.parametrize("shape", [(20, 60), (60, 20), (30, 30)])
def test_thumbnails_are_square_whatever_the_image_shape(tmp_path, shape):
    root = tmp_path / "folder"
    root.mkdir()
    (root / "a.png").write_bytes(encode(np.full((*shape, 3), 200, np.uint8), "PNG"))
    png = thumbnail_png(parse_collections(str(root))[0], "a.png", tmp_path / "cache", 40)
    assert Image.open(io.BytesIO(png)).size == (40, 40)
