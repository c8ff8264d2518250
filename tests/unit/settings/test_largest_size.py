"""The largest size that fits the limits: offered by the page instead of a refusal."""

from __future__ import annotations

import pickle

import pytest

from imgsim import LimitError, Limits, Settings
from imgsim.settings import largest_size, work


def next_side_up(size: tuple[int, int], aspect: tuple[int, int]) -> tuple[int, int]:
    """The size one pixel longer on the longer side, at ``aspect`` (rounded)."""
    longer, shorter = max(aspect), min(aspect)
    side = max(size) + 1
    other = round(side * shorter / longer)
    return (side, other) if aspect[0] >= aspect[1] else (other, side)


@pytest.mark.parametrize(
    ("count", "size", "grayscale", "convention", "limits"),
    [
        (60, (4000, 4000), True, "skimage", Limits()),  # the refusal
        (60, (4000, 3000), False, "skimage", Limits()),
        (12, (1200, 5000), True, "gaussian", Limits(max_work=10**8)),
        (30, (2048, 1024), True, "ms-ssim", Limits(max_work=10**9)),
        (2, (9000, 9000), False, "skimage", Limits(max_work=10**8)),
        (5, (8000, 2000), True, "skimage", Limits(max_side=1000)),  # the side bound
    ],
)
def test_the_offered_size_fits_and_the_next_side_up_does_not(
    count, size, grayscale, convention, limits
):
    settings = Settings(size=size, grayscale=grayscale, ssim_convention=convention)
    assert not limits.allows(count, settings)
    offered = limits.largest_size(count, settings)
    assert offered is not None
    limits.check(count, Settings(size=offered, grayscale=grayscale, ssim_convention=convention))
    above = Settings(
        size=next_side_up(offered, size), grayscale=grayscale, ssim_convention=convention
    )
    assert not limits.allows(count, above)
    assert min(offered) >= settings.min_side
    # The chosen size's aspect, to the rounding of the shorter side.
    assert (offered[0] >= offered[1]) == (size[0] >= size[1])
    assert abs(min(offered) - max(offered) * min(size) / max(size)) <= 0.5


def test_a_size_that_fits_is_offered_itself():
    settings = Settings(size=(640, 480))
    assert Limits().largest_size(10, settings) == (640, 480)


@pytest.mark.parametrize(
    ("limits", "count", "convention"),
    [
        (Limits(max_images=4), 5, "skimage"),  # no size helps: fewer images do
        (Limits(max_work=work(3, Settings(size=(7, 7))) - 1), 3, "skimage"),
        (Limits(max_work=work(3, Settings(size=(160, 160)))), 3, "ms-ssim"),
    ],
)
def test_none_when_not_even_the_smallest_size_fits(limits, count, convention):
    settings = Settings(size=(2000, 2000), ssim_convention=convention)
    assert limits.largest_size(count, settings) is None


@pytest.mark.parametrize("size", [(10000, 7), (7, 10000), (4000, 161)])
def test_a_thin_aspect_never_offers_a_side_below_the_minimum(size):
    convention = "ms-ssim" if min(size) == 161 else "skimage"
    settings = Settings(size=size, ssim_convention=convention)
    tried = []

    def fits(trial: Settings) -> bool:
        tried.append(trial.size)
        return max(trial.size) <= 0.9 * max(size)

    offered = largest_size(settings, fits)
    if offered is not None:
        assert min(offered) >= settings.min_side
    assert all(min(each) >= settings.min_side for each in tried)


def test_a_refusal_keeps_its_reason_apart_from_the_variable():
    with pytest.raises(LimitError) as refused:
        Limits(max_work=1000).check(3, Settings())
    error = refused.value
    assert error.limit == "max_work"
    assert "IMGSIM_MAX_WORK" in str(error) and "IMGSIM" not in error.reason
    assert str(error).startswith(error.reason)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.reason, copy.limit) == (str(error), error.reason, error.limit)


def test_a_limit_error_names_only_a_known_limit():
    with pytest.raises(ValueError, match="limit must be one of max_pixels"):
        LimitError("too much", "max_everything")
