"""The Compare view: every pair's scores, as thumbnails, heatmap and table."""

from __future__ import annotations

import streamlit as st

import imgsim
from imgsim.engine import estimate_seconds
from imgsim.progress import format_duration
from views import compute, results

LARGE_WORK_PIXELS = 4_000_000


def show_time_estimate(image_count: int, settings: imgsim.Settings) -> None:
    """Above a few megapixels, say how long the comparison is expected to take."""
    if settings.width * settings.height < LARGE_WORK_PIXELS:
        return
    pairs = image_count * (image_count - 1) // 2
    expected = format_duration(estimate_seconds(image_count, settings))
    st.info(
        f"{image_count} images at {settings.width}×{settings.height} "
        f"({settings.width * settings.height / 1e6:.0f} MP each): {pairs} pairs, "
        f"expected to take about {expected}. Upsampling smooths images and raises "
        "SSIM, so compare scores only at one size."
    )


def compared(files: compute.Files, settings: imgsim.Settings) -> imgsim.Comparison:
    """The comparison, or an explanation and a stop when it is over the limits."""
    try:
        return compute.compare_files(files, settings)
    except imgsim.LimitError as error:
        st.error(f"Too much for one request: {error}.")
        st.stop()


def show(files: compute.Files, settings: imgsim.Settings) -> None:
    show_time_estimate(len(files), settings)
    result = compared(files, settings)
    if not results.show_errors(result, len(files)):
        st.stop()
    results.show_thumbnails(result)
    results.show_highlights(result)
    results.show_heatmap(result)
    results.show_table(result)
    results.show_downloads(result)
