"""Pair inspector: the SSIM map finds the changed objects, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

import imgsim
from imgsim import samples
from imgsim.differences import draw_boxes, find_regions, inspect_pair, side_by_side

from .conftest import noise_image


def iou(box, region) -> float:
    x, y, width, height = box
    left, top = max(x, region.x), max(y, region.y)
    right = min(x + width, region.x + region.width)
    bottom = min(y + height, region.y + region.height)
    overlap = max(0, right - left) * max(0, bottom - top)
    return overlap / (width * height + region.area - overlap)


@pytest.fixture(scope="module")
def spot():
    original, changed = samples.load_sample(samples.SPOT_THE_DIFFERENCE)
    return inspect_pair(original, changed)


def test_every_changed_object_is_found(spot):
    for box in samples.CHANGED_REGIONS:
        best = max((iou(box, region) for region in spot.regions), default=0.0)
        assert best >= 0.5, f"changed region {box} found with IoU {best:.2f}"


def test_at_most_two_spurious_boxes(spot):
    spurious = [
        region
        for region in spot.regions
        if max(iou(box, region) for box in samples.CHANGED_REGIONS) < 0.5
    ]
    assert len(spurious) <= 2


def test_identical_images_show_no_difference(astronaut):
    result = inspect_pair(astronaut, astronaut.copy())
    assert result.regions == ()
    assert result.changed_fraction == 0.0
    assert result.ssim == 1.0


@pytest.mark.parametrize("grayscale", [True, False])
@pytest.mark.parametrize("convention", ["skimage", "gaussian"])
def test_map_mean_is_the_pairs_ssim(chelsea, coffee, grayscale, convention):
    settings = imgsim.Settings(size=(160, 120), grayscale=grayscale, ssim_convention=convention)
    result = inspect_pair(chelsea, coffee, settings)
    expected = imgsim.compare([chelsea, coffee], settings)
    pad = settings.window // 2
    assert result.ssim_map.shape == (120, 160)
    assert result.ssim_map[pad:-pad, pad:-pad].mean() == pytest.approx(
        expected.ssim[0, 1], abs=1e-9
    )
    assert result.ssim == pytest.approx(expected.ssim[0, 1], abs=1e-9)
    assert result.mse == expected.mse[0, 1]


def test_manual_threshold_and_minimum_area_control_the_boxes(spot):
    _, changed, none = find_regions(spot.ssim_map, threshold=1.0)
    assert none == [] and not changed.any()
    _, _, large_only = find_regions(spot.ssim_map, min_area=0.02)
    assert 0 < len(large_only) < len(spot.regions)
    assert all(region.area >= 0.02 * spot.ssim_map.size for region in large_only)


@pytest.mark.parametrize(
    ("options", "message"), [({"threshold": 1.5}, "threshold"), ({"min_area": 2}, "min_area")]
)
def test_thresholds_out_of_range_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        find_regions(np.ones((10, 10)), **options)


def test_an_unreadable_file_is_named():
    with pytest.raises(ValueError, match=r"^broken\.png: "):
        inspect_pair(("broken.png", b"junk"), noise_image((20, 20), 1))


def test_boxes_are_drawn_in_red_on_a_copy(spot):
    drawn = draw_boxes(spot.a, spot.regions)
    region = spot.regions[0]
    assert drawn.shape == (*spot.a.shape, 3)
    assert tuple(drawn[region.y, region.x + region.width // 2]) == (230, 40, 40)
    assert spot.a.ndim == 2  # the inspected image itself is untouched
    assert side_by_side(spot).shape == (512, 512 * 2 + 8, 3)
