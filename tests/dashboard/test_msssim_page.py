"""MS-SSIM on the page: the inspector scale by scale, and sizes below 161 refused."""

from __future__ import annotations

import numpy as np

from imgsim import data as samples
from imgsim.analyses._diff import inspect_pair
from imgsim.settings._settings import Settings
from tests.dashboard.pages import opened_with


def test_the_inspector_shows_ms_ssim_scale_by_scale():
    at = opened_with({"sample": samples.EQUAL_MSE, "view": "Pair inspector", "ssim": "ms-ssim"})
    assert not at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    first, second = samples.load_sample(samples.EQUAL_MSE)[:2]
    expected = inspect_pair(first, second, Settings(ssim_convention="ms-ssim"))
    assert metrics["MS-SSIM"] == f"{expected.ssim:.4f}"
    table = next(frame.value for frame in at.dataframe if "measure" in frame.value.columns)
    assert table["scale"].tolist() == [1, 2, 3, 4, 5]
    assert table["size"].tolist() == ["512×512", "256×256", "128×128", "64×64", "32×32"]
    np.testing.assert_allclose(table["value"], expected.scales.values)
    worst = int(np.argmax(expected.scales.losses)) + 1
    assert any(f"Scale {worst} (" in caption.value for caption in at.caption)
    assert any("MS-SSIM has no single map" in caption.value for caption in at.caption)
    # Its terms are those of one scale, and the sentence above them says which.
    assert metrics["Contrast"] == f"{expected.terms.contrast:.4f}"
    assert any(caption.value.startswith("At scale 1 (") for caption in at.caption)


def test_the_page_refuses_ms_ssim_below_161_as_other_size_errors():
    at = opened_with({"sample": samples.PHOTOS, "ssim": "ms-ssim", "w": "64", "h": "64"})
    assert not at.exception
    assert any("at least 161" in error.value for error in at.error)
