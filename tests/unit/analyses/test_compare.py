"""`imgsim.compare`: inputs of every kind, errors, names, progress."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import imgsim
from imgsim import Settings
from tests.helpers.images import encode, noise_image


@pytest.fixture
def three_images(chelsea, coffee, astronaut):
    return [chelsea, coffee, astronaut]


def test_every_kind_of_input_is_accepted_and_named(tmp_path, three_images):
    chelsea, coffee, astronaut = three_images
    path = tmp_path / "cat.png"
    path.write_bytes(encode(chelsea, "PNG"))
    inputs = [
        path,
        str(path),
        ("coffee.jpg", encode(coffee, "JPEG")),
        encode(astronaut, "PNG"),
        astronaut,
        ("named-array", coffee),
        imgsim.decode(encode(chelsea, "PNG"), "decoded.png"),
    ]
    result = imgsim.compare(inputs, size=(64, 64))
    assert result.names == [
        "cat.png",
        "cat.png (2)",
        "coffee.jpg",
        "image-4",
        "image-5",
        "named-array",
        "decoded.png",
    ]
    assert result.errors == ()
    assert result.ssim[0, 1] == 1.0 and result.ssim[0, 6] == 1.0
    assert result.ssim[3, 4] == 1.0


def test_results_are_square_symmetric_matrices_with_identity_diagonals(three_images):
    result = imgsim.compare(three_images, size=(96, 64))
    for matrix in (result.ssim, result.mse, result.psnr):
        assert matrix.shape == (3, 3)
        np.testing.assert_array_equal(matrix, matrix.T)
    np.testing.assert_array_equal(np.diag(result.ssim), 1.0)
    np.testing.assert_array_equal(np.diag(result.mse), 0.0)
    assert np.isinf(np.diag(result.psnr)).all()


def test_pairs_come_in_input_order_with_their_scores(three_images):
    result = imgsim.compare(three_images, size=(32, 32))
    pairs = result.pairs()
    assert [(pair.i, pair.j) for pair in pairs] == [(0, 1), (0, 2), (1, 2)]
    for pair in pairs:
        assert pair.ssim == result.ssim[pair.i, pair.j]
        assert pair.mse == result.mse[pair.i, pair.j]
        assert (pair.a, pair.b) == (result.names[pair.i], result.names[pair.j])


def test_a_bad_file_is_reported_and_the_others_still_compared(three_images):
    chelsea, coffee, astronaut = three_images
    inputs = [
        ("cat.png", encode(chelsea, "PNG")),
        ("broken.png", b"not an image at all"),
        ("coffee.png", encode(coffee, "PNG")),
        ("empty.jpg", b""),
        ("astronaut.png", encode(astronaut, "PNG")),
    ]
    result = imgsim.compare(inputs, size=(32, 32))
    assert result.names == ["cat.png", "coffee.png", "astronaut.png"]
    assert [error.name for error in result.errors] == ["broken.png", "empty.jpg"]
    assert "a text file, not an image" in result.errors[0].error
    assert str(result.errors[1]) == "empty.jpg: the file is empty"
    assert result.ssim.shape == (3, 3)


def test_fewer_than_two_readable_images_give_no_pairs():
    result = imgsim.compare([("a.png", b"junk"), noise_image((20, 20), 1)], size=(16, 16))
    assert len(result.images) == 1
    assert result.pairs() == []
    assert len(result.errors) == 1


def test_keyword_settings_override_a_settings_object(three_images):
    base = Settings(size=(40, 40), ssim_convention="gaussian")
    result = imgsim.compare(three_images, base, grayscale=False)
    assert result.settings == dataclasses.replace(base, grayscale=False)
    assert result.thumbnails[0].shape == (40, 40, 3)


def test_invalid_settings_raise_before_any_work(three_images):
    with pytest.raises(ValueError, match="smaller than the 11x11 SSIM window"):
        imgsim.compare(three_images, size=(10, 10), ssim_convention="gaussian")


def test_thumbnails_show_what_was_compared_shrunk_to_fit(three_images):
    small = imgsim.compare(three_images, size=(120, 80))
    assert [thumb.shape for thumb in small.thumbnails] == [(80, 120)] * 3
    large = imgsim.compare(three_images, size=(1024, 512))
    assert [thumb.shape for thumb in large.thumbnails] == [(128, 256)] * 3


def test_images_keep_their_original_size_and_decoding_log(chelsea):
    rgba = np.dstack([chelsea, np.full(chelsea.shape[:2], 255, np.uint8)])
    rgba[:10, :, 3] = 0
    result = imgsim.compare([("a.png", encode(rgba, "PNG")), chelsea], size=(32, 32))
    assert (result.images[0].width, result.images[0].height) == (451, 300)
    assert any("transparency" in line for line in result.images[0].log)


def test_progress_reaches_the_end_in_order(three_images):
    reports = []
    imgsim.compare([*three_images, ("bad.png", b"x")], size=(32, 32), progress=reports.append)
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert reports[-1].message == "compared 3 pairs"
    assert any(report.message == "could not read bad.png" for report in reports)
