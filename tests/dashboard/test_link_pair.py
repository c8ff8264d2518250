"""A link made from uploads keeps its pair until those files are uploaded, then opens it."""

from __future__ import annotations

import pytest

from imgsim import data as samples
from tests.dashboard.pages import opened_with, upload
from tests.helpers.images import encode

ORIGINAL, CHANGED = "jp_gates_original.png", "jp_gates_photoshopped.png"
LINK = {"view": "Pair inspector", "a": ORIGINAL, "b": CHANGED, "src": "upload"}
WAITING = f"This link compares {ORIGINAL} and {CHANGED}: upload them to open the pair."


@pytest.fixture
def files(chelsea, coffee, astronaut) -> dict[str, bytes]:
    """The link's two files and one more, listed first: the inspector's default pair
    (the first two images) is then not the link's."""
    return {
        "cat-1.png": encode(chelsea, "PNG"),
        ORIGINAL: encode(coffee, "PNG"),
        CHANGED: encode(astronaut, "PNG"),
    }


def pair_shown(at) -> tuple[str, str]:
    return at.selectbox(key="inspect_a").value, at.selectbox(key="inspect_b").value


def test_the_link_keeps_its_pair_while_the_sample_is_shown():
    at = opened_with(LINK)
    assert not at.exception and not at.warning
    assert WAITING in [info.value for info in at.info]
    assert at.query_params["a"] == ORIGINAL and at.query_params["b"] == CHANGED
    assert at.query_params["src"] == "upload" and "sample" not in at.query_params
    sample_names = [name for name, _ in samples.load_sample(samples.sample_names()[0])]
    assert not at.main.selectbox  # no other pair in its place
    assert not any(name in at.query_params.values() for name in sample_names)


def test_uploading_the_named_files_opens_the_links_pair(files):
    at = opened_with(LINK)
    upload(at, list(files.items()))
    assert not at.exception and not at.warning
    assert pair_shown(at) == (ORIGINAL, CHANGED)
    assert not any("This link compares" in info.value for info in at.info)
    assert (at.query_params["a"], at.query_params["b"]) == (ORIGINAL, CHANGED)


def test_the_pair_waits_for_files_uploaded_one_at_a_time(files):
    at = opened_with(LINK)
    upload(at, [("cat-1.png", files["cat-1.png"]), (ORIGINAL, files[ORIGINAL])])
    assert not at.exception
    assert f"{WAITING} Not among the uploads yet: {CHANGED}." in [info.value for info in at.info]
    assert not at.main.selectbox
    assert (at.query_params["a"], at.query_params["b"]) == (ORIGINAL, CHANGED)
    upload(at, list(files.items()))
    assert pair_shown(at) == (ORIGINAL, CHANGED)


def test_a_visitor_may_inspect_other_images_instead(files):
    at = opened_with(LINK)
    upload(at, [("cat-1.png", files["cat-1.png"]), (ORIGINAL, files[ORIGINAL])])
    at.button(key="forget_link_pair").click().run()
    assert not at.exception
    assert pair_shown(at) == ("cat-1.png", ORIGINAL)  # the first two different images
    assert (at.query_params["a"], at.query_params["b"]) == ("cat-1.png", ORIGINAL)
    assert not any("This link compares" in info.value for info in at.info)


def test_other_views_show_the_sample_and_say_what_the_link_waits_for():
    at = opened_with(LINK)
    at.button_group(key="view").set_value("Compare").run()
    assert not at.exception
    assert WAITING in [info.value for info in at.info]
    assert at.get("plotly_chart")  # the sample is compared meanwhile
    assert (at.query_params["a"], at.query_params["b"]) == (ORIGINAL, CHANGED)
