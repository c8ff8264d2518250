"""Information flags in collections: each image's, each match's and each group's.

The flags are the analyses' (`imgsim.analyses.image_flags`, `pair_flags`,
`group_flags`); here they are checked against those functions applied
independently to the prepared images, and through the cache.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import imgsim.collection._tiles as tiles_module
from imgsim import Settings
from imgsim.analyses import group_flags, image_flags, pair_flags
from imgsim.collection import FLOOR_SSIM, groups_at, matches_of, neighbours
from tests.helpers.flagged import SIDE, independent_flags, write_flagged

SIZE = (SIDE, SIDE)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> list[Path]:
    return write_flagged(tmp_path_factory.mktemp("flags"))


@pytest.mark.parametrize("against", [False, True])
def test_image_and_match_flags_equal_those_of_the_prepared_images(mixed, against):
    settings = Settings(size=SIZE)
    queries, references = (mixed[:3], mixed[3:]) if against else (mixed, None)
    result = neighbours(queries, against=references, top=3, settings=settings)
    expected = independent_flags(queries, settings)
    expected_matches = expected if references is None else independent_flags(references, settings)
    assert list(result.image_flags) == expected
    assert list(result.match_flags) == expected_matches
    for query in range(len(result.names)):
        for match in result.index[query]:
            assert result.flags(query, match) == pair_flags(
                expected[query], expected_matches[match]
            )


def test_every_flag_of_the_vocabulary_can_be_raised_in_a_collection(mixed):
    result = neighbours(mixed, top=len(mixed) - 1, size=SIZE)
    raised = {
        flag
        for query in range(len(result.names))
        for match in result.index[query]
        for flag in result.flags(query, match)
    }
    assert raised == {"tiny", "upsampled", "smooth", "size-mismatch"}


def test_a_group_of_smooth_images_is_labelled_smooth_and_a_photo_group_is_not(mixed):
    result = neighbours(mixed[:5], min_ssim=0.9, size=SIZE)
    names = result.names
    by_members = {tuple(names[i] for i in group.members): group for group in result.groups}
    smooth = by_members[("smooth-0.png", "smooth-1.png", "smooth-2.png")]
    photos = by_members[("photo-0.png", "photo-1.png")]
    assert smooth.flags == ("smooth",)
    assert photos.flags == ()
    for group in result.groups:
        assert group.flags == group_flags([result.image_flags[i] for i in group.members])


def test_groups_drawn_again_at_another_threshold_keep_their_labels(mixed):
    result = neighbours(mixed[:5], min_ssim=FLOOR_SSIM, size=SIZE)
    for threshold in (0.9, 0.95):
        again = neighbours(mixed[:5], min_ssim=threshold, size=SIZE)
        assert groups_at(result, threshold) == again.groups


def test_a_matchs_flags_are_the_pairs(mixed):
    result = neighbours(mixed, top=3, size=SIZE)
    for row, name in enumerate(result.names):
        found = matches_of(result, name)
        expected = [result.flags(row, match) for match in result.index[row] if match >= 0]
        assert [match.flags for match in found] == expected


def prepared_files(cache: Path) -> list[Path]:
    return sorted((cache / "prepared").rglob("*.npz"))


def test_flags_kept_in_the_cache_are_read_back_on_a_rescan(mixed, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = neighbours(mixed, top=2, size=SIZE, cache=cache)

    def not_again(*args, **kwargs):
        raise AssertionError("the flags of a cached image were computed again")

    monkeypatch.setattr(tiles_module, "image_flags", not_again)
    again = neighbours(mixed, top=2, size=SIZE, cache=cache)
    assert again.image_flags == first.image_flags
    assert again.pairs_computed == 0


def rewrite_info(path: Path, change) -> None:
    """Rewrite a prepared file's info as ``change`` makes it (the pixels kept)."""
    with np.load(path) as stored:
        image, info = stored["image"], json.loads(bytes(stored["info"]).decode())
    text = json.dumps(change(info)).encode()
    np.savez(path, image=image, info=np.frombuffer(text, dtype=np.uint8))


def before_the_flags(info: dict) -> dict:
    """A prepared file's info as imgsim wrote it before the flags (format 1)."""
    return {key: info[key] for key in ("width", "height", "log")}


@pytest.mark.parametrize(
    "change",
    [
        before_the_flags,
        lambda info: {**info, "smooth": "0.9"},
        lambda info: {**info, "tiny": 0},
        lambda info: {key: value for key, value in info.items() if key != "upsampled"},
        lambda info: {**info, "format": 3},
    ],
    ids=["format-1", "smooth-text", "tiny-number", "upsampled-missing", "newer-format"],
)
def test_prepared_files_of_another_format_or_damaged_are_prepared_again(
    mixed, tmp_path, monkeypatch, change
):
    cache = tmp_path / "cache"
    first = neighbours(mixed, top=2, size=SIZE, cache=cache)
    for path in prepared_files(cache):
        rewrite_info(path, change)
    calls = []
    monkeypatch.setattr(
        tiles_module, "image_flags", lambda *args: calls.append(1) or image_flags(*args)
    )
    again = neighbours(mixed, top=2, size=SIZE, cache=cache)
    assert len(calls) == len(mixed)  # every image prepared again, none misread
    assert again.image_flags == first.image_flags
    # The scores did not change with the format: the results are reused.
    assert again.pairs_computed == 0
    for path in prepared_files(cache):  # rewritten with the flags
        with np.load(path) as stored:
            assert json.loads(bytes(stored["info"]).decode())["format"] == 2
