"""The page in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from .browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require_chromium, streamlit_server
from .conftest import encode

TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def server_url():
    require_chromium()
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser(server_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server_url, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server_url)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


def wait_for_heatmap_names(page: Page, names: list[str]) -> None:
    page.wait_for_function(
        """names => {
            const ticks = [...document.querySelectorAll('.js-plotly-plot .xtick text')];
            return JSON.stringify(ticks.map(t => t.textContent)) === JSON.stringify(names);
        }""",
        arg=names,
        timeout=TIMEOUT_MS,
    )


def test_uploaded_images_appear_in_the_heatmap(page, chelsea, coffee, astronaut):
    samples = ["reference.png", "mean-shift.png", "contrast-stretch.png"]
    wait_for_heatmap_names(page, [*samples, "impulse-noise.png", "blur.png", "jpeg.jpg"])
    files = [
        {"name": "cat.png", "mimeType": "image/png", "buffer": encode(chelsea, "PNG")},
        {"name": "coffee.jpg", "mimeType": "image/jpeg", "buffer": encode(coffee, "JPEG")},
        {"name": "space.png", "mimeType": "image/png", "buffer": encode(astronaut, "PNG")},
    ]
    page.locator("section[data-testid='stSidebar'] input[type='file']").set_input_files(files)
    wait_for_heatmap_names(page, ["cat.png", "coffee.jpg", "space.png"])
    expect(page.get_by_text("cat.png · 451×300")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "uploaded.png", full_page=True)


def choose_sample(page: Page, name: str) -> None:
    sidebar = page.locator("section[data-testid='stSidebar']")
    sidebar.locator("[data-testid='stSelectbox'] input").first.click()
    page.get_by_role("option", name=name).click()


def test_clicking_a_heatmap_cell_opens_the_inspector_with_its_boxes(page):
    choose_sample(page, "Spot the difference")
    wait_for_heatmap_names(page, ["astronaut.png", "astronaut-changed.png"])
    # The invisible marker over each cell, row by row: the second is row 0, column 1.
    page.locator(".js-plotly-plot .scatterlayer .point").nth(1).click(force=True)
    expect(page.get_by_text("Local SSIM map")).to_be_visible()
    regions = page.locator("[data-testid='stMetric']", has_text="Differing regions")
    expect(regions).to_contain_text("4")
    expect(page.get_by_text("Regions that differ")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "inspector.png", full_page=True)
