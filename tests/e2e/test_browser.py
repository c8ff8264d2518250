"""The page in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import imgsim
from imgsim import data as samples
from imgsim.analyses._diff import inspect_pair

from .browser import (
    ARTIFACTS,
    SAMPLE_LABEL,
    choose_sample,
    require_chromium,
    streamlit_server,
    switch_view,
    wait_until_idle,
)
from .conftest import encode, noise_image

TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def server_url():
    require_chromium()
    with streamlit_server() as url:
        yield url


def open_page(browser, url: str, width: int, height: int):
    """A new browser context (a new session) with one page open at ``url``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return context, page


@pytest.fixture
def page(browser, server_url, request):
    context, page = open_page(browser, server_url, 1400, 1800)
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


FIGURE_LAYOUT = """(figure) => {
    const layout = figure._fullLayout;
    return {height: layout.height, x: {range: layout.xaxis.range, offset: layout.xaxis._offset,
            length: layout.xaxis._length}, y: {offset: layout.yaxis._offset,
            length: layout.yaxis._length}};
}"""


def figure_layout(page: Page, index: int = 0) -> dict:
    """The layout Plotly drew (ranges after autorange, plot area in px) of a chart."""
    return page.locator(".js-plotly-plot").nth(index).evaluate(FIGURE_LAYOUT)


def cell_point(page: Page, row: int, column: int, count: int, at: float) -> tuple[float, float]:
    """A point in the page inside a heatmap cell, ``at`` of the way across and down it."""
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    layout = figure_layout(page, 0)
    box = chart.bounding_box()
    x = box["x"] + layout["x"]["offset"] + (column + at) * layout["x"]["length"] / count
    y = box["y"] + layout["y"]["offset"] + (row + at) * layout["y"]["length"] / count
    return x, y


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
    wait_until_idle(page)
    # Row 0, column 1, near the cell's corner: the whole cell takes the click.
    # Plotly clicks the point it hovers, and hovers a moment after the pointer
    # moves: wait for the hover label before clicking.
    point = cell_point(page, 0, 1, 2, at=0.85)
    page.mouse.move(*point)
    hover = page.locator(".js-plotly-plot .hoverlayer .hovertext").first
    expect(hover).to_contain_text("astronaut.png")
    expect(hover).to_contain_text("astronaut-changed.png")
    page.mouse.click(*point)
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
    for label in ("Width", "Height"):  # in one form: applied together
        page.get_by_label(label).fill("128")
    page.get_by_label("Height").press("Enter")
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


def squares(chelsea, coffee, astronaut) -> list[tuple[str, bytes]]:
    """Three photos of about 300 x 300 pixels."""
    return [
        ("cat.png", encode(chelsea[:300, 75:375], "PNG")),
        ("coffee.png", encode(coffee[50:350, 150:450], "PNG")),
        ("space.png", encode(astronaut[100:400, 100:400], "PNG")),
    ]


def test_the_sweep_axis_spans_the_swept_sizes_for_small_images(page, chelsea, coffee, astronaut):
    upload(page, squares(chelsea, coffee, astronaut))
    wait_for_heatmap_names(page, ["cat.png", "coffee.png", "space.png"])
    switch_view(page, "Resize sweep")
    expect(page.get_by_text("Rank stability")).to_be_visible()
    wait_until_idle(page)
    low, high = figure_layout(page, 0)["x"]["range"]
    # It ran to 10^88 with "NaN×10^Infinity" ticks before.
    assert math.log10(32) - 0.3 < low < math.log10(32)
    assert math.log10(2048) < high < math.log10(2048) + 0.3
    ticks = page.locator(".js-plotly-plot").first.locator(".xtick text").all_text_contents()
    assert ticks == ["32", "64", "128", "256", "512", "1024", "2048"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "sweep-300px.png", full_page=True)


@pytest.fixture(scope="module")
def sixty_files() -> list[tuple[str, bytes]]:
    return [(f"noise-{k:02d}.png", encode(noise_image((24, 32), k), "PNG")) for k in range(60)]


def test_the_heatmap_of_sixty_images_is_sized_by_its_rows(browser, server_url, sixty_files):
    context, page = open_page(browser, server_url, 1400, 2400)
    wait_until_idle(page)
    upload(page, sixty_files)
    wait_for_heatmap_names(page, [name for name, _ in sixty_files])
    wait_until_idle(page)
    layout = figure_layout(page, 0)
    assert layout["height"] < 1200  # 3760 before
    assert layout["y"]["length"] > 0.7 * layout["height"]  # no blank space around
    bar = page.locator(".js-plotly-plot .colorbar .cbbg").first.bounding_box()
    assert bar["height"] == pytest.approx(layout["y"]["length"], rel=0.1)
    assert not page.locator(".js-plotly-plot .heatmaplayer text").count()  # no numbers
    # Hover near a cell's corner, not its centre, still names that cell's pair.
    row, column = 2, 5
    page.mouse.move(*cell_point(page, row, column, len(sixty_files), at=0.85))
    hover = page.locator(".js-plotly-plot .hoverlayer .hovertext").first
    expect(hover).to_contain_text(f"noise-{row:02d}.png")
    expect(hover).to_contain_text(f"noise-{column:02d}.png")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "heatmap-60.png", full_page=True)
    context.close()


def label_cell(page: Page, row: int) -> str:
    return page.locator(f"#glide-cell-1-{row}").first.text_content()


def test_a_label_edit_survives_switching_views(page):
    switch_view(page, "Classify")
    expect(page.get_by_text("Leave-one-out accuracy")).to_be_visible()
    wait_until_idle(page)
    editor = page.locator("[data-testid='stDataFrame']").first
    box = editor.bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + 35 + 17)  # the first image's name
    page.keyboard.press("ArrowRight")  # its label
    page.keyboard.press("Enter")
    page.locator("textarea.gdg-input").fill("mean")  # reference.png joins mean-shift.png
    page.keyboard.press("Enter")
    accuracy = page.locator("[data-testid='stDataFrame']").nth(1).locator("[role=grid]")
    expect(accuracy).to_contain_text(re.compile(r"SSIM33\.3"))  # 2 of 6 right
    switch_view(page, "Compare")
    expect(page.get_by_text("Similarity matrix")).to_be_visible()
    switch_view(page, "Classify")
    expect(page.locator("#glide-cell-1-0").first).to_have_text("mean")
    expect(accuracy).to_contain_text(re.compile(r"SSIM33\.3"))  # 2 of 6 right


def test_a_link_reopens_the_same_view(page, browser, server_url):
    choose_sample(page, "Spot the difference")
    wait_for_heatmap_names(page, ["astronaut.png", "astronaut-changed.png"])
    for label in ("Width", "Height"):
        page.get_by_label(label).fill("256")
    page.get_by_role("button", name="Apply size").click()
    wait_until_idle(page)
    switch_view(page, "Pair inspector")
    expect(page.get_by_text("compared 256×256 images")).to_be_visible()
    page.wait_for_url(lambda url: "view=Pair+inspector" in url and "w=256" in url)
    link = page.url
    other, opened = open_page(browser, link, 1400, 1800)
    expect(opened.get_by_text("Local SSIM map")).to_be_visible()
    expect(opened.get_by_text("compared 256×256 images")).to_be_visible()
    expect(opened.get_by_role("combobox", name=SAMPLE_LABEL)).to_have_value("Spot the difference")
    other.close()


def boxes_overlap(first: dict, second: dict) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


def test_the_page_stays_readable_800_pixels_wide(browser, server_url):
    context, page = open_page(browser, server_url, 800, 3000)
    wait_for_heatmap_names(page, [name for name, _ in samples.load_sample(samples.EQUAL_MSE)])
    wait_until_idle(page)
    for name in ("Download CSV", "Download JSON"):  # not cut to "D.."
        button = page.get_by_role("button", name=name)
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth")
        expect(button).to_contain_text(name)
    layout = figure_layout(page, 0)
    assert layout["x"]["length"] > 250 and layout["y"]["length"] > 250  # not 90 px
    page.screenshot(path=ARTIFACTS / "narrow-compare.png", full_page=True)

    switch_view(page, "Resize sweep")
    expect(page.get_by_text("Rank stability")).to_be_visible()
    wait_until_idle(page)
    chart = page.locator(".js-plotly-plot").first
    legend = chart.locator(".legend").bounding_box()
    title = chart.locator(".xtitle").bounding_box()
    assert not boxes_overlap(legend, title)
    page.screenshot(path=ARTIFACTS / "narrow-sweep.png", full_page=True)

    switch_view(page, "Classify")
    expect(page.get_by_text("Leave-one-out accuracy")).to_be_visible()
    wait_until_idle(page)
    accuracy = page.locator("[data-testid='stDataFrame']").nth(1)
    table = accuracy.bounding_box()
    # Both columns on screen: it was squeezed into a third of the width before.
    assert table["x"] + table["width"] <= 800 and table["width"] >= 170
    dendrogram = page.locator(".js-plotly-plot").last
    frame = dendrogram.bounding_box()
    for label in dendrogram.locator(".xtick text").all():
        tick = label.bounding_box()
        assert frame["x"] <= tick["x"] and tick["x"] + tick["width"] <= frame["x"] + frame["width"]
    page.screenshot(path=ARTIFACTS / "narrow-classify.png", full_page=True)
    context.close()


def test_the_inspector_shows_the_terms_and_switches_their_map(page):
    switch_view(page, "Pair inspector")
    expect(page.get_by_text("Local luminance, contrast and structure")).to_be_visible()
    wait_until_idle(page)
    files = dict(samples.load_sample(samples.EQUAL_MSE))
    names = ("reference.png", "mean-shift.png")  # the first two images: the default pair
    terms = inspect_pair(*((name, files[name]) for name in names)).terms
    for name, value in terms.to_dict().items():
        metric = page.locator("[data-testid='stMetric']", has_text=name.capitalize())
        expect(metric).to_contain_text(f"{value:.4f}")
    expect(page.get_by_text("Mostly a difference of brightness")).to_be_visible()
    term_chart = page.locator(".js-plotly-plot").nth(1)  # after the SSIM map
    expect(term_chart.locator(".colorbar .cbtitle")).to_have_text("Luminance")
    page.locator("[data-testid='stButtonGroup'] button", has_text="Structure").first.click()
    wait_until_idle(page)
    expect(term_chart.locator(".colorbar .cbtitle")).to_have_text("Structure")
