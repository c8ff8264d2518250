"""Preparation: alpha, fit modes, OpenCV resizing and luma."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imgsim import Settings, from_array, prepare
from imgsim.images import enlargement
from imgsim.images._prepare import INTERPOLATION, centre_crop_box, flatten_alpha, letterbox_box
from tests.helpers.images import noise_image


@pytest.mark.parametrize("interp", sorted(INTERPOLATION))
@pytest.mark.parametrize("size", [(64, 48), (700, 500), (7, 7)])
def test_stretch_is_cv2_resize_with_width_then_height(chelsea, interp, size):
    prepared = prepare(from_array(chelsea), Settings(size=size, grayscale=False, interp=interp))
    expected = cv2.resize(chelsea, size, interpolation=INTERPOLATION[interp])
    assert prepared.shape == (size[1], size[0], 3)
    np.testing.assert_array_equal(prepared, expected)


def test_grayscale_is_opencv_luma_of_the_resized_colour_image(chelsea):
    prepared = prepare(from_array(chelsea), Settings(size=(100, 80)))
    resized = cv2.resize(chelsea, (100, 80))
    np.testing.assert_array_equal(prepared, cv2.cvtColor(resized, cv2.COLOR_RGB2GRAY))
    assert prepared.shape == (80, 100)


def test_pad_letterboxes_a_wide_image_on_the_background(chelsea):
    settings = Settings(size=(200, 200), grayscale=False, fit="pad", alpha="black")
    prepared = prepare(from_array(chelsea), settings)
    x, y, inner_width, inner_height = letterbox_box((451, 300), (200, 200))
    assert (inner_width, inner_height, x, y) == (200, 133, 0, 33)
    assert (prepared[:y] == 0).all() and (prepared[y + inner_height :] == 0).all()
    np.testing.assert_array_equal(
        prepared[y : y + inner_height], cv2.resize(chelsea, (inner_width, inner_height))
    )


def test_pad_of_a_tall_image_puts_bars_left_and_right():
    tall = noise_image((300, 100, 3), seed=1)
    prepared = prepare(from_array(tall), Settings(size=(90, 90), grayscale=False, fit="pad"))
    x, _, inner_width, _ = letterbox_box((100, 300), (90, 90))
    assert (inner_width, x) == (30, 30)
    assert (prepared[:, :x] == 255).all() and (prepared[:, x + inner_width :] == 255).all()


def test_crop_takes_the_centre_at_the_target_aspect(chelsea):
    prepared = prepare(from_array(chelsea), Settings(size=(150, 150), grayscale=False, fit="crop"))
    x, y, width, height = centre_crop_box((451, 300), (150, 150))
    assert (x, y, width, height) == (75, 0, 300, 300)
    np.testing.assert_array_equal(prepared, cv2.resize(chelsea[:, 75:375], (150, 150)))


def test_crop_of_a_matching_aspect_keeps_the_whole_image():
    assert centre_crop_box((400, 200), (100, 50)) == (0, 0, 400, 200)


@pytest.mark.parametrize("fit", ["stretch", "pad", "crop"])
@pytest.mark.parametrize("source", [(1, 1), (1, 500), (500, 1), (33, 77)])
def test_every_fit_gives_the_target_shape_for_any_source(fit, source):
    image = from_array(noise_image((source[1], source[0], 3), seed=2))
    prepared = prepare(image, Settings(size=(31, 17), fit=fit))
    assert prepared.shape == (17, 31)
    assert prepared.dtype == np.uint8


@pytest.mark.parametrize(("mode", "value"), [("white", 255), ("black", 0)])
def test_transparent_pixels_are_composited_on_the_background(mode, value):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., :3] = 100
    rgba[:2, :, 3] = 255  # top half opaque, bottom half fully transparent
    flat = flatten_alpha(from_array(rgba), Settings(alpha=mode))
    assert (flat[:2] == 100).all()
    assert (flat[2:] == value).all()


def test_half_transparent_pixels_blend_halfway():
    rgba = np.full((2, 2, 4), [0, 100, 200, 128], np.uint8)
    flat = flatten_alpha(from_array(rgba), Settings(alpha="white"))
    expected = np.rint((np.array([0, 100, 200]) * 128 + 255 * 127) / 255)
    np.testing.assert_array_equal(flat[0, 0], expected)


def test_ignore_alpha_keeps_the_stored_colours():
    rgba = noise_image((4, 4, 4), seed=3)
    rgba[..., 3] = 0
    flat = flatten_alpha(from_array(rgba), Settings(alpha="ignore"))
    np.testing.assert_array_equal(flat, rgba[..., :3])


def test_crop_and_letterbox_boxes_share_the_x_y_width_height_order():
    # A tall source in a square target: the crop keeps the full width and moves
    # down; the letterbox keeps the full height and moves right.
    assert centre_crop_box((100, 300), (90, 90)) == (0, 100, 100, 100)
    assert letterbox_box((100, 300), (90, 90)) == (30, 0, 30, 90)


@pytest.mark.parametrize(
    "source, fit, expected",
    [
        ((25, 25), "stretch", 512 / 25),
        ((1, 1), "stretch", 512.0),
        ((1024, 1024), "stretch", 0.5),
        ((100, 400), "stretch", 512 / 100),  # the wider axis's factor
        ((100, 50), "pad", 5.12),  # the letterbox keeps the aspect: 512 x 256 inside
        ((100, 50), "crop", 10.24),  # the centre 50 x 50 is enlarged to 512
    ],
)
def test_enlargement_is_the_kept_parts_largest_scale(source, fit, expected):
    assert enlargement(source, Settings(fit=fit)) == pytest.approx(expected)


@pytest.mark.parametrize("fit", ["stretch", "pad", "crop"])
def test_enlargement_matches_the_prepared_pixels(fit):
    # A 1-pixel checkerboard enlarged k times along an axis has runs k pixels long.
    source = np.indices((10, 40)).sum(axis=0) % 2 * 255
    rgb = np.repeat(source[:, :, None], 3, axis=2).astype(np.uint8)
    settings = Settings(size=(80, 80), fit=fit, interp="nearest")
    prepared = prepare(from_array(rgb), settings).astype(int)
    if fit == "pad":  # the image's own box inside the letterbox
        x, y, width, height = letterbox_box((40, 10), (80, 80))
        prepared = prepared[y : y + height, x : x + width]

    def run(line: np.ndarray) -> float:
        return float(np.median(np.diff(np.flatnonzero(np.diff(line)))))

    measured = max(run(prepared[prepared.shape[0] // 2]), run(prepared[:, prepared.shape[1] // 2]))
    assert measured == pytest.approx(enlargement((40, 10), settings))


def test_enlargement_refuses_an_empty_size():
    with pytest.raises(ValueError, match="at least 1 x 1; got 0 x 5"):
        enlargement((0, 5), Settings())
