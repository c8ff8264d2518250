"""Driving the page with Streamlit's AppTest: a new session, uploads, and what it drew."""

from __future__ import annotations

import base64
import json

import numpy as np
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.helpers import APP

TIMEOUT = 120  # s; a bound for a hung script run, not a speed requirement


def new_session(
    params: dict[str, str] | None = None, *, fresh: bool = True, timeout: float = TIMEOUT
) -> AppTest:
    """A new session of the page (not yet run), opened from a link with ``params``.

    ``fresh`` forgets every ``st.cache_data`` entry first, for tests that count
    what the page computes; a test that only looks at what is drawn may reuse
    what earlier sessions computed, as a second visitor of a server does.
    """
    if fresh:
        st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if params:
        at.query_params.update(params)
    return at


def opened_with(params: dict[str, str], *, fresh: bool = False) -> AppTest:
    """A new session opened from a link with these query parameters, run once."""
    return new_session(params, fresh=fresh).run()


def upload(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    at.sidebar.file_uploader[0].set_value([(name, data, "image/png") for name, data in files])
    return at.run()


def heatmap(at: AppTest) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)["data"][0]


def heatmap_markers(at: AppTest) -> dict:
    """The heatmap's invisible markers, which carry each cell's hover."""
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)["data"][1]


def heatmap_values(at: AppTest) -> np.ndarray:
    """The heatmap's z matrix (the page's only chart)."""
    (chart,) = at.get("plotly_chart")
    return chart_values(chart)


def chart_values(chart) -> np.ndarray:
    """A Plotly heatmap's z matrix, whether Plotly sent it as a list or typed array."""
    z = json.loads(chart.proto.spec)["data"][0]["z"]
    if isinstance(z, dict):
        shape = tuple(int(side) for side in z["shape"].split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.array(z, dtype=float)
