"""Many users at once: five visitors, each uploading ten images and changing settings.

Bounded in count and time, against 127.0.0.1 only. The server's memory after the
sessions close must come back to within `MEMORY_BOUND` of where it started
(measured figures are in the README's "Limits and safety").

The five sessions run in the session's one Chromium, in five browser contexts
driven in lockstep: each step is started in every session before any is waited
for, so the server works on all five at once.
"""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest
import skimage.data
from playwright.sync_api import Page

import imgsim
from tests.e2e.browser import ARTIFACTS, require_chromium, resident_memory, streamlit_process
from tests.helpers.images import encode
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.e2e

SESSIONS = 5
TIMEOUT_MS = 240_000
SESSION_TTL = 3  # seconds; the shipped setting is 30 (.streamlit/config.toml)
MEMORY_BOUND = 100 * 2**20
RELEASE_TIMEOUT = SESSION_TTL + 60  # seconds for closed sessions' memory to come back


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


@pytest.fixture(scope="session")
def load_server(tmp_path_factory):
    """A server of its own (sessions dropped 3 s after they close), whose memory is measured."""
    require_chromium()
    log = tmp_path_factory.mktemp("streamlit-load") / "server.log"
    with streamlit_process(f"--server.disconnectedSessionTTL={SESSION_TTL}", log=log) as served:
        yield served


def active_sessions(url: str) -> int:
    """The server's count of connected sessions, from its metrics endpoint."""
    with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("active_sessions "):
                return int(float(line.split()[1]))
    raise AssertionError(f"no active_sessions metric at {url}/_stcore/metrics")


def users(pages: list[Page], files, first, half, second, third) -> None:
    """Every step in every session, then a wait for each session's answer."""

    def each(step) -> None:
        for page in pages:
            step(page)

    def shows(texts):
        return lambda page: page.wait_for_function(HEATMAP_TEXTS, arg=texts)

    each(lambda page: page.wait_for_selector(".js-plotly-plot .xtick text"))  # the samples
    each(
        lambda page: page.locator(
            "section[data-testid='stSidebar'] input[type='file']"
        ).set_input_files(
            [{"name": n, "mimeType": "application/octet-stream", "buffer": d} for n, d in files]
        )
    )
    each(shows(first))
    each(lambda page: page.get_by_label("Width").fill("256"))  # first change: the size
    each(lambda page: page.get_by_label("Width").press("Enter"))
    each(shows(half))  # 256 x 512
    each(lambda page: page.get_by_label("Height").fill("256"))
    each(lambda page: page.get_by_label("Height").press("Enter"))
    each(shows(second))
    each(
        lambda page: (
            page.locator("section[data-testid='stSidebar']").get_by_text("Grayscale").click()
        )
    )
    each(shows(third))  # second change: colour
    for page in pages:
        assert page.locator("[data-testid='stException']").count() == 0


def visit(chromium, url: str, count: int, answers) -> None:
    """``count`` sessions at once go through `users`, then close."""
    contexts = [
        chromium.new_context(viewport={"width": 1300, "height": 1600}) for _ in range(count)
    ]
    pages = [context.new_page() for context in contexts]
    try:
        for page in pages:
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
        users(pages, *answers)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        for number, page in enumerate(pages):
            page.screenshot(path=ARTIFACTS / f"load-{number}.png", full_page=True)
        raise
    finally:
        for context in contexts:
            context.close()


def test_five_users_at_once_get_the_right_scores_and_memory_comes_back(chromium, load_server):
    url, server = load_server
    files = ten_images()
    answers = (
        files,
        expected(files),
        expected(files, size=(256, 512)),
        expected(files, size=(256, 256)),
        expected(files, size=(256, 256), grayscale=False),
    )
    visit(chromium, url, 1, answers)  # warm-up: imports, first caches
    wait_until(lambda: active_sessions(url) == 0, RELEASE_TIMEOUT, "the warm-up session closed")
    baseline = resident_memory(server)
    peak, stop = [baseline], threading.Event()

    def sample_peak() -> None:  # a sampling period, not a wait for anything
        while not stop.wait(0.2):
            peak[0] = max(peak[0], resident_memory(server))

    sampler = threading.Thread(target=sample_peak, daemon=True)
    sampler.start()
    start = time.monotonic()
    try:
        visit(chromium, url, SESSIONS, answers)
    finally:
        elapsed = time.monotonic() - start
        stop.set()
        sampler.join()
    wait_until(lambda: active_sessions(url) == 0, RELEASE_TIMEOUT, "the five sessions closed")
    # Closed sessions drop their caches and uploads (at once, or after the TTL).
    after = [resident_memory(server)]

    def released() -> bool:
        after[0] = resident_memory(server)
        return after[0] - baseline <= MEMORY_BOUND

    def mb(value: int) -> float:
        return value / 2**20

    try:
        wait_until(released, RELEASE_TIMEOUT, "the server's memory back within the bound")
    finally:
        print(
            f"\nload: {SESSIONS} sessions in {elapsed:.1f} s; server memory "
            f"{mb(baseline):.0f} MB before, {mb(peak[0]):.0f} MB at the peak, "
            f"{mb(after[0]):.0f} MB after the sessions closed"
        )
    assert after[0] - baseline <= MEMORY_BOUND
