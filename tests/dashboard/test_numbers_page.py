"""How the Compare view writes its numbers: MSE to significant digits, ∞ for identical pairs."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit import dataframe_util

from tests.dashboard.pages import heatmap, opened_with, upload
from tests.helpers.images import encode

SIDE = 64  # compared at the images' own size: no resize changes the differences


@pytest.fixture(scope="module")
def files() -> list[tuple[str, bytes]]:
    """A gray image, a copy, one differing by 1 in half its pixels and by 2 in a
    quarter (MSE (0.5 x 1 + 0.25 x 4) = 1.5), and one 40 brighter (MSE 1600)."""
    base = np.random.default_rng(7).integers(20, 200, (SIDE, SIDE), dtype=np.uint8)
    step = np.zeros(SIDE * SIDE, dtype=np.uint8)
    step[: SIDE * SIDE // 2] = 1
    step[SIDE * SIDE // 2 : 3 * SIDE * SIDE // 4] = 2
    slightly = base + step.reshape(SIDE, SIDE)
    return [
        ("base.png", encode(base, "PNG")),
        ("copy.png", encode(base.copy(), "PNG")),
        ("slightly.png", encode(slightly, "PNG")),
        ("brighter.png", encode(base + 40, "PNG")),
    ]


@pytest.fixture(scope="module")
def compared(files):
    at = opened_with({"w": str(SIDE), "h": str(SIDE)})
    return upload(at, files)


def shown_table(at):
    """The pair table as drawn: each cell's text, where the page writes it itself."""
    (table,) = at.dataframe
    display = table.proto.arrow_data.styler.display_values
    return table.value, dataframe_util.convert_arrow_bytes_to_pandas_df(display)


def test_mse_cells_show_significant_digits(compared):
    compared.button_group(key="heatmap_metric").set_value("MSE").run()
    text = heatmap(compared)["text"]
    assert text[0][2] == "1.50"  # base ↔ slightly: not "2"
    assert text[0][3] == "1.60k"  # base ↔ brighter: 1600
    assert text[0][1] == "0"  # base ↔ copy


def test_the_table_shows_the_numbers_as_the_cells_do_with_a_digit_more(compared):
    values, display = shown_table(compared)
    display = display.set_index(["Image A", "Image B"])
    assert np.isinf(values["PSNR (dB)"]).sum() == 1  # the cell keeps its number: it sorts
    assert display.loc[("base.png", "copy.png"), "PSNR (dB)"] == "∞"  # not "Infinity"
    assert display.loc[("base.png", "slightly.png"), "MSE"] == "1.500"
    assert display.loc[("base.png", "brighter.png"), "MSE"] == "1.600k"
    assert display.loc[("base.png", "brighter.png"), "PSNR (dB)"] == "16.09"


def test_the_most_similar_pair_names_its_mse_as_the_table_does(compared):
    cards = [md.value for md in compared.markdown if "↔" in md.value]
    assert "**base.png** ↔ **copy.png**  \nMSE 0" in cards
