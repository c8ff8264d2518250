"""Timing: the time model (calibrated on this machine) and progress with time left.

Work (`imgsim.settings.work`) is what the limits count; time is what progress
bars and the page's estimates say.
"""

from imgsim.timing._model import (
    FALLBACK_RATES,
    MODEL,
    UNWATCHED,
    EngineSample,
    Rates,
    TimeModel,
    calibrated_model,
    engine_seconds_at,
    estimate_seconds,
    fit_engine_scale,
    measure_rates,
    model_for,
)
from imgsim.timing._progress import Progress, ProgressCallback, ProgressTracker, format_duration

__all__ = [
    "FALLBACK_RATES",
    "MODEL",
    "UNWATCHED",
    "EngineSample",
    "Progress",
    "ProgressCallback",
    "ProgressTracker",
    "Rates",
    "TimeModel",
    "calibrated_model",
    "engine_seconds_at",
    "estimate_seconds",
    "fit_engine_scale",
    "format_duration",
    "measure_rates",
    "model_for",
]
