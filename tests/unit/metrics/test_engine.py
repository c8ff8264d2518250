"""The all-pairs engine equals scikit-image, in blocks, threads and bounded memory.

References: ``skimage.metrics.structural_similarity`` (scikit-image 0.26) with
``data_range=255`` and, for ``gaussian``, ``gaussian_weights=True, sigma=1.5,
use_sample_covariance=False``; its ``full=True`` map for the SSIM map.
Tolerance 1e-6 on every score (the engine's own error is near 1e-8).
"""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.metrics import mean_squared_error, structural_similarity

import imgsim.metrics._engine as engine
from imgsim.metrics._engine import score_all_pairs, score_block_pairs, ssim_map
from tests.helpers.images import noise_image

TOLERANCE = 1e-6
WINDOW = {"skimage": 7, "gaussian": 11}


def reference(a, b, convention, full=False):
    options = {"data_range": 255, "channel_axis": 2 if a.ndim == 3 else None, "full": full}
    if convention == "gaussian":
        options |= {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}
    return structural_similarity(a, b, **options)


def photo(height: int, width: int, colour: bool) -> np.ndarray:
    image = cv2.resize(skimage.data.astronaut(), (width, height), interpolation=cv2.INTER_AREA)
    return image if colour else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def pair_of_kind(kind: str, height: int, width: int, colour: bool):
    a = photo(height, width, colour)
    if kind == "unrelated":
        return a, noise_image(a.shape, seed=height * width)
    if kind == "near-identical":
        b = a.copy()
        b.flat[:: max(1, b.size // 50)] ^= 1  # a few values differ by one grey level
        return a, b
    if kind == "constant":
        return np.full_like(a, 200), np.full_like(a, 201)
    # Letterboxed: large flat white borders around the picture, shifted by 2.
    a[: height // 4] = 255
    a[-height // 4 :] = 255
    return a, np.roll(a, 2, axis=1)


KINDS = ["unrelated", "near-identical", "constant", "letterboxed"]
CASES = [
    (convention, colour, (side, side + side // 3), kind)
    for convention in ("skimage", "gaussian")
    for colour in (False, True)
    for side in (WINDOW[convention], 31, 257)
    for kind in KINDS
] + [
    (convention, False, (2048, 2048), kind)
    for convention in ("skimage", "gaussian")
    for kind in ("near-identical", "letterboxed")
]


@pytest.mark.parametrize(
    ("convention", "colour", "size", "kind"),
    CASES,
    ids=lambda value: "x".join(map(str, value)) if isinstance(value, tuple) else str(value),
)
def test_every_pair_equals_scikit_image(convention, colour, size, kind):
    a, b = pair_of_kind(kind, *size, colour)
    scores = score_all_pairs([a, b], convention)
    assert scores.ssim[0, 1] == pytest.approx(reference(a, b, convention), abs=TOLERANCE)
    assert scores.mse[0, 1] == mean_squared_error(a, b)  # exact


@pytest.mark.parametrize("convention", ["skimage", "gaussian"])
def test_many_images_in_many_blocks_and_tiles_equal_scikit_image(monkeypatch, convention):
    images = [photo(70, 90, colour=False), *(noise_image((70, 90), seed) for seed in range(4))]
    images.append(images[0] // 2 + 60)
    monkeypatch.setattr(engine, "STATS_BUDGET_BYTES", 1)  # minimal blocks...
    monkeypatch.setattr(engine, "MIN_BLOCK_WORK", 1)
    monkeypatch.setattr(engine, "MIN_BLOCK_COLUMNS", 20)  # ...of rows and of columns
    # Tiles of two images (blocks are 16 x 20 here), so that tiles reorder the pairs.
    block_bytes = engine.WINDOWS[convention].stats_bytes * engine.MIN_STRIP_ROWS * 20
    monkeypatch.setattr(engine, "TILE_BUDGET_BYTES", 2 * block_bytes)
    upper = np.stack(np.triu_indices(len(images), 1), axis=1)
    plan = engine._plan(images[0].shape, upper, len(images), convention)
    assert len({block.start for block in plan.blocks}) > 2
    assert len({block.left for block in plan.blocks}) > 2
    assert plan.pairs.tolist() != upper.tolist()  # tiles reorder the pairs
    scores = score_all_pairs(images, convention)
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            expected = reference(images[i], images[j], convention)
            assert scores.ssim[i, j] == pytest.approx(expected, abs=TOLERANCE)
            assert scores.ssim[j, i] == scores.ssim[i, j]
            assert scores.mse[i, j] == mean_squared_error(images[i], images[j])


def test_results_do_not_depend_on_the_number_of_threads(monkeypatch):
    images = [noise_image((300, 200), seed) for seed in range(5)]
    monkeypatch.setattr(engine, "STATS_BUDGET_BYTES", 1)
    monkeypatch.setattr(engine, "MIN_BLOCK_WORK", 1)
    threaded = score_all_pairs(images, "skimage")
    monkeypatch.setattr(engine, "worker_count", lambda tasks: 1)
    serial = score_all_pairs(images, "skimage")
    np.testing.assert_array_equal(threaded.ssim, serial.ssim)
    np.testing.assert_array_equal(threaded.mse, serial.mse)


@pytest.mark.parametrize("convention", ["skimage", "gaussian"])
@pytest.mark.parametrize("colour", [False, True])
def test_ssim_map_equals_scikit_images_full_map(convention, colour):
    a, b = pair_of_kind("letterboxed", 60, 80, colour)
    mean, expected = reference(a, b, convention, full=True)
    local = ssim_map(a, b, convention)
    assert local.shape == a.shape
    np.testing.assert_allclose(local, expected, rtol=0, atol=TOLERANCE)
    pad = WINDOW[convention] // 2
    assert local[pad:-pad, pad:-pad].mean() == pytest.approx(mean, abs=TOLERANCE)


def test_progress_rises_to_one_in_the_calling_thread(monkeypatch):
    import threading

    caller = threading.get_ident()
    reports = []
    monkeypatch.setattr(engine, "STATS_BUDGET_BYTES", 1)
    monkeypatch.setattr(engine, "MIN_BLOCK_WORK", 1)
    score_all_pairs(
        [noise_image((200, 50), seed) for seed in range(3)],
        "skimage",
        on_progress=lambda fraction: reports.append((fraction, threading.get_ident())),
    )
    fractions = [fraction for fraction, _ in reports]
    assert len(fractions) > 3
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {thread for _, thread in reports} == {caller}


def peak_traced_bytes(images) -> int:
    engine.warm_up()  # loading the compiled kernels is not working memory
    engine._SPARE_WORKSPACES.clear()  # count the working memory this call maps
    tracemalloc.start()
    try:
        score_all_pairs(images, "skimage")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_with_strips_not_with_image_area():
    short = [noise_image((1000, 2000), seed) for seed in range(3)]
    tall = [noise_image((8000, 2000), seed) for seed in range(3)]
    short_peak, tall_peak = peak_traced_bytes(short), peak_traced_bytes(tall)
    # Eight times the rows, about the same working memory...
    assert tall_peak < 1.25 * short_peak
    # ...and far below whole-image statistics (five float64 planes per image).
    assert tall_peak < 0.1 * 3 * 5 * 8 * tall[0].size


def test_a_single_image_or_none_has_no_pairs():
    assert score_all_pairs([noise_image((9, 9), 1)], "skimage").ssim.tolist() == [[1.0]]
    assert score_all_pairs([], "gaussian").ssim.shape == (0, 0)


images_2d = arrays(
    np.uint8,
    st.tuples(st.integers(11, 40), st.integers(11, 40)),
    elements=st.integers(0, 255),
)


@settings(max_examples=40, deadline=None)
@given(images_2d, st.integers(0, 2**32 - 1), st.sampled_from(["skimage", "gaussian"]))
def test_ssim_is_symmetric(a, seed, convention):
    b = np.random.default_rng(seed).integers(0, 256, a.shape, dtype=np.uint8)
    forward = score_all_pairs([a, b], convention).ssim[0, 1]
    backward = score_all_pairs([b, a], convention).ssim[0, 1]
    assert forward == pytest.approx(backward, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(images_2d, st.sampled_from(["skimage", "gaussian"]))
def test_ssim_of_an_image_with_itself_is_one(a, convention):
    scores = score_all_pairs([a, a.copy()], convention)
    assert scores.ssim[0, 1] == pytest.approx(1.0, abs=1e-12)
    assert scores.mse[0, 1] == 0.0


@settings(max_examples=40, deadline=None)
@given(images_2d, st.integers(0, 2**32 - 1), st.sampled_from(["skimage", "gaussian"]))
def test_ssim_stays_within_minus_one_and_one_and_matches_scikit_image(a, seed, convention):
    rng = np.random.default_rng(seed)
    b = np.where(rng.random(a.shape) < 0.5, 255 - a, rng.integers(0, 256, a.shape)).astype(np.uint8)
    value = score_all_pairs([a, b], convention).ssim[0, 1]
    assert -1.0 - 1e-9 <= value <= 1.0 + 1e-9
    assert value == pytest.approx(reference(a, b, convention), abs=TOLERANCE)


def test_tiles_hold_every_pair_once_grouped_by_tile():
    pairs = np.stack(np.triu_indices(9, 1), axis=1)
    tiled = engine._tiled(pairs, 4)
    assert sorted(map(tuple, tiled.tolist())) == sorted(map(tuple, pairs.tolist()))
    tiles = [tuple(pair // 4) for pair in tiled]
    assert tiles == sorted(tiles)  # each tile's pairs together, tiles in order


BLOCK_CASES = [
    (convention, colour) for convention in ("skimage", "gaussian") for colour in (False, True)
]


@pytest.mark.parametrize(("convention", "colour"), BLOCK_CASES)
def test_block_pairs_equal_all_pairs_and_scikit_image(convention, colour):
    images = [photo(40, 52, colour), *(noise_image((40, 52, 3)[: 2 + colour], s) for s in range(4))]
    images.append(images[0] // 3 + 80)
    first, second = images[:2], images[2:]
    block = score_block_pairs(first, second, convention)
    whole = score_all_pairs(images, convention)
    assert block.ssim.shape == block.mse.shape == block.psnr.shape == (2, 4)
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            # Same kernels, only the strips' summation order may differ.
            assert block.ssim[i, j] == pytest.approx(whole.ssim[i, 2 + j], abs=1e-12)
            assert block.mse[i, j] == whole.mse[i, 2 + j] == mean_squared_error(a, b)
            assert block.psnr[i, j] == whole.psnr[i, 2 + j]
            assert block.ssim[i, j] == pytest.approx(reference(a, b, convention), abs=TOLERANCE)


def test_block_pairs_score_an_image_against_itself():
    image = noise_image((30, 30), 7)
    block = score_block_pairs([image], [image, image.copy()], "skimage")
    assert block.ssim.tolist() == [[1.0, 1.0]]
    assert block.mse.tolist() == [[0.0, 0.0]]
    assert np.isinf(block.psnr).all()


@pytest.mark.parametrize(("first", "second"), [(0, 3), (3, 0), (0, 0)])
def test_an_empty_block_has_no_pairs(first, second):
    images = [noise_image((12, 12), seed) for seed in range(3)]
    block = score_block_pairs(images[:first], images[:second], "gaussian")
    assert block.ssim.shape == block.mse.shape == (first, second)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ([np.zeros((9, 9), np.uint8)], [np.zeros((9, 10), np.uint8)], "the same shape"),
        ([np.zeros((9, 9), np.uint8)], [np.zeros((9, 9), np.float32)], "must be uint8"),
        ([np.zeros((5, 9), np.uint8)], [np.zeros((5, 9), np.uint8)], "smaller than the 7x7"),
    ],
)
def test_block_pairs_validate_like_all_pairs(first, second, message):
    with pytest.raises(ValueError, match=message) as block_error:
        score_block_pairs(first, second, "skimage")
    with pytest.raises(ValueError) as all_error:
        score_all_pairs([*first, *second], "skimage")
    assert str(block_error.value) == str(all_error.value)


def adversarial_pair(kind: str, shape: tuple[int, ...]):
    """Inputs at the edges of the kernels' integer and float32 ranges."""
    rng = np.random.default_rng(sum(shape))
    checker = (np.indices(shape[:2]).sum(axis=0) % 2 * 255).astype(np.uint8)
    if len(shape) == 3:
        checker = np.repeat(checker[:, :, np.newaxis], shape[2], axis=2)
    if kind == "extremes":  # largest window sums and variances, exact anti-correlation
        return checker, 255 - checker
    if kind == "black-white":  # largest possible μ difference, no variance
        return np.zeros(shape, np.uint8), np.full(shape, 255, np.uint8)
    if kind == "flat-and-one-step":  # σ² and σxy near 0 next to a large mean
        a = np.full(shape, 254, np.uint8)
        b = a.copy()
        b.flat[rng.integers(0, b.size, 3)] = 255
        return a, b
    # σxy ≈ −C2/2 scale: b is the negative of a, with little contrast
    a = rng.integers(120, 124, shape, dtype=np.uint8)
    return a, (243 - a).astype(np.uint8)


ADVERSARIAL = [
    (convention, kind, shape)
    for convention in ("skimage", "gaussian")
    for kind in ("extremes", "black-white", "flat-and-one-step", "weak-anti-correlation")
    for shape in (
        (WINDOW[convention], WINDOW[convention]),
        (WINDOW[convention] + 1, 40),
        (64, 64, 3),
    )
]


@pytest.mark.parametrize(("convention", "kind", "shape"), ADVERSARIAL, ids=str)
def test_adversarial_inputs_equal_scikit_image(convention, kind, shape):
    a, b = adversarial_pair(kind, shape)
    scores = score_all_pairs([a, b], convention)
    assert scores.ssim[0, 1] == pytest.approx(reference(a, b, convention), abs=TOLERANCE)
    assert scores.mse[0, 1] == mean_squared_error(a, b)
    _, expected = reference(a, b, convention, full=True)
    np.testing.assert_allclose(ssim_map(a, b, convention), expected, rtol=0, atol=TOLERANCE)
