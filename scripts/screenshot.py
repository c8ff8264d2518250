"""Take the README's screenshots of the page (needs Debian's chromium).

    python scripts/screenshot.py docs

writes compare.png, sweep.png, inspector.png, terms.png, msssim.png, classify.png
and collection.png into the folder (the last from a collection of photo crops
generated in a temporary folder and served with IMGSIM_COLLECTION).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image
from playwright.sync_api import Page

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.browser import (
    choose_sample,
    launched_chromium,
    streamlit_server,
    switch_view,
)
from tests.helpers.collection_corpus import near_copy

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry")  # installed ones

TIMEOUT_MS = 120_000


def settle(page: Page) -> None:
    """Wait until the app has stopped running and the charts are drawn."""
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)


def choose_option(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def open_page(browser, url: str, width: int, height: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def photo_collection(folder: Path, side: int = 128) -> None:
    """Crops of scikit-image's photos, some with near copies (noise, a brightness
    shift, JPEG), in one subfolder per photo."""
    rng = np.random.default_rng(3)
    for photo in PHOTOS:
        image = getattr(skimage.data, photo)()[..., :3]
        (folder / photo).mkdir(parents=True, exist_ok=True)
        height, width = image.shape[:2]
        for crop in range(8):
            y, x = rng.integers(0, height - side), rng.integers(0, width - side)
            original = np.ascontiguousarray(image[y : y + side, x : x + side])
            Image.fromarray(original).save(folder / photo / f"crop-{crop}.png")
            for copy in range(int(rng.integers(0, 4)) if crop < 3 else 0):
                near = Image.fromarray(near_copy(rng, original))
                near.save(folder / photo / f"crop-{crop}-copy-{copy}.jpg", quality=85)


def collection_screenshot(out: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        photos = Path(temporary) / "photos"
        photo_collection(photos)
        os.environ["IMGSIM_COLLECTION"] = f"photos={photos}"
        os.environ["IMGSIM_CACHE_DIR"] = str(Path(temporary) / "cache")
        with streamlit_server() as url, launched_chromium() as browser:
            page = open_page(browser, f"{url}/?view=Collection&w=128&h=128&t=0.8", width, height)
            page.get_by_role("button", name="Index the collection").click()
            page.get_by_text("Group 1:").wait_for()
            page.wait_for_selector(
                "[data-testid='stStatusWidget']", state="detached", timeout=TIMEOUT_MS
            )
            page.wait_for_timeout(1500)
            page.screenshot(path=out / "collection.png")


def main(folder: str, width: int = 1400, height: int = 1900) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, launched_chromium() as browser:
        page = open_page(browser, url, width, height)
        settle(page)
        page.screenshot(path=out / "compare.png")
        choose_sample(page, "Photos")
        switch_view(page, "Resize sweep")
        page.get_by_text("Rank stability").wait_for()
        settle(page)
        page.screenshot(path=out / "sweep.png")
        choose_sample(page, "Spot the difference")
        switch_view(page, "Pair inspector")
        page.get_by_text("Local SSIM map").wait_for()
        settle(page)
        page.screenshot(path=out / "inspector.png")
        # The equal-MSE sample's blur against its reference: SSIM's terms say why
        # it scores low (detail lost, brightness kept), with the structure map.
        choose_sample(page, "Equal MSE, different SSIM")
        choose_option(page, "Image B", "blur.png")
        page.get_by_text("Mostly a difference of contrast").wait_for()
        page.locator("[data-testid='stButtonGroup'] button", has_text="Structure").first.click()
        # Tall enough for the scores, both images, the SSIM map and the term's map.
        page.set_viewport_size({"width": width, "height": 3000})
        settle(page)
        page.screenshot(path=out / "terms.png")
        page.set_viewport_size({"width": width, "height": height})
        # The same pair under MS-SSIM: which of its five scales lowers it most.
        choose_option(page, "SSIM convention", "MS-SSIM, 5 scales (sides ≥ 161)")
        page.get_by_text("MS-SSIM scale by scale").wait_for()
        settle(page)
        page.screenshot(path=out / "msssim.png")
        choose_option(page, "SSIM convention", "scikit-image (7×7 uniform)")
        page.get_by_text("Local SSIM map", exact=True).wait_for()
        choose_sample(page, "Faces and other patches (labelled)")
        for label in ("Width", "Height"):  # one form: Enter applies both
            page.get_by_label(label).fill("25")
        page.get_by_label("Height").press("Enter")
        switch_view(page, "Classify")
        page.get_by_text("Leave-one-out accuracy").wait_for()
        settle(page)
        page.screenshot(path=out / "classify.png")
    collection_screenshot(out, width, height)


if __name__ == "__main__":
    main(*sys.argv[1:2] or ["docs"])
