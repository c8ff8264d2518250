"""The Compare view shows the flags wherever it shows a score: table, hover, callouts, captions."""

from __future__ import annotations

import cv2
import pytest
from skimage import data

import imgsim
from imgsim.analyses import FLAGS
from tests.dashboard.pages import heatmap_markers, opened_with, upload
from tests.helpers.images import encode


def small(image, side):
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def files() -> list[tuple[str, bytes]]:
    """The issue's case: grass and moon at 25 px (upsampled 20x at 512) and the camera."""
    return [
        ("grass.png", encode(small(data.grass(), 25), "PNG")),
        ("moon.png", encode(small(data.moon(), 25), "PNG")),
        ("camera.png", encode(data.camera(), "PNG")),
    ]


@pytest.fixture(scope="module")
def compared(files):
    return upload(opened_with({}), files)


@pytest.fixture(scope="module")
def expected(files):
    result = imgsim.compare([(name, content) for name, content in files])
    return {frozenset((pair.a, pair.b)): pair.flags for pair in result.pairs()}


def test_pair_table_has_a_flags_column_with_each_pairs_flags(compared, expected):
    (table,) = compared.dataframe
    frame = table.value
    assert list(frame.columns)[-1] == "Flags"
    for _, row in frame.iterrows():
        assert row["Flags"] == ", ".join(expected[frozenset((row["Image A"], row["Image B"]))])
    assert (frame["Flags"] != "").any()


def test_heatmap_hover_names_the_flags_of_each_off_diagonal_cell(compared, expected):
    markers = heatmap_markers(compared)
    for x, y, hover in zip(markers["x"], markers["y"], markers["customdata"], strict=True):
        flags = expected.get(frozenset((x, y)), ())
        if x == y or not flags:
            assert "⚠" not in hover
        else:
            assert hover.endswith("⚠ " + ", ".join(flags))


def test_callouts_carry_the_flags_and_a_legend_explains_them(compared):
    texts = [block.value for block in compared.markdown]
    # The most similar pair is the two enlarged 25-px photos.
    assert any("grass.png" in text and "moon.png" in text and "upsampled" in text for text in texts)
    captions = " ".join(caption.value for caption in compared.caption)
    assert FLAGS["upsampled"] in captions


def test_thumbnail_captions_say_how_much_each_image_was_enlarged(compared):
    captions = [image.caption for element in compared.get("image") for image in element.proto.imgs]
    assert any(
        caption.startswith("grass.png") and "⚠ enlarged 20.5×" in caption for caption in captions
    )
    assert not any("camera.png" in caption and "enlarged" in caption for caption in captions)
