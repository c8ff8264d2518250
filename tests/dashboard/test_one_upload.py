"""One uploaded image: the views that need no pair stay reachable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers.images import encode

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TWO_IMAGES = "Upload at least two images to compare them."


@pytest.fixture
def one_upload(tmp_path, monkeypatch) -> AppTest:
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for index in range(3):
        pixels = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        (folder / f"p{index}.png").write_bytes(encode(pixels, "PNG"))
    monkeypatch.setenv("IMGSIM_COLLECTION", f"photos={folder}")
    monkeypatch.setenv("IMGSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120).run()
    image = encode(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8), "PNG")
    at.sidebar.file_uploader[0].set_value([("only.png", image, "image/png")]).run()
    assert not at.exception
    return at


def view_switch(at: AppTest):
    return at.get("button_group")[0]


def test_one_upload_keeps_the_view_switch_and_asks_for_a_second_image(one_upload):
    assert "Collection" in view_switch(one_upload).options
    assert TWO_IMAGES in [warning.value for warning in one_upload.warning]


def test_one_upload_still_opens_the_collection_view(one_upload):
    at = view_switch(one_upload).set_value("Collection").run()
    assert not at.exception
    assert TWO_IMAGES not in [warning.value for warning in at.warning]
    assert any("photos" in block.value for block in at.markdown) or any(
        "photos" in header.value for header in at.subheader
    )
