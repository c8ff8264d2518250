"""Cached calls into the core. The only place the page computes anything.

Each cached call that can take long creates its own progress bar: a cache hit
then replays it (already emptied) instead of referring to an element outside
the cached call, which Streamlit cannot replay.

Caches that hold what users uploaded are bounded in entries and bytes and are
per session: Streamlit drops them when the session ends.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import replace

import streamlit as st
from PIL import Image

import imgsim
from imgsim import samples
from imgsim.comparison import thumbnail
from imgsim.differences import PairInspection, inspect_pair
from imgsim.progress import Progress, format_duration
from imgsim.sweep import Sweep, sweep

Files = tuple[tuple[str, bytes], ...]
READING_SHARE = 0.1  # of the bar, for decoding the files


@st.cache_resource
def page_limits() -> imgsim.Limits:
    """The limits from the environment (IMGSIM_MAX_*), read once per server."""
    return imgsim.Limits.from_environment()


@st.cache_data(max_entries=64, max_size="1GiB", scope="session", show_spinner=False)
def decode_file(name: str, data: bytes, max_pixels: int) -> imgsim.DecodedImage | imgsim.ImageError:
    """Decode one uploaded file, keyed on its bytes."""
    return imgsim.load_image((name, data), max_pixels=max_pixels)


def _read(files: Files, bar) -> list[imgsim.DecodedImage | imgsim.ImageError]:
    decoded = []
    for index, (name, data) in enumerate(files):
        share = READING_SHARE * index / len(files)
        bar.progress(share, text=f"Reading {name} ({index + 1} of {len(files)})")
        decoded.append(decode_file(name, data, page_limits().max_pixels))
    return decoded


def _reporter(bar) -> Callable[[Progress], None]:
    def report(progress: Progress) -> None:
        fraction = READING_SHARE + (1 - READING_SHARE) * progress.fraction
        left = progress.remaining
        eta = f" · about {format_duration(left)} left" if left and left >= 1 else ""
        bar.progress(min(1.0, fraction), text=f"{progress.message.capitalize()}{eta}")

    return report


@st.cache_data(max_entries=16, max_size="256MiB", scope="session", show_spinner=False)
def compare_files(files: Files, settings: imgsim.Settings) -> imgsim.Comparison:
    """Compare files under settings, keyed on their bytes and the settings.

    Raises `imgsim.LimitError` for a request over the page's limits.
    """
    page_limits().check(len(files), settings)
    bar = st.progress(0.0, text="Reading images…")
    result = imgsim.compare(
        _read(files, bar), settings, progress=_reporter(bar), limits=page_limits()
    )
    bar.empty()
    return result


@st.cache_data(max_entries=8, max_size="128MiB", scope="session", show_spinner=False)
def sweep_files(
    files: Files, sizes: tuple[tuple[int, int], ...], settings: imgsim.Settings
) -> Sweep:
    """Compare files at each size, keyed on their bytes, the sizes and the settings."""
    per_size = [replace(settings, size=size) for size in sizes]
    page_limits().check(len(files), *per_size)
    bar = st.progress(0.0, text="Reading images…")
    result = sweep(
        _read(files, bar), sizes, settings, progress=_reporter(bar), limits=page_limits()
    )
    bar.empty()
    return result


@st.cache_data(
    max_entries=8, max_size="512MiB", scope="session", show_spinner="Inspecting the pair…"
)
def inspect_files(
    first: tuple[str, bytes], second: tuple[str, bytes], settings: imgsim.Settings
) -> PairInspection:
    """The SSIM map and regions of one pair, keyed on both files and the settings."""
    limits = page_limits()
    return inspect_pair(
        decode_file(*first, limits.max_pixels),
        decode_file(*second, limits.max_pixels),
        settings,
        limits=limits,
    )


@st.cache_data(max_entries=4, show_spinner="Preparing the sample images…")
def sample_files(name: str) -> Files:
    return tuple(samples.load_sample(name))


@st.cache_data(max_entries=8, max_size="64MiB", scope="session", show_spinner=False)
def thumbnail_uris(files: Files, settings: imgsim.Settings, side: int = 64) -> list[str]:
    """Small PNG data URIs of what was compared, for image columns in tables."""
    result = compare_files(files, settings)
    uris = []
    for image in result.thumbnails:
        small = thumbnail(image, side)
        buffer = io.BytesIO()
        Image.fromarray(small).save(buffer, "PNG")
        uris.append(f"data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}")
    return uris
