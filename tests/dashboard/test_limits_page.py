"""Limits on the page: a request over them is refused in one message, which offers
the largest size that fits and never tells a visitor to change the server."""

from __future__ import annotations

import pytest
import streamlit as st

from imgsim import Limits, Settings
from imgsim import data as samples
from imgsim.settings import work
from tests.dashboard.pages import new_session, opened_with, upload
from tests.helpers.images import encode


@pytest.fixture
def limited(monkeypatch):
    """Sets a limit in the page's environment (read once per server), then forgets it."""

    def set_limit(variable: str, value: int) -> None:
        monkeypatch.setenv(variable, str(value))
        st.cache_resource.clear()
        st.cache_data.clear()

    yield set_limit
    st.cache_resource.clear()


def page_texts(at) -> list[str]:
    """Every message, caption and button label the page drew."""
    elements = [*at.error, *at.warning, *at.info, *at.caption, *at.markdown]
    return [element.value for element in elements] + [button.label for button in at.button]


def test_too_many_images_are_refused_without_a_size_to_offer(limited, chelsea, coffee, astronaut):
    limited("IMGSIM_MAX_IMAGES", 2)
    at = new_session()
    at.run()
    assert not at.exception  # the samples (six images) are over it too
    assert "more than the limit of 2" in at.error[0].value
    files = [
        (f"{n}.png", encode(a, "PNG")) for n, a in (("a", chelsea), ("b", coffee), ("c", astronaut))
    ]
    upload(at, files)
    (error,) = at.error
    assert "3 images are more than the limit of 2" in error.value
    assert not any("IMGSIM" in text for text in page_texts(at))
    assert not any("largest size" in button.label for button in at.button)  # no size helps
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("view", ["Compare", "Classify"])
def test_a_refusal_is_one_message_offering_the_largest_size_that_fits(limited, view):
    fitting = Settings(size=(96, 96))
    limited("IMGSIM_MAX_WORK", work(2, fitting))  # the two images fit at 96×96, not above
    at = opened_with(
        {"sample": samples.SPOT_THE_DIFFERENCE, "view": view, "w": "4000", "h": "4000"}
    )
    assert not at.exception
    (error,) = at.error
    assert "Too much for one request" in error.value and "4000×4000" in error.value
    assert not at.warning
    assert not any("expected to take" in info.value for info in at.info)  # no estimate above
    assert not any("IMGSIM" in text for text in page_texts(at))
    assert not at.get("plotly_chart")
    offered = Limits(max_work=work(2, fitting)).largest_size(2, Settings(size=(4000, 4000)))
    assert offered == fitting.size
    (use,) = [button for button in at.button if "the largest size that fits" in button.label]
    assert use.label == "Use 96×96, the largest size that fits"
    use.click().run()
    assert not at.exception and not at.error
    assert (
        at.sidebar.number_input(key="width").value,
        at.sidebar.number_input(key="height").value,
    ) == offered
    assert at.query_params["w"] == "96" and at.query_params["h"] == "96"
    assert at.dataframe  # compared at the offered size: its table is drawn
