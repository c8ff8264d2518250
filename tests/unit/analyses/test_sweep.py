"""Resize sweep: each size equals compare there; native sizes; rank stability."""

from __future__ import annotations

import numpy as np
import pytest

import imgsim
from imgsim import data as samples
from imgsim.analyses._sweep import Sweep, parse_sizes, settings_at, size_entries, sweep, sweep_sizes
from imgsim.images._sources import ImageInfo
from imgsim.settings._limits import DEFAULT_MAX_SIDE as MAX_SIDE
from tests.helpers.images import noise_image


@pytest.fixture(scope="module")
def photos():
    return samples.load_sample(samples.PHOTOS)[:4]


@pytest.mark.parametrize("aspect_of", [None, (400, 300)])
def test_each_size_equals_compare_at_that_size(photos, aspect_of):
    sizes = sweep_sizes([32, 64, 128], aspect_of=aspect_of)
    settings = imgsim.Settings(grayscale=False, fit="pad")
    result = sweep(photos, sizes, settings)
    assert result.sizes == tuple(sizes)
    for index, size in enumerate(sizes):
        expected = imgsim.compare(photos, settings, size=size)
        np.testing.assert_array_equal(result.ssim[index], expected.ssim)
        np.testing.assert_array_equal(result.mse[index], expected.mse)
    assert result.names == expected.names


def test_sizes_keep_an_aspect_when_asked():
    assert sweep_sizes([64, 128]) == [(64, 64), (128, 128)]
    assert sweep_sizes([64, 128], aspect_of=(400, 300)) == [(64, 48), (128, 96)]


def sweep_of(images: list[tuple[int, int]], sizes, ssim=None) -> Sweep:
    count = len(images)
    scores = np.ones((len(sizes), count, count)) if ssim is None else np.asarray(ssim)
    infos = tuple(ImageInfo(f"image-{k}", w, h) for k, (w, h) in enumerate(images))
    return Sweep(imgsim.Settings(), tuple(sizes), infos, (), scores, scores)


def test_native_size_is_the_smaller_images_and_upsampling_starts_at_the_larger():
    square = sweep_of([(400, 300), (200, 100)], [(64, 64), (512, 512)])
    assert square.native_width(0) == 400 and square.native_width(1) == 200
    assert square.pair_native_width(0, 1) == 200
    assert square.upsampled_from() == 400
    wide = sweep_of([(400, 300), (200, 100)], [(64, 32), (512, 256)])
    # A 2:1 target upsamples the 400x300 image in both directions from width 600.
    assert wide.native_width(0) == 600 and wide.native_width(1) == 200


def pairs_matrix(values_per_size: list[list[float]]) -> np.ndarray:
    """(sizes, 3, 3) symmetric matrices from the three pairs' scores at each size."""
    out = []
    for a, b, c in values_per_size:
        out.append([[1, a, b], [a, 1, c], [b, c, 1]])
    return np.array(out, dtype=float)


def test_kendall_tau_is_one_for_an_unchanged_order():
    scores = pairs_matrix([[0.2, 0.5, 0.8], [0.3, 0.6, 0.9], [0.5, 0.7, 0.95]])
    result = sweep_of([(50, 50)] * 3, [(32, 32), (64, 64), (128, 128)], scores)
    assert result.kendall_tau() == [1.0, 1.0, 1.0]
    assert result.verdict() == (
        "Pair order is stable (Kendall's τ ≥ 0.9 against the largest size, 128) from 32 to 128."
    )
    assert result.stable_span() == (0, 2)


def test_kendall_tau_is_minus_one_for_a_reversed_order():
    scores = pairs_matrix([[0.8, 0.5, 0.2], [0.2, 0.5, 0.8]])
    result = sweep_of([(50, 50)] * 3, [(32, 32), (64, 64)], scores)
    assert result.kendall_tau() == [-1.0, 1.0]
    assert result.verdict() == (
        "Pair order is not stable: no other size keeps it (Kendall's τ ≥ 0.9 against the "
        "largest size, 64); it changes most at 32 (τ = -1.00)."
    )
    assert result.stable_span() == (1, 1)


@pytest.mark.parametrize(
    ("sizes", "reference"),
    [
        ([(32, 32), (64, 64), (128, 128)], 2),
        ([(128, 128), (32, 32), (64, 64)], 0),  # in any order: the largest
        ([(64, 48), (128, 96), (96, 72)], 1),
    ],
)
def test_the_verdict_is_always_against_the_largest_size(sizes, reference):
    """One definition: the CLI and the page judge the same sweep the same way."""
    scores = pairs_matrix([[0.2, 0.5, 0.8], [0.8, 0.5, 0.2], [0.5, 0.2, 0.8]])
    result = sweep_of([(50, 50)] * 3, sizes, scores)
    assert result.reference_index == reference
    assert result.kendall_tau()[reference] == 1.0
    width, height = sizes[reference]
    label = str(width) if width == height else f"{width}×{height}"
    assert f"against the largest size, {label})" in result.verdict()


def test_kendall_tau_is_undefined_with_a_single_pair():
    result = sweep_of([(50, 50)] * 2, [(32, 32), (64, 64)])
    assert result.kendall_tau() == [None, None]
    assert result.stable_span() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64,128, 256", [(64, 64), (128, 128), (256, 256)]),
        ("64x48,128X96", [(64, 48), (128, 96)]),
        ("512,", [(512, 512)]),
    ],
)
def test_sizes_are_parsed_from_text(text, expected):
    assert parse_sizes(text) == expected


@pytest.mark.parametrize("text", ["", "64,big", "64x", "-5", "1.5"])
def test_text_that_is_not_sizes_says_how_to_write_them(text):
    with pytest.raises(ValueError, match="64,128,256"):
        parse_sizes(text)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([], "at least one size"),
        ([(MAX_SIDE + 1, 64)], "larger than 10000"),
        ([(6, 6)], "smaller than the 7x7 SSIM window"),
    ],
)
def test_sizes_out_of_range_are_refused(sizes, message):
    images = [noise_image((20, 20), seed) for seed in range(2)]
    with pytest.raises(ValueError, match=message):
        sweep(images, sizes)


def test_sweep_progress_reaches_the_end():
    reports = []
    images = [noise_image((40, 30), seed) for seed in range(3)]
    sweep(images, [(16, 16), (32, 32)], progress=reports.append)
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert reports[-1].message.startswith("32: compared 3 pairs")


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((0, 0), "smaller than the 7x7 SSIM window"),
        ((64, 3), "smaller than the 7x7 SSIM window"),
        ((99999, 64), "larger than 10000 on a side"),
    ],
)
def test_each_size_is_checked_with_the_settings_rules(size, message):
    with pytest.raises(ValueError, match=message):
        settings_at(imgsim.Settings(), size)


def test_a_checked_size_keeps_every_other_setting():
    base = imgsim.Settings(grayscale=False, ssim_convention="gaussian")
    assert settings_at(base, (64, 32)) == imgsim.Settings(
        (64, 32), False, ssim_convention="gaussian"
    )
    with pytest.raises(ValueError, match="11x11"):
        settings_at(base, (8, 64))


@pytest.mark.parametrize("text", ["64 128", "64, 128", "64,128", "  64\t128 ,", "64x64 128"])
def test_sizes_are_separated_by_commas_or_whitespace(text):
    assert parse_sizes(text) == [(64, 64), (128, 128)]


@pytest.mark.parametrize("text", ["64,64", "64 64x64"])
def test_parsed_sizes_drop_duplicates(text):
    assert parse_sizes(text) == [(64, 64)]


def test_a_sweep_compares_each_size_once_in_the_order_given():
    images = [noise_image((20, 20), seed) for seed in range(3)]
    result = sweep(images, [(16, 16), (8, 8), (16, 16)])
    assert result.sizes == ((16, 16), (8, 8))
    assert result.ssim.shape[0] == 2


@pytest.mark.parametrize(
    ("text", "entries"),
    [("64, 128 256x128", ["64", "128", "256x128"]), (" ,\n", []), ("64,,big", ["64", "big"])],
)
def test_size_entries_split_at_commas_and_whitespace(text, entries):
    assert size_entries(text) == entries
