"""The Collection and Classify views show the information flags: a group of
smooth images is labelled so, and each match or neighbour says its pair's flags."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import streamlit as st

from imgsim.analyses import FLAGS
from imgsim.collection import groups_at
from imgsim.dashboard import collection_view
from tests.dashboard.pages import new_session, upload
from tests.dashboard.test_collection_page import (
    SIZE,
    group_headers,
    image_captions,
    open_view,
    shared_index,
)
from tests.helpers.flagged import SIDE, flagged_images, smooth_copy, write_flagged
from tests.helpers.images import encode

assert SIZE == SIDE  # the collection page's helpers open the view at this size


@pytest.fixture
def served(tmp_path, monkeypatch) -> Path:
    """The flagged images as the server's collection, with a fresh cache."""
    folder = tmp_path / "flagged"
    write_flagged(folder)
    monkeypatch.setenv("IMGSIM_COLLECTION", f"flagged={folder}")
    monkeypatch.setenv("IMGSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    return folder


def legends(at) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("The scores are exact")]


def test_a_group_of_smooth_images_is_labelled_smooth_group(served):
    at = open_view()
    headers = group_headers(at)
    assert len(headers) == 2  # the smooth copies, the photo copies (at 0.9)
    smooth, photos = headers
    assert smooth.startswith("**Group 1**: 3 images") and smooth.endswith(
        " :orange-badge[smooth group]"
    )
    assert "badge" not in photos
    (legend,) = legends(at)
    assert f"**smooth**: {FLAGS['smooth']}" in legend and "upsampled" not in legend
    result = shared_index().status.result
    rows = csv.DictReader(
        io.StringIO(collection_view.groups_csv(groups_at(result, 0.9), result.names))
    )
    flags = {row["name"]: row["flags"] for row in rows}  # the download names them too
    assert flags == {
        **dict.fromkeys(["smooth-0.png", "smooth-1.png", "smooth-2.png"], "smooth"),
        **dict.fromkeys(["photo-0.png", "photo-1.png"], ""),
    }


def test_a_matchs_caption_ends_with_its_pairs_flags(served):
    at = open_view()
    at.segmented_control(key=collection_view.SOURCE_KEY).set_value("An image of the collection")
    at.run()
    at.selectbox(key=collection_view.PICK_KEY).set_value("smooth-0.png").run()
    assert not at.exception
    scores = [c.value for c in at.caption if c.value.startswith("SSIM ")]
    names = image_captions(at)[-len(scores) :]
    by_name = dict(zip(names, scores, strict=True))
    for other in ("smooth-1.png", "smooth-2.png"):
        assert by_name[other].endswith(" dB · ⚠ smooth")
    assert by_name["tiny.png"].endswith(" dB · ⚠ tiny, upsampled")
    assert any(f"**tiny**: {FLAGS['tiny']}" in legend for legend in legends(at))


def test_the_classify_view_shows_the_flags_of_the_neighbours_that_decide():
    files = [(name, encode(image, "PNG")) for name, image in flagged_images().items()]
    files.append(("query-1.png", encode(smooth_copy(np.random.default_rng(9), 104), "PNG")))
    at = new_session({"w": str(SIDE), "h": str(SIDE)}).run()
    upload(at, files)
    at.button_group(key="view").set_value("Classify").run()
    assert not at.exception
    captions = image_captions(at)
    # The query's three best matches: the smooth copies, each a smooth pair.
    matches = [caption for caption in captions if caption.startswith("smooth-")]
    assert len([c for c in matches if c.endswith(" · ⚠ smooth")]) >= 2
    table = next(frame.value for frame in at.dataframe if "nearest name" in frame.value.columns)
    nearest = dict(zip(table["name"], table["nearest name"], strict=True))
    assert nearest["query-1.png"].endswith(" · ⚠ smooth")
    assert nearest["photo-0.png"] == "photo-1.png"  # a photo pair: no flag
    assert nearest["tiny.png"].endswith(" · ⚠ tiny, upsampled")
    groups = [md.value for md in at.markdown if md.value.startswith("**Group ")]
    assert any(header.endswith(":orange-badge[smooth group]") for header in groups)
    assert any(f"**smooth**: {FLAGS['smooth']}" in legend for legend in legends(at))
