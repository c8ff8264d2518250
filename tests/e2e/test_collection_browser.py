"""The Collection view in a real browser, on a generated collection of 300 images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from .browser import ARTIFACTS, require_chromium, streamlit_server, wait_until_idle
from .collection_corpus import make_collection, near_copy
from .conftest import encode

TIMEOUT_MS = 120_000
GROUP_SIZES = (5, 4, 3, 3, *(2,) * 10)
SINGLES = 300 - sum(GROUP_SIZES)


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> tuple[Path, list[list[str]]]:
    folder = tmp_path_factory.mktemp("browser-collection") / "holiday"
    return folder, make_collection(folder, singles=SINGLES, group_sizes=GROUP_SIZES, seed=7)


@pytest.fixture(scope="module")
def server_url(collection, tmp_path_factory):
    require_chromium()
    folder, _ = collection
    with pytest.MonkeyPatch.context() as patch:  # the server inherits the environment
        patch.setenv("IMGSIM_COLLECTION", f"holiday={folder}")
        patch.setenv("IMGSIM_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
        with streamlit_server() as url:
            yield url


@pytest.mark.parametrize("width", [1400, 800])
def test_the_collection_view_shows_groups_and_opens_a_query_match(
    browser, server_url, collection, width
):
    folder, groups = collection
    context = browser.new_context(viewport={"width": width, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{server_url}/?view=Collection&w=64&h=64")
        expect(page.get_by_text("Collection: holiday · 301 images")).to_be_visible(
            timeout=TIMEOUT_MS
        )
        start = page.get_by_role("button", name="Index the collection")
        if width == 1400:  # the first visitor starts the index; the next finds it done
            start.click()
        header = page.get_by_text("Group 1:", exact=False)
        expect(header).to_be_visible(timeout=TIMEOUT_MS)  # once the index is done
        expect(start).to_have_count(0)
        expect(header).to_contain_text("5 images")
        expect(page.get_by_text("Group 10:", exact=False)).to_be_visible()
        expect(page.get_by_text("Group 11:", exact=False)).to_have_count(0)  # next page
        wait_until_idle(page)
        page.screenshot(path=ARTIFACTS / f"collection-{width}.png", full_page=True)

        original = np.asarray(Image.open(folder / groups[1][0]).convert("RGB"))
        query = ARTIFACTS / "collection-query.png"
        query.write_bytes(encode(near_copy(np.random.default_rng(5), original), "PNG"))
        page.locator("[data-testid='stMain'] input[type='file']").set_input_files(query)
        inspect = page.get_by_role("button", name="Inspect")
        expect(inspect).to_have_count(5, timeout=TIMEOUT_MS)
        captions = page.locator("[data-testid='stCaptionContainer']", has_text="SSIM ")
        expect(captions.first).to_be_visible()
        inspect.first.scroll_into_view_if_needed()
        wait_until_idle(page)
        page.screenshot(path=ARTIFACTS / f"collection-query-{width}.png", full_page=True)
        inspect.first.click()
        expect(page.get_by_text("Local SSIM map")).to_be_visible(timeout=TIMEOUT_MS)
        note = page.get_by_text("from the collection holiday")  # an uploaded query and a match
        expect(note).to_be_visible()
        expect(page.get_by_text("Find images like this one")).to_have_count(0)  # view left
        wait_until_idle(page)
        note.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / f"collection-inspector-{width}.png", full_page=True)
    finally:
        context.close()
