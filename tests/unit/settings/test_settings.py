"""Settings: one small, immutable, hashable object with validated values."""

from __future__ import annotations

import dataclasses

import pytest

from imgsim import Settings


def test_settings_are_frozen_and_hashable():
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.grayscale = False  # type: ignore[misc]
    assert hash(settings) == hash(Settings())
    assert {settings: 1}[Settings(size=[512, 512])] == 1


def test_defaults_are_the_documented_ones():
    assert Settings().to_dict() == {
        "width": 512,
        "height": 512,
        "grayscale": True,
        "fit": "stretch",
        "interp": "linear",
        "alpha": "white",
        "ssim": "skimage",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fit": "zoom"}, "fit must be one of stretch, pad, crop; got 'zoom'"),
        ({"interp": "bicubic"}, "interp must be one of"),
        ({"alpha": "grey"}, "alpha must be one of"),
        ({"ssim_convention": "fast"}, "ssim_convention must be one of"),
        ({"size": (6, 100)}, "size 6x100 is smaller than the 7x7 SSIM window"),
        ({"size": (12, 10), "ssim_convention": "gaussian"}, "use at least 11x11"),
        ({"size": "big"}, "size must be a pair of integers"),
    ],
)
def test_invalid_values_say_what_was_expected(changes, message):
    with pytest.raises(ValueError, match=message):
        Settings(**changes)


@pytest.mark.parametrize(("ssim", "window"), [("skimage", 7), ("gaussian", 11)])
def test_window_follows_the_convention(ssim, window):
    assert Settings(ssim_convention=ssim).window == window
    assert Settings(size=(window, window), ssim_convention=ssim).size == (window, window)
