"""Multi-scale SSIM: equal to a direct implementation of TF's formula, through the engine."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import imgsim
from imgsim import data as samples
from imgsim.analyses._classify import classify
from imgsim.analyses._sweep import sweep
from imgsim.metrics._engine import ms_ssim_scales, score_all_pairs, score_block_pairs, ssim_map
from imgsim.metrics._msssim import WEIGHTS
from imgsim.settings._settings import MS_SSIM_MIN_SIDE, SSIM_CONVENTIONS, Settings
from imgsim.settings._work import scale_sizes
from tests.unit.metrics.reference_msssim import reference_ms_ssim, reference_scales

TOLERANCE = 1e-6


def photo_pair(shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random image and a noisy, shifted copy (differences at several scales)."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 3)
    base = cv2.normalize(base, None, 0, 255, cv2.NORM_MINMAX)
    noisy = np.clip(np.roll(base, 2, axis=1) + rng.normal(0, 12, shape), 0, 255)
    return base, noisy.astype(np.uint8)


SHAPES = [(200, 161), (256, 256), (217, 300), (200, 161, 3), (217, 300, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: "x".join(map(str, shape)))
def test_ms_ssim_equals_the_reference(shape):
    a, b = photo_pair(shape, seed=sum(shape))
    third = cv2.GaussianBlur(a, (0, 0), 2)
    scores = score_all_pairs([a, b, third], "ms-ssim")
    for i, j, x, y in ((0, 1, a, b), (0, 2, a, third), (1, 2, b, third)):
        expected = reference_ms_ssim(x, y)
        assert abs(scores.ssim[i, j] - expected) <= TOLERANCE, (i, j, scores.ssim[i, j], expected)
        assert 0.0 < expected < 1.0  # a real comparison, not a degenerate 0 or 1


@pytest.mark.parametrize("shape", [(200, 161), (217, 300)])
def test_each_scale_equals_the_reference(shape):
    a, b = photo_pair(shape, seed=7)
    scales = ms_ssim_scales(a, b)
    np.testing.assert_allclose(scales.per_channel[:, 0], reference_scales(a, b), atol=TOLERANCE)
    height, width = shape
    assert scales.sizes == tuple(scale_sizes(width, height))


def test_mse_and_psnr_stay_at_full_resolution():
    a, b = photo_pair((217, 300, 3), seed=3)
    multiscale = score_all_pairs([a, b], "ms-ssim")
    single = score_all_pairs([a, b], "gaussian")
    assert multiscale.mse[0, 1] == single.mse[0, 1]
    assert multiscale.mse[0, 1] == np.mean((a.astype(float) - b) ** 2)
    assert multiscale.psnr[0, 1] == single.psnr[0, 1]


@pytest.mark.parametrize("shape", [(161, 161), (300, 217, 3)])
def test_ms_ssim_of_an_image_with_itself_is_one(shape):
    a, _ = photo_pair(shape, seed=1)
    scores = score_all_pairs([a, a.copy()], "ms-ssim")
    assert scores.ssim[0, 1] == pytest.approx(1.0, abs=1e-7)


def test_ms_ssim_is_symmetric_and_in_zero_one():
    rng = np.random.default_rng(5)
    a, b = photo_pair((180, 190, 3), seed=5)
    noise = rng.integers(0, 256, a.shape, dtype=np.uint8)
    inverted = 255 - a  # negative structure: cs < 0 at scales, clipped at 0
    images = [a, b, noise, inverted]
    scores = score_all_pairs(images, "ms-ssim")
    np.testing.assert_array_equal(scores.ssim, scores.ssim.T)
    assert np.all((scores.ssim >= 0) & (scores.ssim <= 1))
    assert scores.ssim[0, 3] == pytest.approx(reference_ms_ssim(a, inverted), abs=TOLERANCE)
    swapped = score_all_pairs([b, a], "ms-ssim")
    assert swapped.ssim[0, 1] == scores.ssim[0, 1]


def test_the_per_scale_values_give_the_all_pairs_value():
    a, b = photo_pair((240, 200, 3), seed=11)
    scales = ms_ssim_scales(a, b)
    assert scales.ms_ssim == score_all_pairs([a, b], "ms-ssim").ssim[0, 1]
    per_channel = np.prod(np.maximum(scales.per_channel, 0) ** WEIGHTS[:, None], axis=0)
    assert scales.ms_ssim == pytest.approx(per_channel.mean(), abs=1e-12)
    gray_a, gray_b = a[..., 0], b[..., 0]
    gray = ms_ssim_scales(gray_a, gray_b)
    assert np.exp(-gray.losses.sum()) == pytest.approx(gray.ms_ssim, rel=1e-12)


def test_block_pairs_equal_all_pairs():
    images = [photo_pair((170, 180), seed=seed)[seed % 2] for seed in range(5)]
    whole = score_all_pairs(images, "ms-ssim")
    block = score_block_pairs(images[:2], images[2:], "ms-ssim")
    np.testing.assert_array_equal(block.ssim, whole.ssim[:2, 2:])
    np.testing.assert_array_equal(block.mse, whole.mse[:2, 2:])


def test_the_weights_are_the_published_ones_and_sum_to_one():
    assert WEIGHTS.tolist() == [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    assert WEIGHTS.sum() == pytest.approx(1.0, abs=1e-4)  # as published: 1.0001


def test_the_coarsest_scale_holds_a_window_from_161_pixels():
    assert MS_SSIM_MIN_SIDE == 161
    assert scale_sizes(161, 161)[-1] == (11, 11)
    assert min(scale_sizes(160, 160)[-1]) == 10  # one less and the window no longer fits


@pytest.mark.parametrize("size", [(160, 300), (300, 160), (64, 64)])
def test_sizes_of_160_or_less_are_refused_naming_the_minimum(size):
    with pytest.raises(ValueError, match="at least 161") as error:
        Settings(size=size, ssim_convention="ms-ssim")
    assert "MS-SSIM" in str(error.value)
    image = np.zeros(size[::-1], np.uint8)
    with pytest.raises(ValueError, match="at least 161x161"):
        score_all_pairs([image, image], "ms-ssim")


def test_ms_ssim_is_one_of_the_conventions():
    assert "ms-ssim" in SSIM_CONVENTIONS
    settings = Settings(size=(200, 200), ssim_convention="ms-ssim")
    assert settings.to_dict()["ssim"] == "ms-ssim"
    assert settings.min_side == 161 and settings.window == 11


def test_the_map_is_the_finest_scales_ssim_map():
    a, b = photo_pair((170, 170), seed=2)
    np.testing.assert_array_equal(ssim_map(a, b, "ms-ssim"), ssim_map(a, b, "gaussian"))


def test_compare_sweep_and_classify_run_with_ms_ssim():
    pairs = [photo_pair((220, 240, 3), seed=seed) for seed in range(3)]
    images = [("a.png", pairs[0][0]), ("b.png", pairs[0][1]), ("c.png", pairs[1][0])]
    settings = Settings(size=(180, 170), grayscale=False, ssim_convention="ms-ssim")
    result = imgsim.compare(images, settings)
    prepared = [
        imgsim.prepare(imgsim.from_array(pixels, name), settings) for name, pixels in images
    ]
    np.testing.assert_array_equal(result.ssim, score_all_pairs(prepared, "ms-ssim").ssim)
    swept = sweep(images, [(161, 161), (200, 200)], settings)
    np.testing.assert_array_equal(
        swept.ssim[1], imgsim.compare(images, settings, size=(200, 200)).ssim
    )
    with pytest.raises(ValueError, match="at least 161"):
        sweep(images, [(64, 64), (200, 200)], settings)
    classified = classify(result, ["x", "x", "y"])
    assert classified.comparison.settings.ssim_convention == "ms-ssim"


def test_work_and_time_count_every_scale():
    import imgsim.timing._model as cost
    from imgsim.settings._limits import LimitError, Limits

    single = Settings(size=(512, 512), ssim_convention="gaussian")
    multi = Settings(size=(512, 512), ssim_convention="ms-ssim")
    areas = 512**2 + 256**2 + 128**2 + 64**2 + 32**2
    assert imgsim.settings.scored_values(multi) == areas  # about 4/3 of the full size's
    assert imgsim.settings.scored_values(single) == 512**2
    extra = imgsim.settings.work(10, multi) - imgsim.settings.work(10, single)
    assert extra == (areas - 512**2) * 45
    # A request the Gaussian convention may make can be over the limit with MS-SSIM.
    limits = Limits(max_work=imgsim.settings.work(10, single))
    limits.check(10, single)
    with pytest.raises(LimitError, match="values of work"):
        limits.check(10, multi)
    model = cost.TimeModel(probe=lambda: cost.FALLBACK_RATES)
    rates = cost.FALLBACK_RATES
    expected = cost.SCALES * rates.engine_call + areas * (
        45 * rates.pair_value * cost.MS_SSIM_PAIR_COST
        + 10 * rates.image_value * cost.MS_SSIM_IMAGE_COST
    )
    assert model.engine_seconds(10, multi) == pytest.approx(expected)
    assert model.engine_seconds(10, multi) > model.engine_seconds(10, single)
    assert model.pair_seconds(multi) == pytest.approx(
        areas * rates.pair_value * cost.TILE_PAIR_COST["ms-ssim"]
    )


def test_a_collections_ms_ssim_and_gaussian_pairs_cost_more_per_value_than_skimages():
    """Measured in `neighbours` tiles (cost.TILE_PAIR_COST): with the default's rate
    the time left of `neighbours --ssim ms-ssim` was about 2 to 3 times too low."""
    import imgsim.timing._model as cost

    model = cost.TimeModel(probe=lambda: cost.FALLBACK_RATES)

    def per_value(convention: str) -> float:
        settings = Settings(size=(300, 300), ssim_convention=convention)
        return model.pair_seconds(settings) / imgsim.settings.scored_values(settings)

    assert per_value("ms-ssim") == pytest.approx(1.65 * per_value("skimage"))
    assert per_value("gaussian") == pytest.approx(1.6 * per_value("skimage"))


def test_collections_score_ms_ssim_as_compare(tmp_path):
    from imgsim.collection._search import neighbours
    from tests.helpers.noisy_photos import write_collection
    from tests.unit.collection.test_neighbours import assert_matches_dense

    paths = write_collection(tmp_path, 6)
    settings = {"size": (170, 161), "ssim_convention": "ms-ssim"}
    dense = imgsim.compare(paths, **settings)
    result = neighbours(paths, top=3, block_size=2, **settings)
    ssim = dense.ssim.copy()
    np.fill_diagonal(ssim, -np.inf)  # an image is never its own match
    assert_matches_dense(result, ssim, dense.mse, dense.psnr, dense.names)
    crossed = neighbours(paths[:2], against=paths[2:], top=2, **settings)
    assert_matches_dense(
        crossed, dense.ssim[:2, 2:], dense.mse[:2, 2:], dense.psnr[:2, 2:], dense.names[2:]
    )


@pytest.mark.parametrize(
    ("name", "scales"),
    [
        ("mean-shift.png", {5}),
        ("contrast-stretch.png", {5}),
        ("impulse-noise.png", {1, 2}),
        ("blur.png", {1, 2}),
        ("jpeg.jpg", {1, 2}),
    ],
)
def test_the_scale_that_says_images_differ_matches_the_kind_of_change(name, scales):
    # The equal-MSE sample: tone changes show at the coarsest scale, lost detail at fine ones.
    settings = Settings(ssim_convention="ms-ssim")
    loaded = {
        image.name: image
        for image in map(imgsim.load_image, samples.load_sample(samples.EQUAL_MSE))
    }
    reference = imgsim.prepare(loaded["reference.png"], settings)
    changed = imgsim.prepare(loaded[name], settings)
    result = ms_ssim_scales(reference, changed)
    assert int(np.argmax(result.losses)) + 1 in scales
