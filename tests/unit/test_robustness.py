"""Defects found while rebuilding the house, each held by a test that failed before its fix."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

import imgsim
from imgsim.collection import neighbours
from imgsim.outputs import library_versions, provenance
from tests.helpers.images import encode


def _images(folder, count=4, side=24):
    folder.mkdir()
    rng = np.random.default_rng(5)
    paths = []
    for index in range(count):
        path = folder / f"img-{index}.png"
        path.write_bytes(encode(rng.integers(0, 256, (side, side, 3), dtype=np.uint8), "PNG"))
        paths.append(path)
    return paths


@pytest.mark.parametrize(
    "info",
    [
        {"height": 24, "log": []},  # a key missing
        [24, 24],  # not an object
        {"width": "wide", "height": 24, "log": []},  # a value of the wrong kind
    ],
)
def test_a_damaged_cache_entry_is_recomputed_not_raised(tmp_path, info):
    paths = _images(tmp_path / "images")
    cache = tmp_path / "cache"
    first = neighbours(paths, size=(16, 16), cache=cache)
    entries = sorted((cache / "prepared").rglob("*.npz"))
    assert len(entries) == len(paths)
    damaged = entries[0]
    with np.load(damaged) as stored:
        image = stored["image"]
    text = np.frombuffer(json.dumps(info).encode(), dtype=np.uint8)
    np.savez(damaged, image=image, info=text)
    again = neighbours(paths, size=(16, 16), cache=cache)
    np.testing.assert_array_equal(again.index, first.index)
    np.testing.assert_array_equal(again.ssim, first.ssim)
    assert again.images == first.images
    with np.load(damaged) as stored:  # rewritten whole
        assert json.loads(bytes(stored["info"]).decode())["width"] == 24


def test_provenance_names_the_libraries_whose_code_computes_the_numbers():
    versions = library_versions()
    assert set(versions) == {"imgsim", "numpy", "numba", "opencv", "pillow", "scipy"}
    assert versions["imgsim"] == imgsim.__version__
    assert "scikit-image" not in provenance([])["versions"]


def test_16_bit_values_round_to_the_nearest_8_bit_level_as_the_docs_state():
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    decoded = imgsim.from_array(values).rgb[..., 0]
    expected = np.floor(values.astype(np.float64) * 255 / 65535 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(decoded, expected)
    # 8-bit data stored as 16-bit (v * 257) comes back exactly.
    levels = np.arange(256, dtype=np.uint16).reshape(16, 16)
    np.testing.assert_array_equal(imgsim.from_array(levels * 257).rgb[..., 0], levels)
    # scikit-image's img_as_ubyte truncates (v >> 8): the rule the docs state differs.
    truncated = (values >> 8).astype(np.uint8)
    differ = decoded != truncated
    assert differ.sum() == 16256
    assert np.abs(decoded.astype(int) - truncated).max() == 1


def test_a_failed_background_index_logs_its_traceback(tmp_path, monkeypatch, caplog):
    import imgsim.collection._index as index_module
    from imgsim.collection import CollectionIndex, parse_collections

    folder = tmp_path / "photos"
    _images(folder, count=3)

    def broken(*args, **kwargs):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(index_module, "neighbours", broken)
    collection = parse_collections(str(folder))[0]
    index = CollectionIndex(collection, imgsim.Settings(size=(16, 16)), tmp_path / "cache")
    with caplog.at_level(logging.ERROR, logger="imgsim.collection._index"):
        index.start()
        status = index.wait(60)
    assert status.state == "failed"
    assert status.error == "RuntimeError: the disk went away"
    [record] = [r for r in caplog.records if r.name == "imgsim.collection._index"]
    assert "photos" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "in broken" in caplog.text  # the traceback itself, not only the line


@pytest.mark.parametrize(("convention", "key"), [("skimage", "ssim"), ("ms-ssim", "ms_ssim")])
def test_scores_are_keyed_by_their_own_name_in_every_document(tmp_path, convention, key):
    from imgsim.outputs import (
        neighbours_to_csv,
        neighbours_to_dict,
        sweep_to_csv,
        sweep_to_dict,
        to_csv,
        to_dict,
    )

    paths = _images(tmp_path / "images", count=3, side=170)
    settings = imgsim.Settings(size=(170, 170), ssim_convention=convention)
    compared = imgsim.compare(paths, settings)
    assert set(to_dict(compared)["pairs"][0]) == {"a", "b", "mse", key, "psnr", "flags"}
    assert to_csv(compared).splitlines()[0] == f"a,b,{key},mse,psnr,flags"
    from imgsim.analyses import sweep

    swept = sweep(paths, [(170, 170)], settings)
    assert key in sweep_to_dict(swept)["pairs"][0]
    assert sweep_to_csv(swept).splitlines()[0] == f"a,b,width,height,{key},mse"
    found = neighbours(paths, top=1, min_ssim=0.0, settings=settings)
    document = neighbours_to_dict(found)
    assert f"min_{key}" in document["settings"]
    assert key in document["neighbours"][0]["matches"][0]
    assert key in document["pairs"][0] and f"min_{key}" in document["groups"][0]
    assert neighbours_to_csv(found).splitlines()[0] == f"query,rank,match,{key},mse,psnr,flags"
    other = "ssim" if key == "ms_ssim" else "ms_ssim"
    assert other not in to_dict(compared)["pairs"][0]


def test_a_damaged_collection_image_gets_a_read_error_for_its_thumbnail(tmp_path):
    from imgsim.collection import parse_collections, thumbnail_png
    from imgsim.images import ImageReadError

    folder = tmp_path / "photos"
    _images(folder, count=1)
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n damaged")
    collection = parse_collections(str(folder))[0]
    assert thumbnail_png(collection, "img-0.png", tmp_path / "cache").startswith(b"\x89PNG")
    with pytest.raises(ImageReadError, match=r"bad\.png"):
        thumbnail_png(collection, "bad.png", tmp_path / "cache")
