"""Pair inspector: the SSIM map finds the changed objects, and nothing else."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import imgsim
from imgsim import data as samples
from imgsim.analyses._diff import (
    draw_boxes,
    find_regions,
    inspect_pair,
    merge_boxes,
    side_by_side,
    with_thresholds,
)
from tests.helpers.images import noise_image


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


@pytest.mark.parametrize("convention", ["skimage", "ms-ssim"])
def test_a_photo_against_its_own_grayscale_resave_shows_no_difference(chelsea, convention):
    """Otsu alone split this near-flat map at 0 and called 99.7% of the pixels changed."""
    gray = cv2.cvtColor(cv2.cvtColor(chelsea, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    result = inspect_pair(
        ("cat.png", chelsea), ("cat-gray.png", gray), imgsim.Settings(ssim_convention=convention)
    )
    assert result.ssim > 0.99
    assert result.threshold >= 0.01
    assert result.regions == ()
    assert result.changed_fraction < 0.01


def test_a_threshold_given_by_hand_is_used_below_otsus_floor(spot):
    threshold, changed, _regions = find_regions(spot.ssim_map, threshold=0.001)
    assert threshold == 0.001
    assert changed.mean() > spot.changed_fraction


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


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        ([(10, 10, 50, 50), (20, 20, 10, 10)], [(10, 10, 50, 50)]),  # nested
        ([(10, 10, 40, 40), (30, 30, 40, 40)], [(10, 10, 60, 60)]),  # overlapping
        ([(10, 10, 40, 40), (55, 10, 40, 40)], [(10, 10, 85, 40)]),  # gap 5 << 40
        ([(10, 10, 40, 40), (120, 10, 40, 40)], [(10, 10, 40, 40), (120, 10, 40, 40)]),
        ([(0, 0, 1, 1), (3, 3, 1, 1)], [(0, 0, 1, 1), (3, 3, 1, 1)]),  # specks stay apart
    ],
)
def test_boxes_merge_when_nested_overlapping_or_close_for_their_size(boxes, expected):
    assert sorted(merge_boxes(boxes, (200, 200))) == sorted(expected)


def test_merging_repeats_until_merged_boxes_reach_no_other():
    # The first two merge into a box that then overlaps the third.
    boxes = [(0, 0, 40, 40), (42, 0, 40, 40), (60, 30, 30, 30)]
    assert merge_boxes(boxes, (100, 100)) == [(0, 0, 90, 60)]


def test_merging_thousands_of_boxes_keeps_every_pixel_covered():
    rng = np.random.default_rng(3)
    boxes = [(int(x), int(y), 2, 2) for x, y in rng.integers(0, 298, (3000, 2))]
    merged = merge_boxes(boxes, (300, 300))
    covered = np.zeros((300, 300), bool)
    for x, y, width, height in merged:
        covered[y : y + height, x : x + width] = True
    assert all(covered[y : y + 2, x : x + 2].all() for x, y, _, _ in boxes)
    assert len(merged) < len(boxes)


def test_a_negative_gap_is_refused():
    with pytest.raises(ValueError, match="gap must be at least 0"):
        merge_boxes([(0, 0, 1, 1)], (5, 5), gap=-1)


@pytest.fixture(scope="module")
def logo():
    return samples.load_sample(samples.PASTED_LOGO)


@pytest.mark.parametrize("size", [(512, 512), (300, 300), (1024, 1024), (128, 128)])
def test_a_large_pasted_logo_is_one_region_at_any_size(logo, size):
    result = inspect_pair(*logo, imgsim.Settings(size=size))
    (region,) = result.regions
    x, y, width, height = samples.PASTED_REGION
    scale = size[0] / 300
    assert iou((x * scale, y * scale, width * scale, height * scale), region) >= 0.75
    assert result.pattern == "local"


def test_the_pasted_logo_breaks_into_nested_contours_before_merging(logo):
    # What the merge fixes: several boxes, the smaller inside the arc's.
    result = inspect_pair(*logo, imgsim.Settings(size=(512, 512)))
    changed = result.changed.astype(np.uint8)
    contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    large = [box for box in map(cv2.boundingRect, contours) if box[2] * box[3] > 0.0005 * 512**2]
    assert len(large) >= 3


def test_the_spot_the_difference_changes_are_local(spot):
    assert spot.pattern == "local"


@pytest.mark.parametrize(
    "distortion", ["mean-shift.png", "contrast-stretch.png", "impulse-noise.png", "blur.png"]
)
def test_global_distortions_are_spread_whatever_their_share_of_pixels(distortion):
    files = dict(samples.load_sample(samples.EQUAL_MSE))
    reference = ("reference.png", files["reference.png"])
    result = inspect_pair(reference, (distortion, files[distortion]))
    assert result.pattern == "spread"


def test_identical_images_show_no_pattern(astronaut):
    assert inspect_pair(astronaut, astronaut.copy()).pattern == "none"


def test_rethresholding_keeps_the_map_and_changes_only_the_regions(spot):
    strict = with_thresholds(spot, threshold=1.0)
    assert strict.ssim_map is spot.ssim_map and strict.ssim == spot.ssim
    assert strict.regions == () and strict.changed_fraction == 0.0
    again = with_thresholds(strict)
    assert again.regions == spot.regions and again.threshold == spot.threshold
