"""Many users at once: five browsers, each uploading ten images and changing settings.

Bounded in count and time, against 127.0.0.1 only. The server's memory after the
sessions close must come back to within `MEMORY_BOUND` of where it started
(measured figures are in the README's "Limits and safety").
"""

from __future__ import annotations

import asyncio
import time

import pytest
import skimage.data
from playwright.async_api import Page, async_playwright

import imgsim

from .browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    require_chromium,
    resident_memory,
    streamlit_process,
)
from .conftest import encode

SESSIONS = 5
TIMEOUT_MS = 240_000
SESSION_TTL = 3  # seconds; the shipped setting is 30 (.streamlit/config.toml)
MEMORY_BOUND = 100 * 2**20


def ten_images() -> list[tuple[str, bytes]]:
    photos = [
        skimage.data.chelsea(),
        skimage.data.coffee(),
        skimage.data.astronaut(),
        skimage.data.rocket(),
        *skimage.data.stereo_motorcycle()[:2],
    ]
    textures = [
        skimage.data.camera(),
        skimage.data.brick(),
        skimage.data.grass(),
        skimage.data.gravel(),
    ]
    files = [
        (f"photo-{k}.jpg", encode(image, "JPEG", quality=90)) for k, image in enumerate(photos)
    ]
    files += [(f"gray-{k}.png", encode(image, "PNG")) for k, image in enumerate(textures)]
    return files


def expected(files, **settings) -> list[str]:
    return [f"{value:.3f}" for value in imgsim.compare(files, **settings).ssim.ravel()]


HEATMAP_TEXTS = """expected => JSON.stringify([...document.querySelectorAll(
    '.js-plotly-plot .heatmaplayer text')].map(t => t.textContent)) === JSON.stringify(expected)"""


async def idle(page: Page) -> None:
    await page.wait_for_selector("[data-testid='stStatusWidget']", state="detached")


async def one_user(browser, url: str, files, first: list[str], second: list[str], third):
    context = await browser.new_context(viewport={"width": 1300, "height": 1600})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        await page.goto(url)
        await page.wait_for_selector(".js-plotly-plot .xtick text")
        await page.locator("section[data-testid='stSidebar'] input[type='file']").set_input_files(
            [{"name": n, "mimeType": "application/octet-stream", "buffer": d} for n, d in files]
        )
        await page.wait_for_function(HEATMAP_TEXTS, arg=first)
        await idle(page)
        for label in ("Width", "Height"):  # first change: the size
            field = page.get_by_label(label)
            await field.fill("256")
            await field.press("Enter")
            await idle(page)
        await page.wait_for_function(HEATMAP_TEXTS, arg=second)
        await page.locator("section[data-testid='stSidebar']").get_by_text("Grayscale").click()
        await page.wait_for_function(HEATMAP_TEXTS, arg=third)  # second change: colour
        assert await page.locator("[data-testid='stException']").count() == 0
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"load-{id(page)}.png", full_page=True)
        raise
    finally:
        await context.close()


async def sample_peak(server, peak: list[int]) -> None:
    while True:
        peak[0] = max(peak[0], resident_memory(server))
        await asyncio.sleep(0.2)


async def load_run(url, server, files, answers) -> dict[str, float]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await one_user(browser, url, files, *answers)  # warm-up: imports, first caches
            await asyncio.sleep(SESSION_TTL + 5)
            baseline = resident_memory(server)
            peak = [baseline]
            sampler = asyncio.create_task(sample_peak(server, peak))
            start = time.monotonic()
            await asyncio.gather(
                *(one_user(browser, url, files, *answers) for _ in range(SESSIONS))
            )
            elapsed = time.monotonic() - start
            sampler.cancel()
            # Closed sessions are dropped after the TTL, with their caches and uploads.
            await asyncio.sleep(SESSION_TTL + 5)
            after = resident_memory(server)
        finally:
            await browser.close()
    return {"baseline": baseline, "peak": peak[0], "after": after, "seconds": elapsed}


def test_five_users_at_once_get_the_right_scores_and_memory_comes_back():
    require_chromium()
    files = ten_images()
    answers = (
        expected(files),
        expected(files, size=(256, 256)),
        expected(files, size=(256, 256), grayscale=False),
    )
    with streamlit_process(f"--server.disconnectedSessionTTL={SESSION_TTL}") as (url, server):
        figures = asyncio.run(load_run(url, server, files, answers))
    mb = {key: value / 2**20 for key, value in figures.items() if key != "seconds"}
    print(
        f"\nload: {SESSIONS} sessions in {figures['seconds']:.1f} s; server memory "
        f"{mb['baseline']:.0f} MB before, {mb['peak']:.0f} MB at the peak, "
        f"{mb['after']:.0f} MB after the sessions closed"
    )
    assert figures["after"] - figures["baseline"] <= MEMORY_BOUND


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-s"])
