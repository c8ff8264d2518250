"""The page in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

import imgsim

from .browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    choose_sample,
    require_chromium,
    streamlit_server,
    wait_until_idle,
)
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


def heatmap_texts(page: Page) -> list[str]:
    return page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot .heatmaplayer text')]"
        ".map(text => text.textContent)"
    )


def upload(page: Page, files: list[tuple[str, bytes]]) -> None:
    page.locator("section[data-testid='stSidebar'] input[type='file']").set_input_files(
        [
            {"name": name, "mimeType": "application/octet-stream", "buffer": data}
            for name, data in files
        ]
    )


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


@pytest.fixture(scope="module")
def photo_files(chelsea, coffee, astronaut) -> list[tuple[str, bytes]]:
    return [
        ("cat.png", encode(chelsea, "PNG")),
        ("coffee.jpg", encode(coffee, "JPEG")),
        ("space.png", encode(astronaut, "PNG")),
    ]


def expected_texts(files, **settings) -> list[str]:
    result = imgsim.compare(files, **settings)
    return [f"{value:.3f}" for value in result.ssim.ravel()]


def test_a_bad_file_among_good_ones_shows_its_error_while_the_rest_works(page, photo_files):
    upload(page, [*photo_files[:2], ("broken.png", b"\x89PNG\r\n\x1a\n garbage"), photo_files[2]])
    wait_for_heatmap_names(page, ["cat.png", "coffee.jpg", "space.png"])
    error = page.locator("[data-testid='stAlertContentError']")
    expect(error).to_contain_text("broken.png")
    expect(error).to_contain_text("a PNG file that cannot be read")
    wait_until_idle(page)
    assert heatmap_texts(page) == expected_texts(photo_files)


def test_changing_size_and_grayscale_updates_the_scores(page, photo_files):
    upload(page, photo_files)
    wait_for_heatmap_names(page, ["cat.png", "coffee.jpg", "space.png"])
    wait_until_idle(page)
    assert heatmap_texts(page) == expected_texts(photo_files)
    for label in ("Width", "Height"):
        field = page.get_by_label(label)
        field.fill("128")
        field.press("Enter")
        wait_until_idle(page)
    page.locator("section[data-testid='stSidebar']").get_by_text("Grayscale").click()
    colour = expected_texts(photo_files, size=(128, 128), grayscale=False)
    page.wait_for_function(
        """expected => JSON.stringify([...document.querySelectorAll(
            '.js-plotly-plot .heatmaplayer text')].map(t => t.textContent))
            === JSON.stringify(expected)""",
        arg=colour,
    )
    assert colour != expected_texts(photo_files)


def test_the_csv_download_returns_the_table(page, photo_files):
    upload(page, photo_files)
    wait_for_heatmap_names(page, ["cat.png", "coffee.jpg", "space.png"])
    wait_until_idle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    expected = imgsim.compare(photo_files).pairs()
    assert [(row["a"], row["b"]) for row in rows] == [(pair.a, pair.b) for pair in expected]
    for row, pair in zip(rows, expected, strict=True):
        assert float(row["ssim"]) == pair.ssim and float(row["mse"]) == pair.mse
