"""Shared helpers: images made on the fly from numpy, Pillow and skimage.data."""

from __future__ import annotations

import io

import numpy as np
import pytest
import skimage.data
from PIL import Image


def encode(image: np.ndarray | Image.Image, format_name: str, **options) -> bytes:
    """Encode an array (RGB order) or a Pillow image to file bytes."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, format_name, **options)
    return buffer.getvalue()


def noise_image(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    """A 451 x 300 RGB photo (scikit-image's cat)."""
    return skimage.data.chelsea()


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """A 600 x 400 RGB photo."""
    return skimage.data.coffee()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A 512 x 512 RGB photo."""
    return skimage.data.astronaut()


@pytest.fixture(scope="module")
def browser(server_url):
    """Chromium for a module's browser tests; the module's ``server_url`` fixture
    starts the server it needs."""
    from .browser import launched_chromium

    with launched_chromium() as browser:
        yield browser


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see failures."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
