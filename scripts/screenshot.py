"""Take the README's screenshot of the page (needs Debian's chromium).

python scripts/screenshot.py docs/screenshot.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server


def main(output: str, width: int = 1400, height: int = 1900) -> None:
    with streamlit_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url)
        page.wait_for_selector(".js-plotly-plot .xtick text", timeout=90_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=output)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:2] or ["docs/screenshot.png"])
