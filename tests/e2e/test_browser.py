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
from imgsim.dashboard import results
from tests.e2e.browser import (
    ARTIFACTS,
    SAMPLE_LABEL,
    TIMEOUT_MS,
    choose_sample,
    switch_view,
    wait_until_idle,
)
from tests.helpers.images import encode, noise_image

pytestmark = pytest.mark.e2e


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


def chart(page: Page, key: str):
    """The Plotly chart the page draws with this key, once Plotly has drawn it."""
    return page.locator(f".st-key-{key} .js-plotly-plot")


def figure_layout(figure) -> dict:
    """The layout Plotly drew (ranges after autorange, plot area in px) of a chart."""
    return figure.evaluate(FIGURE_LAYOUT)


def cell_point(page: Page, row: int, column: int, count: int, at: float) -> tuple[float, float]:
    """A point in the page inside a heatmap cell, ``at`` of the way across and down it."""
    heatmap = chart(page, "heatmap")
    heatmap.scroll_into_view_if_needed()
    layout = figure_layout(heatmap)
    box = heatmap.bounding_box()
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


def wait_for_heatmap_texts(page: Page, texts: list[str]) -> None:
    """Until the heatmap's cells show exactly these numbers (fails at the timeout)."""
    page.wait_for_function(
        """expected => JSON.stringify([...document.querySelectorAll(
            '.js-plotly-plot .heatmaplayer text')].map(t => t.textContent))
            === JSON.stringify(expected)""",
        arg=texts,
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
    wait_for_heatmap_texts(page, expected_texts(photo_files))


def test_changing_size_and_grayscale_updates_the_scores(page, photo_files):
    upload(page, photo_files)
    wait_for_heatmap_names(page, ["cat.png", "coffee.jpg", "space.png"])
    wait_for_heatmap_texts(page, expected_texts(photo_files))
    for label in ("Width", "Height"):  # in one form: applied together
        page.get_by_label(label).fill("128")
    page.get_by_label("Height").press("Enter")
    gray = expected_texts(photo_files, size=(128, 128))
    wait_for_heatmap_texts(page, gray)
    page.locator("section[data-testid='stSidebar']").get_by_text("Grayscale").click()
    colour = expected_texts(photo_files, size=(128, 128), grayscale=False)
    wait_for_heatmap_texts(page, colour)
    assert colour != gray != expected_texts(photo_files)


def test_the_csv_download_returns_the_table(page, photo_files):
    upload(page, photo_files)
    wait_for_heatmap_names(page, ["cat.png", "coffee.jpg", "space.png"])
    expect(page.get_by_role("button", name="Download CSV")).to_be_enabled()
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
    ssim = chart(page, "sweep_ssim")
    ticks = ["32", "64", "128", "256", "512", "1024", "2048"]
    expect(ssim.locator(".xtick text")).to_have_text(ticks)
    low, high = figure_layout(ssim)["x"]["range"]
    # It ran to 10^88 with "NaN×10^Infinity" ticks before.
    assert math.log10(32) - 0.3 < low < math.log10(32)
    assert math.log10(2048) < high < math.log10(2048) + 0.3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "sweep-300px.png", full_page=True)


@pytest.fixture(scope="module")
def sixty_files() -> list[tuple[str, bytes]]:
    return [(f"noise-{k:02d}.png", encode(noise_image((24, 32), k), "PNG")) for k in range(60)]


def test_the_heatmap_of_sixty_images_is_sized_by_its_rows(open_page, server_url, sixty_files):
    page = open_page(server_url, 1400, 2400)
    upload(page, sixty_files)
    wait_for_heatmap_names(page, [name for name, _ in sixty_files])
    wait_until_idle(page)
    layout = figure_layout(chart(page, "heatmap"))
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


def grid_cell(table, column: int, row: int):
    """A cell of a st.dataframe or st.data_editor, in the grid's accessible table.

    The grid draws on a canvas; this table, which it fills once its rows are
    loaded, holds the same cells as text.
    """
    return table.locator(f"[id='glide-cell-{column}-{row}']")


def accuracy_table(page: Page):
    """The Classify view's leave-one-out accuracy table (the one with a predictor column)."""
    return page.locator("[data-testid='stDataFrame']").filter(has_text="predictor")


def test_a_label_edit_survives_switching_views(page):
    switch_view(page, "Classify")
    expect(page.get_by_text("Leave-one-out accuracy")).to_be_visible()
    editor = page.locator(".st-key-labels_editor [data-testid='stDataFrame']")
    accuracy = accuracy_table(page).locator("[role=grid]")
    # The grid draws on a canvas and takes a click or a key only once it has drawn
    # its rows, and each moves its selection a moment later: a key pressed before
    # the selection has moved acts on the old one. Each step therefore waits for
    # the grid to show the state the last one made (its accessible table marks
    # the selected cell). This test used to press the keys at once, and timed out
    # on a busy machine with the editor of the read-only name cell open instead.
    expect(grid_cell(editor, 0, 0)).to_have_text("reference.png")
    expect(grid_cell(editor, 1, 0)).to_have_text("reference")
    expect(accuracy).to_contain_text(re.compile(r"SSIM"))
    wait_until_idle(page)
    box = editor.bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + 35 + 17)  # the first image's name
    expect(grid_cell(editor, 0, 0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")  # its label
    expect(grid_cell(editor, 1, 0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    text = page.locator("textarea.gdg-input")
    expect(text).to_have_value("reference")  # the label cell's editor, not the name's
    expect(text).to_be_editable()
    text.fill("mean")  # reference.png joins mean-shift.png
    page.keyboard.press("Enter")
    expect(accuracy).to_contain_text(re.compile(r"SSIM33\.3"))  # 2 of 6 right
    switch_view(page, "Compare")
    expect(page.get_by_text("Similarity matrix")).to_be_visible()
    switch_view(page, "Classify")
    expect(grid_cell(editor, 1, 0)).to_have_text("mean")
    expect(accuracy).to_contain_text(re.compile(r"SSIM33\.3"))  # 2 of 6 right


def test_a_link_reopens_the_same_view(page, open_page):
    choose_sample(page, "Spot the difference")
    wait_for_heatmap_names(page, ["astronaut.png", "astronaut-changed.png"])
    for label in ("Width", "Height"):
        page.get_by_label(label).fill("256")
    page.get_by_role("button", name="Apply size").click()
    page.wait_for_url(lambda url: "w=256" in url and "h=256" in url)  # the size is applied
    switch_view(page, "Pair inspector")
    expect(page.get_by_text("compared 256×256 images")).to_be_visible()
    page.wait_for_url(lambda url: "view=Pair+inspector" in url and "w=256" in url)
    opened = open_page(page.url)
    expect(opened.get_by_text("Local SSIM map")).to_be_visible()
    expect(opened.get_by_text("compared 256×256 images")).to_be_visible()
    expect(opened.get_by_role("combobox", name=SAMPLE_LABEL)).to_have_value("Spot the difference")


def boxes_overlap(first: dict, second: dict) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


def test_the_page_stays_readable_800_pixels_wide(open_page, server_url):
    page = open_page(server_url, 800, 3000)
    wait_for_heatmap_names(page, [name for name, _ in samples.load_sample(samples.EQUAL_MSE)])
    wait_until_idle(page)
    for name in ("Download CSV", "Download JSON"):  # not cut to "D.."
        button = page.get_by_role("button", name=name)
        expect(button).to_contain_text(name)
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth")
    layout = figure_layout(chart(page, "heatmap"))
    assert layout["x"]["length"] > 250 and layout["y"]["length"] > 250  # not 90 px
    # The score columns of the pair table in sight beside the sidebar: MSE and PSNR
    # were scrolled out of view at this width. Only the Flags column, last, may
    # scroll in.
    table = page.locator(".st-key-pair_table")
    scroller = table.locator(".dvn-scroller")
    expect(scroller).to_be_visible()
    headers = table.locator("[role=columnheader]")
    expect(headers).to_have_text(["Image A", "Image B", "SSIM", "MSE", "PSNR dB", "Flags"])
    # The grid draws on a canvas, so the columns' places are read off the scroller:
    # what is cut off at the right is at most the last column.
    hidden = scroller.evaluate("s => s.scrollWidth - s.clientWidth")
    assert hidden <= results.FLAGS_WIDTH, hidden
    ARTIFACTS.mkdir(exist_ok=True)
    table.screenshot(path=ARTIFACTS / "narrow-pair-table.png")
    page.screenshot(path=ARTIFACTS / "narrow-compare.png", full_page=True)

    switch_view(page, "Resize sweep")
    expect(page.get_by_text("Rank stability")).to_be_visible()
    ssim = chart(page, "sweep_ssim")
    expect(ssim.locator(".legend")).to_be_visible()
    expect(ssim.locator(".xtitle")).to_be_visible()
    wait_until_idle(page)
    legend = ssim.locator(".legend").bounding_box()
    title = ssim.locator(".xtitle").bounding_box()
    assert not boxes_overlap(legend, title)
    page.screenshot(path=ARTIFACTS / "narrow-sweep.png", full_page=True)

    switch_view(page, "Classify")
    expect(page.get_by_text("Leave-one-out accuracy")).to_be_visible()
    accuracy = accuracy_table(page)
    expect(accuracy.locator("[role=grid]")).to_contain_text("SSIM")  # its rows are drawn
    dendrogram = chart(page, "dendrogram")
    expect(dendrogram.locator(".xtick text").first).to_be_visible()
    wait_until_idle(page)
    table = accuracy.bounding_box()
    # Both columns on screen: it was squeezed into a third of the width before.
    assert table["x"] + table["width"] <= 800 and table["width"] >= 170
    frame = dendrogram.bounding_box()
    for label in dendrogram.locator(".xtick text").all():
        tick = label.bounding_box()
        assert frame["x"] <= tick["x"] and tick["x"] + tick["width"] <= frame["x"] + frame["width"]
    page.screenshot(path=ARTIFACTS / "narrow-classify.png", full_page=True)


def test_the_inspector_shows_the_terms_and_switches_their_map(page):
    switch_view(page, "Pair inspector")
    expect(page.get_by_text("Local luminance, contrast and structure")).to_be_visible()
    files = dict(samples.load_sample(samples.EQUAL_MSE))
    names = ("reference.png", "mean-shift.png")  # the first two images: the default pair
    terms = inspect_pair(*((name, files[name]) for name in names)).terms
    for name, value in terms.to_dict().items():
        metric = page.locator("[data-testid='stMetric']", has_text=name.capitalize())
        expect(metric).to_contain_text(f"{value:.4f}")
    expect(page.get_by_text("Mostly a difference of brightness")).to_be_visible()
    # The term's map, below the SSIM map: the page keys each term's chart by its name.
    expect(chart(page, "term_map_luminance").locator(".colorbar .cbtitle")).to_have_text(
        "Luminance"
    )
    page.locator("[data-testid='stButtonGroup'] button", has_text="Structure").first.click()
    expect(chart(page, "term_map_structure").locator(".colorbar .cbtitle")).to_have_text(
        "Structure"
    )
    expect(page.locator(".st-key-term_map_luminance")).to_have_count(0)  # replaced, not added


def test_a_link_from_uploads_opens_its_pair_once_the_files_are_uploaded(
    open_page, server_url, chelsea, coffee, astronaut
):
    first, second = "jp_gates_original.png", "jp_gates_photoshopped.png"
    page = open_page(f"{server_url}/?view=Pair+inspector&a={first}&b={second}&src=upload")
    expect(
        page.get_by_text(f"This link compares {first} and {second}: upload them to open the pair")
    ).to_be_visible()
    wait_until_idle(page)
    assert f"a={first}" in page.url and f"b={second}" in page.url and "src=upload" in page.url
    upload(
        page,
        [
            ("cat-1.png", encode(chelsea, "PNG")),
            (first, encode(coffee, "PNG")),
            (second, encode(astronaut, "PNG")),
        ],
    )
    expect(page.get_by_role("combobox", name="Image A")).to_have_value(first)
    expect(page.get_by_role("combobox", name="Image B")).to_have_value(second)
    expect(page.get_by_text("This link compares")).to_have_count(0)
    assert f"a={first}" in page.url and f"b={second}" in page.url
