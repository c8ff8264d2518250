"""The Compare view: every pair's scores, as thumbnails, heatmap and table."""

from __future__ import annotations

import streamlit as st

import imgsim
from imgsim import timing
from imgsim.dashboard import compute, results
from imgsim.settings import pair_count
from imgsim.timing import format_duration

# From this many expected seconds the page says how long it expects: a wait of
# a second or two needs no warning, one of several seconds does.
LONG_SECONDS = 2.0


def show_time_estimate(files: compute.Files, *settings: imgsim.Settings) -> None:
    """Say how long comparing takes on this machine, when that is long enough to matter.

    Only the readable files are counted: an unreadable one is named and left
    out, so it adds no pairs. Several ``settings`` are the sizes of a sweep.
    """
    compute.calibrated_time_model()
    # The estimate grows with the count: when all files are quick, the readable
    # ones are too, and nothing is decoded ahead of the comparison's own reading.
    if timing.estimate_seconds(len(files), *settings) < LONG_SECONDS:
        return
    image_count = compute.readable_count(files)
    expected = timing.estimate_seconds(image_count, *settings)
    if expected < LONG_SECONDS:
        return
    pairs = pair_count(image_count)
    if len(settings) == 1:
        (one,) = settings
        what = (
            f"{image_count} images at {one.width}×{one.height} "
            f"({one.width * one.height / 1e6:.1f} MP each): {pairs} pairs"
        )
    else:
        what = f"{image_count} images at {len(settings)} sizes: {pairs} pairs at each size"
    st.info(
        f"{what}, expected to take about {format_duration(expected)} on this server. "
        f"Upsampling smooths images and raises {settings[0].score_name}, so compare scores "
        "only at one size."
    )


def compared(files: compute.Files, settings: imgsim.Settings) -> imgsim.Comparison:
    """The comparison, or an explanation and a stop when it is over the limits."""
    try:
        return compute.compare_files(files, settings)
    except imgsim.LimitError as error:
        st.error(f"Too much for one request: {error}.")
        st.stop()


def show(files: compute.Files, settings: imgsim.Settings) -> None:
    show_time_estimate(files, settings)
    result = compared(files, settings)
    if not results.show_errors(result, len(files)):
        st.stop()
    results.show_thumbnails(result)
    results.show_highlights(result)
    results.show_heatmap(result)
    results.show_table(result)
    results.show_downloads(result, files)
