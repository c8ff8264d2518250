"""Hostile and awkward files on the page: every bad file named, the rest compared."""

from __future__ import annotations

import pytest

from tests.dashboard.pages import heatmap_values, new_session
from tests.helpers.corpus import build


@pytest.fixture(scope="module")
def corpus():
    return build()


def refused(entries):
    return [entry for entry in entries if entry.refused]


def test_the_page_names_every_bad_file_and_compares_the_rest(corpus):
    entries, _ = corpus
    at = new_session(timeout=300)  # an 8000 x 6000 JPEG among them
    at.run()
    at.sidebar.file_uploader[0].set_value(
        [(entry.name, entry.data, "application/octet-stream") for entry in entries]
    )
    at.run()
    assert not at.exception
    (message,) = at.error
    for entry in refused(entries):
        assert f"**{entry.name}**" in message.value
    good = len(entries) - len(refused(entries))
    assert heatmap_values(at).shape == (good, good)
