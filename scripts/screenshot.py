"""Take the README's screenshots of the page (needs Debian's chromium).

    python scripts/screenshot.py docs

writes compare.png, sweep.png, inspector.png, terms.png and classify.png into the folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    choose_sample,
    streamlit_server,
    switch_view,
)

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


def main(folder: str, width: int = 1400, height: int = 1900) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
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
        choose_sample(page, "Faces and other patches (labelled)")
        for label in ("Width", "Height"):  # one form: Enter applies both
            page.get_by_label(label).fill("25")
        page.get_by_label("Height").press("Enter")
        switch_view(page, "Classify")
        page.get_by_text("Leave-one-out accuracy").wait_for()
        settle(page)
        page.screenshot(path=out / "classify.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:2] or ["docs"])
