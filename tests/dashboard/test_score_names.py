"""MS-SSIM is called MS-SSIM wherever a score is named: page, CLI tables, diff's scales."""

from __future__ import annotations

import json

import numpy as np
import pytest

import imgsim
from imgsim import data as samples
from imgsim import outputs as report
from imgsim.analyses._diff import inspect_pair
from imgsim.dashboard.inspector_view import clipped_notes, scales_sentence
from imgsim.metrics._engine import Scales
from imgsim.settings._settings import MS_SSIM_ZERO_NOTE, SSIM_CONVENTIONS, Settings, score_name
from tests.dashboard.pages import opened_with

MS = {"ssim": "ms-ssim", "w": "256", "h": "256"}


@pytest.mark.parametrize(
    ("convention", "name"), [("skimage", "SSIM"), ("gaussian", "SSIM"), ("ms-ssim", "MS-SSIM")]
)
def test_the_score_of_each_convention_has_one_name(convention, name):
    assert score_name(convention) == name
    settings = Settings(size=(200, 200), ssim_convention=convention)
    assert settings.score_name == name
    assert [settings.metric_name(key) for key in ("ssim", "mse", "PSNR")] == [name, "MSE", "PSNR"]


def test_an_unknown_convention_has_no_name():
    with pytest.raises(ValueError, match="ssim_convention must be one of"):
        score_name("msssim")
    assert len(SSIM_CONVENTIONS) == 3


def test_the_compare_view_names_ms_ssim_and_says_what_0_means():
    at = opened_with({"sample": samples.PHOTOS, **MS})
    assert not at.exception
    values = [metric.value for metric in at.metric]
    assert all(value.startswith("MS-SSIM ") for value in values), values
    (table,) = at.dataframe
    assert "MS-SSIM" in table.value.columns and "SSIM" not in table.value.columns
    captions = [caption.value for caption in at.caption]
    assert any(text.startswith("Sorted by MS-SSIM") for text in captions)
    # The Photos sample has unrelated pairs scoring exactly 0 at 256×256.
    assert (table.value["MS-SSIM"] == 0).any()
    assert captions.count(MS_SSIM_ZERO_NOTE) == 1
    toggle = at.button_group(key="heatmap_metric")
    assert [option.content for option in toggle.proto.options] == ["MS-SSIM", "MSE", "PSNR"]
    (chart,) = at.get("plotly_chart")
    data = json.loads(chart.proto.spec)["data"]
    assert data[0]["colorbar"]["title"]["text"] == "MS-SSIM"
    assert "<br>MS-SSIM %{customdata}" in data[1]["hovertemplate"]


def test_the_compare_view_keeps_ssim_and_no_note_for_other_conventions():
    at = opened_with({"sample": samples.PHOTOS, "w": "256", "h": "256"})
    assert not at.exception
    assert all(metric.value.startswith("SSIM ") for metric in at.metric)
    assert MS_SSIM_ZERO_NOTE not in [caption.value for caption in at.caption]


def test_the_sweep_view_names_ms_ssim():
    at = opened_with(
        {"sample": samples.PASTED_LOGO, "view": "Resize sweep", "sizes": "161, 256", **MS}
    )
    assert not at.exception
    texts = [markdown.value for markdown in at.markdown]
    assert any(text.startswith("**MS-SSIM against size**") for text in texts), texts
    chart = next(chart for chart in at.get("plotly_chart") if chart.key == "sweep_ssim")
    assert json.loads(chart.proto.spec)["layout"]["yaxis"]["title"]["text"] == "MS-SSIM"


def test_the_classify_view_names_ms_ssim():
    at = opened_with({"sample": samples.FACES, "view": "Classify", **MS, "w": "161", "h": "161"})
    assert not at.exception
    closeness = at.selectbox(key="classify_metric")
    assert closeness.format_func("ssim") == "MS-SSIM"
    accuracy = next(frame.value for frame in at.dataframe if "predictor" in frame.value.columns)
    assert accuracy["predictor"].tolist()[:3] == ["MS-SSIM", "MSE", "PSNR"]
    neighbours = next(frame.value for frame in at.dataframe if "nearest name" in frame.value)
    assert "MS-SSIM" in neighbours.columns
    confusion = next(chart for chart in at.get("plotly_chart") if chart.key == "confusion")
    assert (
        json.loads(confusion.proto.spec)["layout"]["title"]["text"] == "Confusion matrix (MS-SSIM)"
    )
    assert at.slider(key="duplicate_threshold").label == "Near-duplicates: MS-SSIM of at least"


def test_the_compare_table_explains_a_zero_once():
    files = samples.load_sample(samples.PHOTOS)
    result = imgsim.compare(files, size=(256, 256), ssim_convention="ms-ssim")
    assert (result.ssim == 0).any()
    assert report.to_table(result).count(MS_SSIM_ZERO_NOTE) == 1
    positive = imgsim.compare(files[:2], size=(256, 256), ssim_convention="ms-ssim")
    assert positive.ssim[0, 1] > 0
    assert MS_SSIM_ZERO_NOTE not in report.to_table(positive)


def scales_of(values: list[float], per_channel: list[list[float]] | None = None) -> Scales:
    channels = np.array(per_channel if per_channel is not None else [[v] for v in values])
    sizes = ((512, 512), (256, 256), (128, 128), (64, 64), (32, 32))
    return Scales(sizes=sizes, per_channel=channels, ms_ssim=0.0)


def test_the_scale_sentence_names_the_scale_that_lowers_ms_ssim_most():
    # Scale 1 has the lowest value, but at weight 0.0448 it takes off less than
    # scale 2's higher value at weight 0.2856 (the QA case).
    scales = scales_of([0.80, 0.95, 0.99, 0.995, 0.999])
    losses = 100 * (1 - np.exp(-scales.losses))
    assert losses[1] > losses[0] and scales.values[0] < scales.values[1]
    sentence = scales_sentence(scales)
    assert sentence.startswith(
        f"Scale 2 (256×256) lowers MS-SSIM most, by {losses[1]:.1f}% (value 0.9500, weight 0.2856)"
    )
    assert "Scale 1 has the lowest value (0.8000) but a weight of only 0.0448." in sentence
    assert "differ most" in sentence and "says the images differ" not in sentence


def test_the_scale_sentence_says_when_every_scale_agrees():
    assert scales_sentence(scales_of([1.0] * 5)).startswith("Every scale agrees")


def test_a_scale_clipped_at_0_is_said():
    assert clipped_notes(scales_of([0.9, 0.9, 0.9, 0.9, 0.9])) == []
    (note,) = clipped_notes(scales_of([0.9, -0.02, 0.9, 0.9, 0.9]))
    assert note.startswith("Scale 2's contrast-structure is negative (-0.0200): it is clipped")
    assert "so MS-SSIM is 0" in note
    coloured = [[0.9] * 3, [0.9] * 3, [0.9] * 3, [0.9] * 3, [0.5, -0.1, 0.2]]
    (note,) = clipped_notes(scales_of([], coloured))
    assert note.startswith("Scale 5's SSIM is negative in 1 of 3 channels (-0.1000)")
    assert "so those channels' MS-SSIM is 0" in note


def test_the_inspector_table_has_one_precision_and_says_clipping():
    # coffee and astronaut score MS-SSIM 0 at 256×256: a scale is clipped.
    pair = {"a": "coffee.png", "b": "astronaut.png"}
    at = opened_with({"sample": samples.PHOTOS, "view": "Pair inspector", **MS, **pair})
    assert not at.exception
    (table,) = [frame for frame in at.dataframe if "measure" in frame.value.columns]
    config = json.loads(table.proto.columns)["lowers MS-SSIM by"]
    assert config["type_config"]["format"] == "%.1f%%"
    files = dict(samples.load_sample(samples.PHOTOS))
    expected = inspect_pair(
        ("coffee.png", files["coffee.png"]),
        ("astronaut.png", files["astronaut.png"]),
        Settings(size=(256, 256), ssim_convention="ms-ssim"),
    ).scales
    assert expected.ms_ssim == 0
    np.testing.assert_allclose(
        table.value["lowers MS-SSIM by"], 100 * (1 - np.exp(-expected.losses))
    )
    captions = [caption.value for caption in at.caption]
    assert scales_sentence(expected) in captions
    notes = clipped_notes(expected)
    assert notes and all(note in captions for note in notes)
