"""Limits: stated, enforced, each with a message that says how to change it."""

from __future__ import annotations

import pytest

import imgsim
from imgsim import LimitError, Limits, Settings
from imgsim.analyses._diff import inspect_pair
from imgsim.analyses._sweep import sweep
from imgsim.settings._work import work
from tests.helpers.images import encode, noise_image


def test_limits_come_from_the_environment():
    limits = Limits.from_environment(
        {"IMGSIM_MAX_PIXELS": "1_000", "IMGSIM_MAX_IMAGES": "3", "IMGSIM_MAX_WORK": " 50 "}
    )
    assert limits == Limits(max_pixels=1000, max_images=3, max_work=50)
    assert Limits.from_environment({"IMGSIM_MAX_SIDE": "20000"}).max_side == 20000
    assert Limits.from_environment({}) == Limits()


@pytest.mark.parametrize("value", ["many", "0", "-4", "1.5"])
def test_a_bad_limit_in_the_environment_is_named(value):
    with pytest.raises(
        ValueError, match=f"IMGSIM_MAX_IMAGES must be a positive whole number; got '{value}'"
    ):
        Limits.from_environment({"IMGSIM_MAX_IMAGES": value})


def test_too_many_images_name_the_limit_and_its_variable():
    with pytest.raises(
        LimitError, match=r"5 images are more than the limit of 4 .* IMGSIM_MAX_IMAGES"
    ):
        Limits(max_images=4).check(5, Settings())


def test_too_much_work_names_the_limit_and_its_variable():
    gray = Settings(size=(8000, 8000))
    limits = Limits(max_work=work(6, gray))
    limits.check(6, gray)  # exactly at the limit
    with pytest.raises(LimitError, match=r"more than the limit of 2,112,000,000.*IMGSIM_MAX_WORK"):
        limits.check(6, Settings(size=(8000, 8000), grayscale=False))
    with pytest.raises(LimitError):  # a sweep adds up its sizes
        limits.check(6, gray, Settings(size=(2000, 2000)))


def test_work_counts_the_colour_resize_made_before_grayscale():
    # 15 pairs of 64 MP compared in gray, and six colour resizes of 64 MP x 3.
    assert work(6, Settings(size=(8000, 8000))) == 15 * 64_000_000 + 6 * 192_000_000
    assert work(2, Settings(size=(100, 100), grayscale=False)) == 30_000 + 2 * 30_000
    assert work(3, Settings(), Settings(size=(64, 64))) == work(3, Settings()) + work(
        3, Settings(size=(64, 64))
    )


@pytest.mark.parametrize("limits", [None, Limits()])
@pytest.mark.parametrize("size", [(10001, 64), (64, 60000), (60000, 60000)])
def test_one_size_bound_refuses_before_anything_is_allocated(limits, size):
    inputs = [("a.png", b"never decoded")] * 2
    with pytest.raises(LimitError, match=r"larger than 10000 on a side.*IMGSIM_MAX_SIDE"):
        imgsim.compare(inputs, size=size, limits=limits)
    with pytest.raises(LimitError, match="larger than 10000 on a side"):
        sweep(inputs, [(64, 64), size], limits=limits)
    with pytest.raises(LimitError, match="larger than 10000 on a side"):
        inspect_pair(*inputs, Settings(size=size), limits=limits)


def test_the_size_bound_is_raised_like_the_other_limits(three_images):
    limits = Limits.from_environment({"IMGSIM_MAX_SIDE": "12000"})
    assert limits.max_side == 12000
    limits.check_size(Settings(size=(12000, 64)))
    with pytest.raises(LimitError, match="larger than 80 on a side"):
        imgsim.compare(three_images, size=(81, 64), limits=Limits(max_side=80))
    assert imgsim.compare(three_images, size=(80, 64), limits=Limits(max_side=80)).images


def test_compare_refuses_before_decoding_anything():
    inputs = [("a.png", b"never decoded")] * 3
    with pytest.raises(LimitError):
        imgsim.compare(inputs, limits=Limits(max_images=2))


def test_the_pixel_limit_refuses_larger_images_by_name():
    small, large = noise_image((10, 10), 1), noise_image((20, 20), 2)
    result = imgsim.compare(
        [small, ("large.png", encode(large, "PNG")), small],
        size=(8, 8),
        limits=Limits(max_pixels=100),
    )
    assert [error.name for error in result.errors] == ["large.png"]
    assert "limit is 100 pixels, set by IMGSIM_MAX_PIXELS" in result.errors[0].error


@pytest.fixture
def three_images():
    return [noise_image((30, 30), seed) for seed in range(3)]
