"""The cost model: one work formula, and a time model calibrated without the clock."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace

import pytest

import imgsim.timing._model as cost
from imgsim import Settings
from imgsim.timing._model import (
    FALLBACK_RATES,
    EngineSample,
    Rates,
    TimeModel,
    engine_seconds_at,
    fit_engine_scale,
)
from imgsim.timing._progress import Progress, ProgressTracker, format_duration

RATES = Rates(engine_call=0.01, pair_value=2e-9, image_value=3e-9, prepared_value=1e-9, decode=0.05)


def model(rates: Rates = RATES, **options) -> TimeModel:
    return TimeModel(probe=lambda: rates, **options)


def engine_samples(slowness: float) -> list[EngineSample]:
    """What the probe would time on a machine ``slowness`` times slower than the fallback's."""
    return [
        EngineSample(n, s * s, slowness * engine_seconds_at(FALLBACK_RATES, n, s * s))
        for n, s in cost.ENGINE_PROBES
    ]


@pytest.mark.parametrize("slowness", [0.5, 1.0, 3.0])
def test_the_fit_finds_how_fast_this_machine_is(slowness):
    assert fit_engine_scale(engine_samples(slowness)) == pytest.approx(slowness)


def test_a_busy_moment_during_one_probe_does_not_move_the_fit():
    samples = engine_samples(2.0)
    samples[1] = replace(samples[1], seconds=samples[1].seconds * 10)
    assert fit_engine_scale(samples) == pytest.approx(2.0, rel=0.35)


def test_fitting_needs_a_timed_call():
    with pytest.raises(ValueError, match="at least one timed call; got none"):
        fit_engine_scale([])


def test_the_probe_runs_once_even_when_asked_from_many_threads():
    calls = []
    barrier = threading.Barrier(4)

    def probe() -> Rates:
        calls.append(1)
        return RATES

    shared = TimeModel(probe=probe)

    def ask() -> None:
        barrier.wait()
        shared.estimate_seconds(3, Settings())

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and shared.calibrated


def test_the_model_is_not_probed_until_an_estimate_is_needed():
    lazy = TimeModel(probe=lambda: pytest.fail("probed too early"))
    assert not lazy.calibrated


def test_estimates_follow_the_rates():
    settings = Settings(size=(1000, 1000))
    expected_engine = 0.01 + 1e6 * (3 * 2e-9 + 3 * 3e-9)
    expected_prepare = 0.05 + 3e6 * 1e-9
    estimate = model().estimate_seconds(3, settings)
    assert estimate == pytest.approx(3 * expected_prepare + expected_engine)
    # Already decoded images are not decoded again; one image has no pairs.
    assert model().estimate_seconds(3, settings, decoded=True) == pytest.approx(
        3 * (expected_prepare - 0.05) + expected_engine
    )
    assert model().engine_seconds(1, settings) == 0.0
    # A sweep adds up its sizes, and decodes once.
    small = Settings(size=(64, 64))
    assert model().estimate_seconds(3, settings, small) == pytest.approx(
        model().estimate_seconds(3, settings) + model().estimate_seconds(3, small, decoded=True)
    )


def test_terms_estimates_scale_with_pairs_and_the_machine_and_learn_from_runs():
    settings = Settings(size=(100, 100))
    fallback = model(FALLBACK_RATES).terms_seconds(4, settings)
    assert fallback == pytest.approx(6 * 10_000 * cost.TERMS_PAIR_VALUE)
    # RATES' engine is 2e-9 / 1.2e-9 times slower per pair value than the fallback's.
    slower = model().terms_seconds(4, settings)
    assert slower == pytest.approx(fallback * RATES.pair_value / FALLBACK_RATES.pair_value)
    assert model().terms_seconds(1, settings) == 0.0
    learning = model(weight=1.0)
    learning.record("terms", predicted=1.0, measured=2.0)
    assert learning.terms_seconds(4, settings) == pytest.approx(2 * slower)
    assert learning.ratio("engine") == 1.0


def test_runs_refine_each_stage_towards_what_was_measured():
    learning = model(weight=0.5)
    learning.record("engine", predicted=1.0, measured=2.0)
    assert learning.ratio("engine") == pytest.approx(1.5)
    assert learning.ratio("prepare") == 1.0
    for _ in range(30):
        predicted = learning.ratio("engine") * 1.0
        learning.record("engine", predicted=predicted, measured=2.0)
    assert learning.ratio("engine") == pytest.approx(2.0, rel=1e-3)


def test_one_odd_run_cannot_make_estimates_absurd():
    bounded = model(weight=1.0, bounds=(0.25, 4.0))
    bounded.record("prepare", predicted=0.1, measured=100.0)
    assert bounded.ratio("prepare") == 4.0
    bounded.record("prepare", predicted=400.0, measured=0.1)
    assert bounded.ratio("prepare") == 0.25


def test_runs_too_short_to_measure_teach_nothing():
    quiet = model(weight=1.0)
    quiet.record("engine", predicted=0.001, measured=0.04)
    assert quiet.ratio("engine") == 1.0


@pytest.mark.parametrize(
    ("options", "message"),
    [({"weight": 0}, "weight must be in"), ({"bounds": (2.0, 4.0)}, "bounds must be")],
)
def test_invalid_model_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        model(**options)


def test_recording_an_unknown_stage_is_refused():
    with pytest.raises(
        ValueError, match="stage must be one of prepare, engine, terms; got 'decode'"
    ):
        model().record("decode", 1.0, 1.0)


def test_the_time_left_starts_from_the_model_and_follows_the_observed_speed():
    # 0.1 of 10 expected seconds done in 1 s: one slow first step moves it little.
    early = Progress(done=0.1, total=10.0, message="", elapsed=1.0)
    assert early.remaining == pytest.approx(9.9 * (1.0 + 0.5) / (0.1 + 0.5))
    assert early.remaining < 3 * 9.9
    # A run steadily three times slower than the model is soon believed.
    steady = Progress(done=3.0, total=10.0, message="", elapsed=9.0)
    assert steady.remaining == pytest.approx(7.0 * 9.5 / 3.5)
    late = Progress(done=9.0, total=10.0, message="", elapsed=27.0)
    assert late.remaining == pytest.approx(1.0 * 27.5 / 9.5)
    assert Progress(done=0.0, total=10.0, message="", elapsed=1.0).remaining is None


def test_the_countdown_keeps_pace_with_a_slow_machine():
    """Shown every second of a run 2.5 times slower than the model, it falls steadily."""
    total, slowness = 40.0, 2.5
    run = total * slowness
    shown = [
        Progress(second / slowness, total, "", elapsed=float(second)).remaining
        for second in range(1, int(run))
    ]
    # From a tenth of the way in: within 15 % of the truth, and falling every second.
    settled = shown[int(run / 10) :]
    assert all(later < earlier for earlier, later in itertools.pairwise(settled))
    for second, left in enumerate(settled, start=int(run / 10) + 1):
        assert left == pytest.approx(run - second, rel=0.15)


def test_the_time_left_falls_steadily_when_the_model_is_right():
    total = 20.0
    shown = [Progress(done, total, "", elapsed=done).remaining for done in range(1, 20)]
    assert shown == sorted(shown, reverse=True)
    assert shown == pytest.approx([total - done for done in range(1, 20)])


def test_the_real_probe_gives_positive_rates():
    rates = cost.measure_rates()
    assert rates.engine_call >= 0
    assert min(rates.pair_value, rates.image_value, rates.prepared_value, rates.decode) > 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0.4 s"),
        (12, "12 s"),
        (185, "3 min 05 s"),
        (3599, "59 min 59 s"),
        (3600, "1 h 00 min"),
        (66_240, "18 h 24 min"),  # not "1104 min 00 s"
    ],
)
def test_durations_read_in_the_largest_sensible_unit(seconds, text):
    assert format_duration(seconds) == text


def test_time_left_follows_the_speed_of_the_current_stage():
    now = [0.0]
    seen = []
    tracker = ProgressTracker(10.0, seen.append, clock=lambda: now[0])
    now[0] = 1.0
    tracker.update(4.0, "preparing images")  # the model said 4 s; it took 1 s
    tracker.new_stage()
    now[0] = 5.0
    tracker.update(6.0, "compared 2 of 6 pairs")  # 2 s of the model's pairs took 4 s
    # 4 model seconds of pairs left at about twice the model's time (the prior
    # pulls a little towards the model): not the 3.4 s the whole run's speed gives.
    assert 6.5 < seen[-1].remaining < 8.0
