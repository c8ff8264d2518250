"""Decoding: every format and mode becomes correct upright RGB (+ alpha)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

import imgsim
from imgsim import ImageReadError, decode, from_array
from imgsim.images._decode import is_image_filename
from tests.helpers.images import encode, noise_image, png_header_only


@pytest.mark.parametrize(
    ("format_name", "options"),
    [
        ("PNG", {}),
        ("BMP", {}),
        ("TIFF", {}),
        ("WEBP", {"lossless": True}),
    ],
)
def test_lossless_formats_decode_to_the_exact_pixels(chelsea, format_name, options):
    decoded = decode(encode(chelsea, format_name, **options), "cat")
    assert decoded.rgb.dtype == np.uint8
    assert decoded.rgb.shape == chelsea.shape
    np.testing.assert_array_equal(decoded.rgb, chelsea)
    assert decoded.alpha is None


def test_jpeg_decodes_like_opencv(chelsea):
    data = encode(chelsea, "JPEG", quality=85)
    opencv = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(decode(data, "cat.jpg").rgb, opencv[:, :, ::-1])


def test_decode_reads_a_path_and_names_it_after_the_file(tmp_path, chelsea):
    path = tmp_path / "cat.png"
    path.write_bytes(encode(chelsea, "PNG"))
    decoded = decode(path)
    assert decoded.name == "cat.png"
    assert (decoded.width, decoded.height) == (451, 300)


def test_gif_uses_the_first_frame_of_an_animation():
    frames = [Image.new("RGB", (32, 24), colour) for colour in ("red", "lime", "blue")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    decoded = decode(data, "anim.gif")
    assert (decoded.rgb == [255, 0, 0]).all()
    assert "first of 3 frames used" in decoded.log


def test_palette_image_becomes_its_rgb_colours(chelsea):
    palette_image = Image.fromarray(chelsea).convert("P", palette=Image.Palette.ADAPTIVE)
    decoded = decode(encode(palette_image, "PNG"), "palette.png")
    np.testing.assert_array_equal(decoded.rgb, np.asarray(palette_image.convert("RGB")))
    assert decoded.alpha is None


def test_palette_transparency_becomes_alpha():
    palette_image = Image.new("P", (8, 8), 0)
    palette_image.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    palette_image.paste(1, (0, 0, 4, 8))
    decoded = decode(encode(palette_image, "PNG", transparency=0), "palette.png")
    assert decoded.alpha is not None
    assert (decoded.alpha[:, :4] == 255).all() and (decoded.alpha[:, 4:] == 0).all()
    assert (decoded.rgb[:, :4] == [200, 10, 10]).all()


def test_gray_image_becomes_three_equal_channels():
    gray = noise_image((20, 30), seed=1)
    decoded = decode(encode(gray, "PNG"), "gray.png")
    for channel in range(3):
        np.testing.assert_array_equal(decoded.rgb[:, :, channel], gray)


def test_gray_with_alpha_keeps_gray_and_alpha():
    gray = noise_image((20, 30), seed=2)
    alpha = np.zeros_like(gray)
    alpha[:10] = 255
    decoded = decode(encode(Image.fromarray(np.dstack([gray, alpha]), "LA"), "PNG"), "la.png")
    np.testing.assert_array_equal(decoded.rgb[:, :, 1], gray)
    np.testing.assert_array_equal(decoded.alpha, alpha)


def test_rgba_keeps_stored_colours_and_alpha():
    rgba = noise_image((16, 16, 4), seed=3)
    decoded = decode(encode(rgba, "PNG"), "rgba.png")
    np.testing.assert_array_equal(decoded.rgb, rgba[:, :, :3])
    np.testing.assert_array_equal(decoded.alpha, rgba[:, :, 3])


def test_fully_opaque_alpha_is_dropped():
    rgba = noise_image((16, 16, 4), seed=4)
    rgba[:, :, 3] = 255
    assert decode(encode(rgba, "PNG"), "opaque.png").alpha is None


def test_sixteen_bit_gray_is_scaled_not_clipped():
    eight_bit = noise_image((20, 20), seed=5)
    sixteen_bit = eight_bit.astype(np.uint16) * 257
    decoded = decode(encode(sixteen_bit, "PNG"), "deep.png")
    np.testing.assert_array_equal(decoded.rgb[:, :, 0], eight_bit)
    assert "16-bit scaled to 8-bit" in decoded.log


def test_sixteen_bit_colour_is_scaled_to_eight_bits(chelsea):
    ok, data = cv2.imencode(".png", chelsea[:, :, ::-1].astype(np.uint16) * 257)
    assert ok
    np.testing.assert_array_equal(decode(data.tobytes(), "deep.png").rgb, chelsea)


def test_cmyk_jpeg_comes_out_close_to_its_rgb_source(chelsea):
    data = encode(Image.fromarray(chelsea).convert("CMYK"), "JPEG", quality=95)
    decoded = decode(data, "cmyk.jpg")
    assert "CMYK converted to RGB" in decoded.log
    score = structural_similarity(decoded.rgb, chelsea, channel_axis=2)
    assert score >= 0.95


@pytest.mark.parametrize(
    ("orientation", "stored_from_upright"),
    [
        (3, lambda image: np.rot90(image, 2)),
        (6, lambda image: np.rot90(image, 1)),
        (8, lambda image: np.rot90(image, -1)),
        (2, lambda image: image[:, ::-1]),
    ],
)
def test_exif_orientation_is_applied(chelsea, orientation, stored_from_upright):
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = np.ascontiguousarray(stored_from_upright(chelsea))
    decoded = decode(encode(stored, "PNG", exif=exif.tobytes()), "rotated.png")
    np.testing.assert_array_equal(decoded.rgb, chelsea)
    assert decoded.log[0].startswith(f"EXIF orientation {orientation}")


def test_exif_rotated_jpeg_scores_as_the_upright_picture(chelsea):
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = encode(np.rot90(chelsea, 1), "JPEG", quality=95, exif=exif)
    upright = encode(chelsea, "JPEG", quality=95)
    result = imgsim.compare([("rotated.jpg", rotated), ("upright.jpg", upright)])
    assert [(image.width, image.height) for image in result.images] == [(451, 300)] * 2
    assert result.ssim[0, 1] >= 0.99


def test_float_tiff_in_unit_range_is_scaled():
    values = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    decoded = decode(encode(Image.fromarray(values, "F"), "TIFF"), "float.tif")
    np.testing.assert_array_equal(decoded.rgb[:, :, 0], np.rint(values * 255))


def test_one_bit_image_becomes_black_and_white():
    bits = Image.fromarray(np.eye(8, dtype=bool))
    decoded = decode(encode(bits, "PNG"), "bits.png")
    assert set(np.unique(decoded.rgb)) == {0, 255}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "a PNG file that cannot be read"),
        (b"hello, I am text pretending to be a JPEG", "a text file, not an image"),
        (bytes(range(256)) * 4, "not a readable image"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG"),
        (b"%PDF-1.7\n...", "a PDF document"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(64), "HEIC"),
    ],
)
def test_unreadable_bytes_raise_a_value_error_naming_the_file(data, reason):
    with pytest.raises(ValueError, match=rf"^bad.png: .*{reason}") as caught:
        decode(data, "bad.png")
    assert isinstance(caught.value, ImageReadError)
    assert caught.value.name == "bad.png"


@pytest.mark.parametrize("format_name", ["PNG", "JPEG"])
def test_truncated_file_is_refused_with_a_reason(chelsea, format_name):
    data = encode(chelsea, format_name)
    with pytest.raises(ImageReadError, match=r"^cut: .*(truncated|damaged)"):
        decode(data[: len(data) // 2], "cut")


def test_missing_path_is_reported_by_name(tmp_path):
    with pytest.raises(ImageReadError, match=r"^nowhere.png: cannot read the file"):
        decode(tmp_path / "nowhere.png")


@pytest.mark.parametrize("side", [12000, 50000])
def test_decompression_bomb_is_refused_from_its_header(side):
    # How fast: bench/refusals.py (no wall-clock bounds in unit tests).
    with pytest.raises(ImageReadError, match=r"^bomb.png: image is too large"):
        decode(png_header_only(side, side), "bomb.png")


def test_pixel_limit_is_adjustable():
    data = encode(noise_image((20, 20), seed=6), "PNG")
    with pytest.raises(ImageReadError, match="limit is 399 pixels"):
        decode(data, "small.png", max_pixels=399)
    assert decode(data, "small.png", max_pixels=400).width == 20


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.array([[0, 128, 255]], dtype=np.uint8), [0, 128, 255]),
        (np.array([[0, 32896, 65535]], dtype=np.uint16), [0, 128, 255]),
        (np.array([[0.0, 0.5, 1.0]], dtype=np.float32), [0, 128, 255]),
        (np.array([[0.0, 0.5, 1.0]]), [0, 128, 255]),
        (np.array([[False, True, True]]), [0, 255, 255]),
    ],
)
def test_arrays_of_each_dtype_become_eight_bit(array, expected):
    decoded = from_array(array, "array")
    np.testing.assert_array_equal(decoded.rgb[0, :, 0], expected)


def test_rgba_array_is_split_into_colour_and_alpha():
    rgba = noise_image((4, 5, 4), seed=7)
    decoded = from_array(rgba, "rgba")
    np.testing.assert_array_equal(decoded.rgb, rgba[:, :, :3])
    np.testing.assert_array_equal(decoded.alpha, rgba[:, :, 3])


@pytest.mark.parametrize(
    ("array", "reason"),
    [
        (np.zeros((4, 4, 2), np.uint8), "not an image"),
        (np.zeros((4,), np.uint8), "not an image"),
        (np.zeros((0, 4), np.uint8), "no pixels"),
        (np.array([[0.0, 2.0, 300.0]]), "outside"),
        (np.array([[0.0, np.nan]]), "NaN"),
        (np.array([[-1, 5]]), "int64 have no standard range"),
        (np.array([[0, 7, 255]], dtype=np.int64), "int64 have no standard range"),
        (np.array([[0, 7, 255]], dtype=np.int32), "int32 have no standard range"),
        (np.array([[0, 7, 255]], dtype=np.uint32), r"uint32 .*astype\(np.uint8\)"),
        (np.array([[0.0, 100.4, 255.0]]), r"outside \[0, 1\].*divide 0-255 values by 255"),
    ],
)
def test_arrays_that_are_not_images_are_refused(array, reason):
    with pytest.raises(ImageReadError, match=rf"^odd: .*{reason}"):
        from_array(array, "odd")


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("a.png", True),
        ("B.JPG", True),
        ("c.Tiff", True),
        ("d.svg", False),
        ("e", False),
    ],
)
def test_image_extensions_are_recognised_in_any_case(filename, expected):
    assert is_image_filename(filename) is expected


def test_floats_are_scaled_by_their_dtype_whatever_their_values():
    """One pixel above 1 must not turn a [0, 1] image into a [0, 255] one."""
    values = np.random.default_rng(8).uniform(0, 0.99, (64, 64))
    decoded = from_array(values, "unit")
    np.testing.assert_array_equal(decoded.rgb[:, :, 0], np.rint(values * 255))
    brighter = values.copy()
    brighter[0, 0] = 1.01
    with pytest.raises(ImageReadError, match=r"^brighter: float values from .* outside \[0, 1\]"):
        from_array(brighter, "brighter")


def test_uint16_is_scaled_over_its_full_range_and_wider_integers_are_refused():
    """The same values as uint16 and as int32 must not give two different images."""
    values = np.random.default_rng(9).integers(0, 256, (32, 32))
    sixteen = from_array(values.astype(np.uint16), "sixteen")
    np.testing.assert_array_equal(sixteen.rgb[:, :, 0], np.rint(values * 255 / 65535))
    with pytest.raises(ImageReadError, match="int32"):
        from_array(values.astype(np.int32), "wide")


def test_a_float_image_scores_as_its_eight_bit_twin(chelsea):
    """SSIM of a float image against its uint8 original is scikit-image's (1.0 here)."""
    gray = chelsea[:, :, 1]
    result = imgsim.compare([("float", gray / 255.0), ("eight", gray)], size=(128, 128))
    assert result.ssim[0, 1] == pytest.approx(1.0, abs=1e-12)
