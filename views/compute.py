"""Cached calls into the core. The only place the page computes anything."""

from __future__ import annotations

import streamlit as st

import imgsim
from imgsim import samples
from imgsim.progress import Progress, format_duration

Files = tuple[tuple[str, bytes], ...]


@st.cache_data(max_entries=64, show_spinner=False)
def decode_file(name: str, data: bytes) -> imgsim.DecodedImage | imgsim.ImageError:
    """Decode one uploaded file, keyed on its bytes."""
    return imgsim.load_image((name, data))


@st.cache_data(max_entries=16, show_spinner=False)
def compare_files(files: Files, settings: imgsim.Settings) -> imgsim.Comparison:
    """Compare files under settings, keyed on their bytes and the settings.

    The progress bar is created here so that a cache hit replays it (already
    emptied) instead of referring to an element outside the cached call.
    """
    bar = st.progress(0.0, text="Reading images…")
    count = len(files)
    decoded = []
    for index, (name, data) in enumerate(files):
        bar.progress(index / (2 * count + 1), text=f"Reading {name} ({index + 1} of {count})")
        decoded.append(decode_file(name, data))

    def report(progress: Progress) -> None:
        fraction = (count + progress.done) / (count + progress.total)
        left = progress.remaining
        eta = f" · about {format_duration(left)} left" if left and left >= 1 else ""
        bar.progress(min(1.0, fraction), text=f"{progress.message.capitalize()}{eta}")

    result = imgsim.compare(decoded, settings, progress=report)
    bar.empty()
    return result


@st.cache_data(max_entries=4, show_spinner="Preparing the sample images…")
def sample_files(name: str) -> Files:
    return tuple(samples.load_sample(name))
