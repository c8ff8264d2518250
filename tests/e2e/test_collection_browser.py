"""The Collection view in a real browser, on a generated collection of 300 images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.browser import ARTIFACTS, require_chromium, streamlit_process, wait_until_idle
from tests.helpers.collection_corpus import make_collection, near_copy
from tests.helpers.images import encode

pytestmark = pytest.mark.e2e

GROUP_SIZES = (5, 4, 3, 3, *(2,) * 10)
SINGLES = 300 - sum(GROUP_SIZES)


@dataclass
class CollectionServer:
    """A server with ``IMGSIM_COLLECTION`` set, and whether a visitor has indexed it."""

    url: str
    folder: Path
    groups: list[list[str]]
    indexed: bool = False


@pytest.fixture(scope="session")
def collection_server(tmp_path_factory) -> CollectionServer:
    """The session's server for this environment: one collection, its own cache folder."""
    require_chromium()
    folder = tmp_path_factory.mktemp("browser-collection") / "holiday"
    groups = make_collection(folder, singles=SINGLES, group_sizes=GROUP_SIZES, seed=7)
    environment = {
        "IMGSIM_COLLECTION": f"holiday={folder}",
        "IMGSIM_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
    }
    log = tmp_path_factory.mktemp("streamlit-collection") / "server.log"
    with pytest.MonkeyPatch.context() as patch:  # the server indexes here, not on a cluster
        patch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
        with streamlit_process(log=log, env=environment) as (url, _):
            yield CollectionServer(url, folder, groups)


@pytest.mark.parametrize("width", [1400, 800])
def test_the_collection_view_shows_groups_and_opens_a_query_match(
    open_page, collection_server, tmp_path, width
):
    server = collection_server
    page = open_page(f"{server.url}/?view=Collection&w=64&h=64", width, 1600)
    expect(page.get_by_text("Collection: holiday · 301 images")).to_be_visible()
    start = page.get_by_role("button", name="Index the collection")
    header = page.get_by_text("Group 1:", exact=False)
    if not server.indexed:  # the server's first visitor starts the index...
        start.click()
        server.indexed = True
    expect(header).to_be_visible()  # ...the next finds it done, without a click
    expect(start).to_have_count(0)
    expect(header).to_contain_text("5 images")
    expect(page.get_by_text("Group 10:", exact=False)).to_be_visible()
    expect(page.get_by_text("Group 11:", exact=False)).to_have_count(0)  # next page
    wait_until_idle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"collection-{width}.png", full_page=True)

    original = np.asarray(Image.open(server.folder / server.groups[1][0]).convert("RGB"))
    query = tmp_path / "collection-query.png"
    query.write_bytes(encode(near_copy(np.random.default_rng(5), original), "PNG"))
    page.locator("[data-testid='stMain'] input[type='file']").set_input_files(query)
    inspect = page.get_by_role("button", name="Inspect")
    expect(inspect).to_have_count(5)
    captions = page.locator("[data-testid='stCaptionContainer']", has_text="SSIM ")
    expect(captions.first).to_be_visible()
    inspect.first.scroll_into_view_if_needed()
    wait_until_idle(page)
    page.screenshot(path=ARTIFACTS / f"collection-query-{width}.png", full_page=True)
    inspect.first.click()
    expect(page.get_by_text("Local SSIM map")).to_be_visible()
    note = page.get_by_text("from the collection holiday")  # an uploaded query and a match
    expect(note).to_be_visible()
    expect(page.get_by_text("Find images like this one")).to_have_count(0)  # view left
    wait_until_idle(page)
    note.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / f"collection-inspector-{width}.png", full_page=True)
