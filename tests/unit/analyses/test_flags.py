"""Information flags: each image's enlargement and smooth share, each pair's flags."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from imgsim import Settings, compare
from imgsim.analyses import FLAGS, ImageFlags, group_flags, image_flags, pair_flags
from imgsim.images import enlargement, from_array, prepare
from imgsim.metrics import score_all_pairs, smooth_share
from tests.helpers.images import noise_image


def shrunk(image: np.ndarray, side: int) -> np.ndarray:
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def flags_of(width=512, height=512, upsampled=1.0, smooth=0.3, tiny=False) -> ImageFlags:
    return ImageFlags(width, height, upsampled, smooth, tiny)


def test_tiny_unrelated_photos_are_flagged_upsampled_not_rescored():
    # The case: scikit-image's grass and moon at 25 px score about 0.93
    # at 512 x 512; the score stays, the flags say why it means little.
    inputs = [("grass", shrunk(data.grass(), 25)), ("moon", shrunk(data.moon(), 25))]
    result = compare(inputs)
    (pair,) = result.pairs()
    assert pair.ssim > 0.9
    assert "upsampled" in pair.flags
    assert all(flags.upsampled == pytest.approx(512 / 25) for flags in result.image_flags)


def test_flags_do_not_change_any_score():
    inputs = [
        ("cam", data.camera()),
        ("moon", shrunk(data.moon(), 25)),
        ("one", np.zeros((1, 1), np.uint8)),
    ]
    result = compare(inputs)
    prepared = [prepare(from_array(image), Settings()) for _, image in inputs]
    np.testing.assert_array_equal(result.ssim, score_all_pairs(prepared, "skimage").ssim)
    assert all(pair.flags for pair in result.pairs() if "moon" in (pair.a, pair.b))


@pytest.mark.parametrize("side", [1, 2, 3, 4])
def test_images_of_a_few_pixels_are_flagged_with_a_defined_smoothness(side):
    tiny = noise_image((side, side, 3), seed=side)
    result = compare([("tiny", tiny), ("camera", data.camera())])
    (flags, _) = result.image_flags
    assert flags.tiny and np.isfinite(flags.smooth) and 0 <= flags.smooth <= 1
    assert result.pairs()[0].flags[:2] == ("tiny", "upsampled")


def test_image_flags_are_the_enlargement_and_smooth_share_of_the_prepared_image():
    settings = Settings(size=(256, 128), fit="pad", grayscale=False)
    photo = data.chelsea()
    prepared = prepare(from_array(photo), settings)
    flags = image_flags((photo.shape[1], photo.shape[0]), prepared, settings)
    assert flags.upsampled == enlargement((photo.shape[1], photo.shape[0]), settings)
    assert flags.smooth == smooth_share(prepared, "skimage")
    assert not flags.tiny


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (flags_of(), flags_of(), ()),
        (flags_of(upsampled=4.0), flags_of(), ("upsampled",)),
        (flags_of(upsampled=3.99), flags_of(), ()),
        (flags_of(smooth=0.9), flags_of(smooth=0.95), ("smooth",)),
        (flags_of(smooth=0.9), flags_of(smooth=0.4), ()),  # both, not either
        (flags_of(640, 480), flags_of(480, 640), ("size-mismatch",)),
        (flags_of(640, 480), flags_of(600, 480), ()),  # aspects within 10%
        (flags_of(4, 4, 128.0, 1.0, True), flags_of(), ("tiny", "upsampled")),
    ],
)
def test_pair_flags_follow_the_vocabulary(a, b, expected):
    assert pair_flags(a, b) == expected
    assert pair_flags(b, a) == expected
    assert set(expected) <= set(FLAGS)


def test_comparison_pairs_carry_the_flags_of_their_images():
    inputs = [
        ("flat", np.full((300, 300), 90, np.uint8)),
        ("flat2", np.full((300, 300), 95, np.uint8)),
        ("wide", noise_image((100, 400), seed=3)),
    ]
    result = compare(inputs, size=(128, 128))
    by_name = {(pair.a, pair.b): pair.flags for pair in result.pairs()}
    assert by_name[("flat", "flat2")] == ("smooth",)
    assert by_name[("flat", "wide")] == ("size-mismatch",)
    for pair in result.pairs():
        assert pair.flags == result.flags(pair.i, pair.j)


def test_a_group_of_smooth_images_is_labelled_smooth():
    smooth = [flags_of(smooth=0.9), flags_of(smooth=0.99)]
    assert group_flags(smooth) == ("smooth",)
    assert group_flags([*smooth, flags_of(smooth=0.2)]) == ()
    assert group_flags([flags_of(), flags_of(upsampled=8.0)]) == ("upsampled",)
    assert group_flags([]) == ()


def test_colour_smooth_share_averages_the_channels():
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, :, 0] = noise_image((64, 64), seed=4)
    assert smooth_share(image) == pytest.approx(2 / 3)
