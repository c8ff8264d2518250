"""The sweep view follows a raised IMGSIM_MAX_SIDE, as the Compare view does."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def raised_side(monkeypatch):
    monkeypatch.setenv("IMGSIM_MAX_SIDE", "12000")
    monkeypatch.setenv("IMGSIM_MAX_WORK", str(10**9))  # 11000 px is then refused as work
    st.cache_resource.clear()  # the page reads its limits once per server
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def test_a_raised_side_limit_lets_the_sweep_take_a_larger_size(raised_side):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.button_group(key="view").set_value("Resize sweep").run()
    at.text_input(key="sweep_sizes").set_value("64, 11000").run()
    assert not at.exception
    messages = [block.value for block in (*at.error, *at.warning, *at.info)]
    assert not any("larger than" in text for text in messages), messages
    # 11000 px is far over the work limit for the sample: refused as work, not as a side.
    assert any("IMGSIM_MAX_WORK" in text or "work" in text for text in messages), messages
