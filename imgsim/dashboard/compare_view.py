"""The Compare view: every pair's scores, as thumbnails, heatmap and table."""

from __future__ import annotations

import re

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


def show_refusal(error: imgsim.LimitError, offered: tuple[int, int] | None) -> None:
    """One message for a request over the page's limits, and the largest size that fits.

    The message is the limit's reason without its environment variable: a
    visitor cannot change the server's environment (docs/limits.md says how
    its owner can). ``offered`` becomes a button that applies that size in the
    sidebar; None when no size helps (too many images).
    """
    reason = re.sub(r"(\d)x(\d)", r"\1×\2", error.reason)
    st.error(f"Too much for one request on this server: {reason}.")
    if offered is not None:
        offer_size(offered)


def offer_size(size: tuple[int, int]) -> None:
    """A button that applies ``size``, the largest that fits, in the sidebar."""
    width, height = size
    st.button(
        f"Use {width}×{height}, the largest size that fits",
        key="use_fitting_size",
        icon=":material/check:",
        on_click=apply_size,
        args=(size,),
    )


def apply_size(size: tuple[int, int]) -> None:
    """Set the sidebar's size (a button callback: it runs before the sidebar is drawn)."""
    st.session_state["width"], st.session_state["height"] = size


def compared(files: compute.Files, settings: imgsim.Settings) -> imgsim.Comparison:
    """The comparison, after the time it takes when long; or a refusal and a stop.

    The limits are checked first, so a refused request shows its refusal alone,
    not an estimate of work that will not run.
    """
    limits = compute.page_limits()
    try:
        limits.check(len(files), settings)
    except imgsim.LimitError as error:
        show_refusal(error, limits.largest_size(len(files), settings))
        st.stop()
    show_time_estimate(files, settings)
    return compute.compare_files(files, settings)


def show(files: compute.Files, settings: imgsim.Settings) -> None:
    result = compared(files, settings)
    if not results.show_errors(result, len(files)):
        st.stop()
    results.show_thumbnails(result)
    results.show_highlights(result)
    results.show_heatmap(result)
    results.show_table(result)
    results.show_downloads(result, files)
