"""SSIM's three terms: luminance, contrast and structure (`imgsim.terms`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data
from skimage.metrics import structural_similarity

import imgsim
from imgsim import data as samples
from imgsim.images._prepare import prepare
from imgsim.images._sources import load_image
from imgsim.metrics._terms import (
    TERM_NAMES,
    TERM_WINDOWS,
    Terms,
    all_pair_terms,
    dominant_difference,
    pair_terms,
    term_maps,
)
from imgsim.settings._settings import SSIM_WINDOW, Settings
from tests.helpers.images import noise_image

CONVENTIONS = ("skimage", "gaussian")
SKIMAGE_OPTIONS = {
    "skimage": {},
    "gaussian": {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False},
}
# l·c·s against scikit-image's map: both are float64 filters of the same
# moments; measured about 1e-11 apart (different filter implementations).
MAP_TOLERANCE = 1e-9


def camera(side: int = 128) -> np.ndarray:
    return cv2.resize(skimage.data.camera(), (side, side), interpolation=cv2.INTER_AREA)


def astronaut(side: int = 96) -> np.ndarray:
    return cv2.resize(skimage.data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)


def distortions(image: np.ndarray) -> dict[str, np.ndarray]:
    mean = image.mean()
    return {
        "mean shift": np.clip(image.astype(int) + 30, 0, 255).astype(np.uint8),
        "contrast stretch": np.clip(np.rint(mean + (image - mean) * 1.3), 0, 255).astype(np.uint8),
        "blur": cv2.GaussianBlur(image, (0, 0), 2),
        "noise": np.clip(image + noise_image(image.shape, 1) // 4 - 32, 0, 255).astype(np.uint8),
        "other image": noise_image(image.shape, 7),
    }


PAIRS = [
    (kind, colour, convention)
    for kind in ("mean shift", "contrast stretch", "blur", "noise", "other image")
    for colour in (False, True)
    for convention in CONVENTIONS
]


def pair_of(kind: str, colour: bool) -> tuple[np.ndarray, np.ndarray]:
    image = astronaut() if colour else camera()
    return image, distortions(image)[kind]


@pytest.mark.parametrize(("kind", "colour", "convention"), PAIRS)
def test_luminance_and_contrast_lie_in_0_1_and_structure_in_minus_1_1(kind, colour, convention):
    maps = term_maps(*pair_of(kind, colour), convention)
    for name in ("luminance", "contrast"):
        values = getattr(maps, name)
        assert values.min() >= 0 and values.max() <= 1 + 1e-12, name
    assert maps.structure.min() >= -1 - 1e-12 and maps.structure.max() <= 1 + 1e-12


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_every_term_is_1_for_identical_images(colour, convention):
    image = astronaut() if colour else camera()
    maps = term_maps(image, image.copy(), convention)
    for name in TERM_NAMES:
        np.testing.assert_allclose(getattr(maps, name), 1.0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize(("kind", "colour", "convention"), PAIRS)
def test_product_of_the_terms_is_scikit_images_ssim_map(kind, colour, convention):
    a, b = pair_of(kind, colour)
    axis = 2 if colour else None
    score, full = structural_similarity(
        a, b, data_range=255, full=True, channel_axis=axis, **SKIMAGE_OPTIONS[convention]
    )
    maps = term_maps(a, b, convention)
    product = maps.luminance * maps.contrast * maps.structure
    np.testing.assert_allclose(product, full, rtol=0, atol=MAP_TOLERANCE)
    pad = SSIM_WINDOW[convention] // 2
    assert product[pad:-pad, pad:-pad].mean() == pytest.approx(score, abs=MAP_TOLERANCE)
    # ...and so it is the engine's SSIM, within the engine's bound.
    assert imgsim.ssim(a, b, convention) == pytest.approx(score, abs=1e-6)


@pytest.mark.parametrize(("kind", "colour", "convention"), PAIRS)
def test_terms_are_symmetric(kind, colour, convention):
    a, b = pair_of(kind, colour)
    forward, backward = pair_terms(a, b, convention), pair_terms(b, a, convention)
    for name in TERM_NAMES:
        assert getattr(forward, name) == pytest.approx(getattr(backward, name), abs=1e-12)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_a_pure_mean_shift_lowers_luminance_only(convention):
    image = camera()
    # In range throughout (no clipping), so only the means move.
    shifted = (image // 2 + 60, image // 2 + 100)
    terms = pair_terms(*shifted, convention)
    assert terms.luminance < 0.97
    assert terms.contrast == pytest.approx(1.0, abs=1e-12)
    assert terms.structure == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_a_contrast_stretch_around_the_mean_lowers_contrast_and_keeps_structure(convention):
    image = camera()
    mean = image.mean()
    low = np.rint(mean + (image - mean) * 0.5).astype(np.uint8)  # no clipping
    terms = pair_terms(image, low, convention)
    assert terms.contrast < 0.95
    assert terms.structure == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_a_blur_keeps_luminance_near_1_and_lowers_contrast_and_structure(convention):
    image = camera()
    terms = pair_terms(image, cv2.GaussianBlur(image, (0, 0), 2), convention)
    assert terms.luminance > 0.99
    assert terms.contrast < 0.9
    assert terms.structure < 0.9


def test_mean_of_a_colour_pairs_terms_is_the_mean_over_channels():
    a, b = pair_of("blur", True)
    per_channel = [pair_terms(a[:, :, k].copy(), b[:, :, k].copy()) for k in range(3)]
    together = pair_terms(a, b)
    for name in TERM_NAMES:
        expected = np.mean([getattr(terms, name) for terms in per_channel])
        assert getattr(together, name) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("budget", [None, 1])
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_all_pair_terms_equal_each_pairs_terms(convention, budget):
    images = [camera(64), *list(distortions(camera(64)).values())]
    options = {} if budget is None else {"budget_bytes": budget}  # 1: one image per group
    reported = []
    result = all_pair_terms(images, convention, reported.append, **options)
    assert reported[-1] == 1.0 and reported == sorted(reported)
    for i in range(len(images)):
        for j in range(len(images)):
            expected = (
                Terms(1.0, 1.0, 1.0) if i == j else pair_terms(images[i], images[j], convention)
            )
            for name in TERM_NAMES:
                assert getattr(result.of(i, j), name) == pytest.approx(
                    getattr(expected, name), abs=1e-12
                )


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ([np.zeros((6, 20), np.uint8)] * 2, "smaller than the 7x7 SSIM window"),
        ([np.zeros((8, 8), np.uint8), np.zeros((9, 9), np.uint8)], "the same shape"),
        ([np.zeros((8, 8), np.float32)] * 2, "must be uint8"),
    ],
)
def test_unusable_images_are_refused_with_what_to_do(images, message):
    with pytest.raises(ValueError, match=message):
        term_maps(*images)


def test_an_unknown_convention_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="skimage, gaussian, ms-ssim; got 'box'"):
        term_maps(camera(), camera(), "box")


def test_ms_ssim_terms_are_its_finest_scales_gaussian_terms():
    a, b = camera(), cv2.GaussianBlur(camera(), (5, 5), 1.5)
    assert pair_terms(a, b, "ms-ssim") == pair_terms(a, b, "gaussian")


def test_every_ssim_convention_has_its_terms_window():
    assert set(TERM_WINDOWS) == set(imgsim.settings.SSIM_CONVENTIONS)
    for convention, window in TERM_WINDOWS.items():
        assert window.size == SSIM_WINDOW[convention]
        assert window.weights.sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(
    ("terms", "kinds"),
    [
        (Terms(0.95, 1.0, 1.0), "of brightness:"),
        (Terms(0.80, 0.97, 0.995), "of brightness:"),
        (Terms(1.0, 0.83, 0.85), "of contrast and structure:"),
        (Terms(0.995, 0.78, 0.85), "of contrast:"),
        (Terms(0.97, 0.77, 0.88), "of contrast:"),
        (Terms(0.99, 0.98, 0.6), "of structure:"),
        (Terms(0.999, 0.998, 0.9999), "No kind of difference stands out"),
    ],
)
def test_the_sentence_names_the_lowest_term_and_a_close_second(terms, kinds):
    sentence = dominant_difference(terms)
    assert kinds in sentence
    assert sentence.count(".") >= 1 and sentence.endswith(").")
    assert f"luminance {terms.luminance:.2f}" in sentence


# The equal-MSE sample's terms as the page's note quotes them (two decimals).
EQUAL_MSE_TERMS = {
    "mean-shift.png": (0.95, 1.00, 1.00),
    "contrast-stretch.png": (0.80, 0.97, 0.99),
    "impulse-noise.png": (1.00, 0.83, 0.85),
    "blur.png": (1.00, 0.78, 0.85),
    "jpeg.jpg": (0.97, 0.77, 0.88),
}


@pytest.fixture(scope="module")
def equal_mse_prepared() -> dict[str, np.ndarray]:
    settings = Settings()
    return {
        name: prepare(load_image((name, data)), settings)
        for name, data in samples.load_sample(samples.EQUAL_MSE)
    }


@pytest.mark.parametrize("name", EQUAL_MSE_TERMS)
def test_equal_mse_sample_terms_are_those_the_note_quotes(equal_mse_prepared, name):
    terms = pair_terms(equal_mse_prepared["reference.png"], equal_mse_prepared[name])
    measured = tuple(round(value, 2) for value in terms.to_dict().values())
    assert measured == EQUAL_MSE_TERMS[name]


def test_compare_gives_the_terms_only_when_asked_with_progress_to_the_end():
    images = [("a.png", camera(64)), ("b.png", camera(64)[::-1].copy()), ("c.png", astronaut(64))]
    assert imgsim.compare(images, size=(64, 64)).terms is None
    assert all(pair.terms is None for pair in imgsim.compare(images, size=(64, 64)).pairs())
    reports = []
    result = imgsim.compare(images, size=(64, 64), terms=True, progress=reports.append)
    assert reports[-1].fraction == 1.0
    assert any("luminance, contrast and structure" in report.message for report in reports)
    prepared = [prepare(load_image(image), Settings(size=(64, 64))) for image in images]
    for pair in result.pairs():
        expected = pair_terms(prepared[pair.i], prepared[pair.j])
        for name in TERM_NAMES:
            assert getattr(pair.terms, name) == pytest.approx(getattr(expected, name), abs=1e-12)
