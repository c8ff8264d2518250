"""Limits on the page: a request over them is explained, naming the variable."""

from __future__ import annotations

import streamlit as st

from tests.dashboard.pages import new_session, upload
from tests.helpers.images import encode


def test_the_page_explains_a_request_over_the_limits(monkeypatch, chelsea, coffee, astronaut):
    monkeypatch.setenv("IMGSIM_MAX_IMAGES", "2")
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = new_session()
        at.run()
        assert not at.exception  # the samples (six images) are over it too
        assert "more than the limit of 2" in at.error[0].value
        files = [
            (f"{n}.png", encode(a, "PNG"))
            for n, a in (("a", chelsea), ("b", coffee), ("c", astronaut))
        ]
        upload(at, files)
        assert "IMGSIM_MAX_IMAGES" in at.error[0].value
        assert not at.get("plotly_chart")
    finally:
        st.cache_resource.clear()
