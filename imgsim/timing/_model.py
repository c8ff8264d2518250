"""What a request costs: the one work formula, and the time model.

Work (`work`) is what the limits count: values allocated and compared, the
same for the API, the CLI and the page. Time (`TimeModel`) is what progress
bars and the page's estimates say; its rates are measured on the machine it
runs on, by a short probe of the real engine and preparation, and refined from
the runs actually done.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from imgsim.metrics import SCALES
from imgsim.settings import Settings, compared_values, pair_count, prepared_values, scored_values

# MS-SSIM against the default convention, per value of all its scales, fitted to
# `score_all_pairs` on the 2-core AMD EPYC development machine (2 to 40 images
# at 256² to 1024², each case within 20 %): a pair costs about what it costs at
# one scale; an image costs about 5x (its pyramid, and float64 Gaussian
# statistics at every scale, against the default's integer sums).
MS_SSIM_PAIR_COST = 1.0
MS_SSIM_IMAGE_COST = 5.2

# A pair scored in a collection's tile (`score_block_pairs`, as `neighbours` scores
# them), per scored value, against the default convention's: measured in CPU time
# (load on the shared machine swings wall time by 2x) on the 2-core development
# machine, 100 to 250 images at 200², 300² and 512², each within 5 %: Gaussian
# 1.55-1.75, MS-SSIM 1.61-1.69. With 1.0 for both, `neighbours --ssim ms-ssim`
# said 4.7 s left at 21 % of a 19 s run.
TILE_PAIR_COST = {"skimage": 1.0, "gaussian": 1.6, "ms-ssim": 1.65}


@dataclass(frozen=True)
class Rates:
    """Seconds per unit of each stage.

    Attributes
    ----------
    engine_call : float
        Fixed cost of one `score_all_pairs` call (threads, planning).
    pair_value : float
        Per compared value of one pair.
    image_value : float
        Per compared value of one image (its local statistics).
    prepared_value : float
        Per prepared value of one image (resize, grayscale, thumbnail).
    decode : float
        Per decoded image (a typical photo).
    """

    engine_call: float
    pair_value: float
    image_value: float
    prepared_value: float
    decode: float


# The engine's shape (per call, per pair, per image), fitted to `score_all_pairs`
# timings of the Numba engine on the 2-core AMD EPYC development machine (2 to
# 100 images at 16² to 1024²; each case within 15 %). The probe scales it to the
# machine it runs on; refit it when the engine changes.
FALLBACK_RATES = Rates(
    engine_call=0.0003,
    pair_value=1.2e-9,
    image_value=1.3e-9,
    prepared_value=1.3e-9,
    decode=0.01,
)

# Seconds per compared value of one pair for the SSIM terms (`imgsim.metrics._terms`:
# NumPy and OpenCV in float64), 7.5 times the engine's `pair_value` as their
# CPU times compared on the same machine (BENCHMARKS.md, "SSIM terms"); scaled
# like the engine by the probe, and refined from the runs done.
TERMS_PAIR_VALUE = 9e-9

# What the probe runs: (images, side) of the engine, from a call's fixed cost to
# many pairs; the whole probe takes about 0.3 s here.
ENGINE_PROBES = ((2, 256), (2, 1024), (6, 512), (12, 256))
PREPARE_PROBE_SIDE = 1024
DECODE_PROBE_SIDE = 1000  # a 1 MP JPEG, a small photo
PROBE_REPEATS = 3  # the fastest of these is kept: load only ever slows a run


@dataclass(frozen=True)
class EngineSample:
    """One timed `score_all_pairs` call."""

    images: int
    values: int
    seconds: float


def engine_seconds_at(rates: Rates, images: int, values: int, convention: str = "skimage") -> float:
    """Seconds of one `score_all_pairs` call on ``images`` images of ``values`` values.

    For ``"ms-ssim"``, ``values`` are those of every scale (`scored_values`);
    each scale is a pass of the engine with its fixed cost.
    """
    if images < 2:
        return 0.0
    if convention == "ms-ssim":
        return SCALES * rates.engine_call + values * (
            pair_count(images) * rates.pair_value * MS_SSIM_PAIR_COST
            + images * rates.image_value * MS_SSIM_IMAGE_COST
        )
    return rates.engine_call + values * (
        pair_count(images) * rates.pair_value + images * rates.image_value
    )


def fit_engine_scale(samples: Sequence[EngineSample]) -> float:
    """How much slower (> 1) or faster this machine's engine is than `FALLBACK_RATES`.

    The median of measured over predicted seconds: the shape of the cost (per
    pair, per image, per call) is the engine's and was measured by the
    benchmark; only the machine's speed is fitted, and the median ignores a
    sample that a busy moment slowed down. (Fitting all three rates from a
    probe this short swung them by 4x on a loaded machine.)
    """
    if not samples:
        raise ValueError("fitting the engine's speed needs at least one timed call; got none")
    ratios = [
        sample.seconds / engine_seconds_at(FALLBACK_RATES, sample.images, sample.values)
        for sample in samples
    ]
    return float(np.median(ratios))


def measure_rates(timer: Callable[[], float] = time.perf_counter) -> Rates:
    """Time the real engine, preparation and decoding on small generated images."""
    # Imported here: the engine and decoding import nothing from this module,
    # and a bare `import imgsim.timing` stays light.
    import cv2

    from imgsim.images import decode, from_array, prepare, thumbnail
    from imgsim.metrics import score_all_pairs, warm_up

    # Loading (or, on a machine's first run, compiling) the kernels is not
    # comparison time: done first, it stays out of the rates.
    warm_up()
    rng = np.random.default_rng(0)

    def fastest(run: Callable[[], object]) -> float:
        best = float("inf")
        for _ in range(PROBE_REPEATS):
            start = timer()
            run()
            best = min(best, timer() - start)
        return best

    samples = []
    for count, side in ENGINE_PROBES:
        # Smooth images, as photos are, rather than pure noise.
        base = cv2.GaussianBlur(rng.integers(0, 256, (side, side), dtype=np.uint8), (0, 0), 2)
        images = [np.roll(base, shift, axis=1) for shift in range(count)]
        seconds = fastest(functools.partial(score_all_pairs, images, "skimage"))
        samples.append(EngineSample(count, side * side, seconds))
    scale = fit_engine_scale(samples)
    source = from_array(rng.integers(0, 256, (768, 1000, 3), dtype=np.uint8), "probe")
    settings = Settings(size=(PREPARE_PROBE_SIDE, PREPARE_PROBE_SIDE))
    # Preparing an image includes its thumbnail (`compare` makes both at once).
    prepare_seconds = fastest(lambda: thumbnail(prepare(source, settings)))
    photo = cv2.GaussianBlur(
        rng.integers(0, 256, (DECODE_PROBE_SIDE, DECODE_PROBE_SIDE, 3), dtype=np.uint8), (0, 0), 1
    )
    jpeg = cv2.imencode(".jpg", photo)[1].tobytes()
    decode_seconds = fastest(lambda: decode(jpeg, "probe.jpg"))
    return Rates(
        engine_call=FALLBACK_RATES.engine_call * scale,
        pair_value=FALLBACK_RATES.pair_value * scale,
        image_value=FALLBACK_RATES.image_value * scale,
        prepared_value=prepare_seconds / prepared_values(settings),
        decode=decode_seconds,
    )


STAGES = ("prepare", "engine", "terms")
MIN_RECORDED_SECONDS = 0.05  # shorter runs are mostly noise
RATIO_BOUNDS = (0.25, 4.0)
RATIO_WEIGHT = 0.3  # of each new run in the running ratio


class TimeModel:
    """Expected seconds of each stage, calibrated on this machine.

    Parameters
    ----------
    probe : callable returning Rates
        Run once, lazily, by the first estimate (or `calibrate`).
    weight : float
        Share of each recorded run in the running ratio of measured to
        predicted seconds, per stage.
    bounds : (float, float)
        The ratio never leaves these bounds: one odd run (a busy machine, a
        cold cache) cannot make estimates absurd.
    """

    def __init__(
        self,
        probe: Callable[[], Rates] = measure_rates,
        weight: float = RATIO_WEIGHT,
        bounds: tuple[float, float] = RATIO_BOUNDS,
    ) -> None:
        if not 0.0 < weight <= 1.0:
            raise ValueError(f"weight must be in (0, 1]; got {weight}")
        if not 0.0 < bounds[0] <= 1.0 <= bounds[1]:
            raise ValueError(f"bounds must be (low <= 1 <= high), both positive; got {bounds}")
        self._probe = probe
        self._weight = weight
        self._bounds = bounds
        self._rates: Rates | None = None
        self._ratios = dict.fromkeys(STAGES, 1.0)
        self._lock = threading.Lock()

    def calibrate(self) -> Rates:
        """The measured rates, probing once per model (later calls return at once)."""
        with self._lock:
            if self._rates is None:
                self._rates = self._probe()
            return self._rates

    @property
    def calibrated(self) -> bool:
        return self._rates is not None

    def ratio(self, stage: str) -> float:
        """Running ratio of measured to predicted seconds for ``stage``."""
        return self._ratios[stage]

    def decode_seconds(self) -> float:
        """Expected seconds to decode one image (a typical photo)."""
        return self.calibrate().decode * self._ratios["prepare"]

    def preparation_seconds(self, settings: Settings, decode: bool = True) -> float:
        """Expected seconds to prepare one image, and to decode it first unless told not to."""
        seconds = prepared_values(settings) * self.calibrate().prepared_value
        seconds *= self._ratios["prepare"]
        return seconds + (self.decode_seconds() if decode else 0.0)

    def engine_seconds(self, image_count: int, settings: Settings) -> float:
        """Expected seconds of `score_all_pairs` on ``image_count`` prepared images."""
        seconds = engine_seconds_at(
            self.calibrate(), image_count, scored_values(settings), settings.ssim_convention
        )
        return seconds * self._ratios["engine"]

    def terms_seconds(self, image_count: int, settings: Settings) -> float:
        """Expected seconds of `imgsim.metrics.all_pair_terms` on ``image_count`` images."""
        speed = self.calibrate().pair_value / FALLBACK_RATES.pair_value
        seconds = pair_count(image_count) * compared_values(settings) * TERMS_PAIR_VALUE
        return seconds * speed * self._ratios["terms"]

    def pair_seconds(self, settings: Settings) -> float:
        """Expected seconds of one more pair in a collection's tile (`neighbours`)."""
        seconds = scored_values(settings) * self.calibrate().pair_value
        seconds *= TILE_PAIR_COST[settings.ssim_convention]
        return seconds * self._ratios["engine"]

    def estimate_seconds(
        self, image_count: int, *settings: Settings, decoded: bool = False
    ) -> float:
        """Expected seconds to compare ``image_count`` images at each of ``settings``.

        Images are decoded once (not at all when ``decoded``), then prepared and
        compared at each size: a sweep's sizes add up.
        """
        decoding = 0.0 if decoded else image_count * self.decode_seconds()
        return decoding + sum(
            image_count * self.preparation_seconds(each, decode=False)
            + self.engine_seconds(image_count, each)
            for each in settings
        )

    def record(self, stage: str, predicted: float, measured: float) -> None:
        """Learn from one run of ``stage``: predicted (by this model) and measured seconds.

        Runs too short to measure are ignored.
        """
        if stage not in self._ratios:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}; got {stage!r}")
        if predicted < MIN_RECORDED_SECONDS or measured < MIN_RECORDED_SECONDS:
            return
        low, high = self._bounds
        with self._lock:
            current = self._ratios[stage]
            # The prediction already carried the current ratio; this run's ratio is
            # what it would have needed.
            observed = current * measured / predicted
            updated = (1 - self._weight) * current + self._weight * observed
            self._ratios[stage] = min(high, max(low, updated))


MODEL = TimeModel()
# For work nobody watches (no progress callback): no probe, nothing to learn.
UNWATCHED = TimeModel(probe=lambda: FALLBACK_RATES)


def calibrated_model() -> TimeModel:
    """The machine's calibrated model (probed on first use), as the page and the index use it."""
    return MODEL


def model_for(progress: object | None) -> TimeModel:
    """The calibrated model when someone watches the progress, else `UNWATCHED`."""
    return MODEL if progress is not None else UNWATCHED


def estimate_seconds(image_count: int, *settings: Settings, decoded: bool = False) -> float:
    """Expected seconds to compare ``image_count`` images at each size, on this machine."""
    return MODEL.estimate_seconds(image_count, *settings, decoded=decoded)
