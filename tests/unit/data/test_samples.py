"""Built-in samples: made from installed data, and they show what they claim."""

from __future__ import annotations

import pytest

import imgsim
from imgsim import data as samples


@pytest.fixture(scope="module")
def equal_mse_result():
    return imgsim.compare(samples.load_sample(samples.EQUAL_MSE), size=(512, 512))


def test_equal_mse_set_is_a_reference_and_five_distortions(equal_mse_result):
    assert equal_mse_result.names == [
        "reference.png",
        "mean-shift.png",
        "contrast-stretch.png",
        "impulse-noise.png",
        "blur.png",
        "jpeg.jpg",
    ]
    assert equal_mse_result.errors == ()


def test_every_distortion_has_the_same_mse_within_five_percent(equal_mse_result):
    errors = equal_mse_result.mse[0, 1:]
    assert errors.max() <= 1.05 * errors.min()


def test_equal_mse_distortions_get_widely_different_ssim(equal_mse_result):
    scores = dict(zip(equal_mse_result.names[1:], equal_mse_result.ssim[0, 1:], strict=True))
    assert max(scores.values()) - min(scores.values()) >= 0.25
    # Wang et al. 2004, Fig. 2: the mean shift looks best, JPEG blocking worst.
    assert max(scores, key=scores.get) == "mean-shift.png"
    assert min(scores, key=scores.get) == "jpeg.jpg"


def test_jpeg_sample_is_a_real_jpeg_file():
    files = dict(samples.load_sample(samples.EQUAL_MSE))
    assert files["jpeg.jpg"][:2] == b"\xff\xd8"


def test_stereo_pair_stands_out_only_where_its_parallax_is_resized_away():
    files = samples.load_sample(samples.PHOTOS)
    stereo = {"motorcycle_left.png", "motorcycle_right.png"}

    def ranked(size):
        result = imgsim.compare(files, size=size)
        assert len(result.names) == 6 and result.errors == ()
        return sorted(result.pairs(), key=lambda pair: pair.ssim, reverse=True)

    small = ranked((64, 64))
    assert {small[0].a, small[0].b} == stereo
    assert small[0].ssim - small[1].ssim > 0.1
    # At 512 x 512 the views' horizontal shift breaks SSIM's pixel-wise comparison.
    large = ranked((512, 512))
    assert {large[0].a, large[0].b} != stereo


def test_unknown_sample_names_list_the_choices():
    with pytest.raises(ValueError, match="choose one of Equal MSE, different SSIM, Photos"):
        samples.load_sample("Dogs")


def test_pasted_logo_covers_about_forty_percent_of_a_300_pixel_photo():
    photo, changed = imgsim.compare(samples.load_sample(samples.PASTED_LOGO)).images
    assert (photo.width, photo.height) == (changed.width, changed.height) == (300, 300)
    _, _, width, height = samples.PASTED_REGION
    assert width * height / (300 * 300) == pytest.approx(0.4, abs=0.02)
