"""Limits: stated, enforced, each with a message that says how to change it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import imgsim
from imgsim import LimitError, Limits, Settings
from imgsim.settings._work import work
from imgsim.analyses._diff import inspect_pair
from imgsim.analyses._sweep import sweep

from .conftest import encode, noise_image
from .test_app import APP, upload
from .test_cli import ROOT


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


def run_cli(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imgsim", *args],
        capture_output=True,
        check=False,
        text=True,
        cwd=ROOT,
        env={**os.environ, **environment},
        timeout=60,
    )


@pytest.fixture
def three_pngs(tmp_path):
    paths = []
    for seed in range(3):
        path = tmp_path / f"noise-{seed}.png"
        path.write_bytes(encode(noise_image((30, 30), seed), "PNG"))
        paths.append(str(path))
    return paths


@pytest.fixture
def three_images():
    return [noise_image((30, 30), seed) for seed in range(3)]


def test_the_cli_enforces_the_limits(three_pngs):
    over = run_cli({"IMGSIM_MAX_IMAGES": "2"}, "compare", *three_pngs)
    assert over.returncode == 2
    assert over.stderr.startswith("imgsim: 3 images are more than the limit of 2")
    bad = run_cli({"IMGSIM_MAX_WORK": "lots"}, "compare", *three_pngs)
    assert bad.returncode == 2 and "IMGSIM_MAX_WORK must be a positive whole number" in bad.stderr
    pixels = run_cli({"IMGSIM_MAX_PIXELS": "500"}, "compare", *three_pngs, "--size", "16")
    assert pixels.returncode == 1 and pixels.stderr.count("set by IMGSIM_MAX_PIXELS") == 3
    assert "Traceback" not in over.stderr + bad.stderr + pixels.stderr


@pytest.mark.parametrize("command", ["compare", "sweep", "classify", "diff"])
def test_every_cli_command_refuses_a_size_over_the_bound_before_decoding(three_pngs, command):
    sizes = ["--sizes", "64,60000"] if command == "sweep" else ["--size", "60000x60000"]
    completed = run_cli({}, command, *three_pngs[:2], *sizes)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("imgsim: size 60000x60000 is larger than 10000 on a side")
    assert "IMGSIM_MAX_SIDE" in completed.stderr and "Traceback" not in completed.stderr
    raised = run_cli({"IMGSIM_MAX_SIDE": "20"}, command, *three_pngs[:2], "--size", "21")
    assert raised.returncode == 2 and "larger than 20 on a side" in raised.stderr


def test_the_page_explains_a_request_over_the_limits(monkeypatch, chelsea, coffee, astronaut):
    monkeypatch.setenv("IMGSIM_MAX_IMAGES", "2")
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert not at.exception  # the samples (six images) are over it too
        assert "more than the limit of 2" in at.error[0].value
        files = [
            (f"{n}.png", encode(a, "PNG"))
            for n, a in (("a", chelsea), ("b", coffee), ("c", astronaut))
        ]
        upload(at, files)
        assert "IMGSIM_MAX_IMAGES" in at.error[0].value
        assert not at.get("plotly_chart")
    finally:
        st.cache_resource.clear()
