"""Cached calls into the core. The only place the page computes anything.

Each cached call that can take long creates its own progress bar: a cache hit
then replays it (already emptied) instead of referring to an element outside
the cached call, which Streamlit cannot replay.

Caches that hold what users uploaded are bounded in entries and bytes and are
per session: Streamlit drops them when the session ends.
"""

from __future__ import annotations

import base64
import hashlib
import io
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import streamlit as st
from PIL import Image

import imgsim
from imgsim import data, timing
from imgsim.analyses import PairInspection, Sweep, inspect_pair, sweep
from imgsim.images import thumbnail
from imgsim.timing import Progress, format_duration

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.typing import UploadedFile


class Upload(tuple[str, bytes]):
    """A file as ``(name, bytes)``, carrying the SHA-256 of its bytes.

    Caches are keyed on the digest (`HASH_FUNCS`), so a file's bytes are hashed
    once, not by every cached call on every rerun (about 2 s per 100 MB here).
    """

    digest: str

    def __new__(cls, name: str, data: bytes, digest: str | None = None) -> Upload:
        upload = super().__new__(cls, (name, data))
        upload.digest = digest or hashlib.sha256(data).hexdigest()
        return upload

    def __getnewargs__(self) -> tuple[str, bytes, str]:
        # Keeps the digest through st.cache_data's pickling of the data.
        return (self[0], self[1], self.digest)


Files = tuple[Upload, ...]
# Typed as st.cache_data's hash_funcs parameter (a dict is invariant in its keys).
HASH_FUNCS: dict[str | type[Any], Callable[[Any], Any]] = {
    Upload: lambda upload: (upload[0], upload.digest)
}
DIGESTS_KEY = "upload_digests"


def uploads_of(uploaded: Iterable[UploadedFile], key: str = DIGESTS_KEY) -> Files:
    """Uploaded files as `Upload`s, each hashed once per session (by its file id).

    ``key`` names where the digests are kept: one per uploader.
    """
    known = st.session_state.get(key, {})
    current = {}
    files = []
    for file in uploaded:
        data = file.getvalue()
        digest = known.get(file.file_id) or hashlib.sha256(data).hexdigest()
        current[file.file_id] = digest
        files.append(Upload(file.name, data, digest))
    # Only the current uploads' digests are kept: the dict stays bounded.
    st.session_state[key] = current
    return tuple(files)


@st.cache_resource
def page_limits() -> imgsim.Limits:
    """The limits from the environment (IMGSIM_MAX_*), read once per server."""
    return imgsim.Limits.from_environment()


@st.cache_resource(show_spinner="Measuring this machine's speed (once per server)…")
def calibrated_time_model() -> timing.TimeModel:
    """The time model, calibrated once per server (a probe of about 0.3 s).

    Called from the page's script, never while this module is imported: a
    session stopped during an import-time call left ``views`` half-imported,
    and the next visitor got an ImportError.
    """
    timing.calibrated_model().calibrate()
    return timing.calibrated_model()


@st.cache_data(
    max_entries=64, max_size="1GiB", scope="session", show_spinner=False, hash_funcs=HASH_FUNCS
)
def decode_file(file: Upload, max_pixels: int) -> imgsim.DecodedImage | imgsim.ImageError:
    """Decode one uploaded file, keyed on its digest."""
    return imgsim.load_image((file[0], file[1]), max_pixels=max_pixels)


def readable_count(files: Files) -> int:
    """How many of ``files`` decode (each decoded once: `decode_file` is cached)."""
    limit = page_limits().max_pixels
    return sum(isinstance(decode_file(file, limit), imgsim.DecodedImage) for file in files)


def _time_left(progress: Progress) -> str:
    left = progress.remaining
    return f" · about {format_duration(left)} left" if left and left >= 1 else ""


def _read_and_report(
    files: Files, bar: DeltaGenerator, *settings: imgsim.Settings
) -> tuple[list[imgsim.DecodedImage | imgsim.ImageError], Callable[[Progress], None]]:
    """Decode the files with a countdown on ``bar``; then the reporter for the rest.

    The bar is shared in expected seconds (`imgsim.timing`): reading the files,
    then comparing at each of ``settings``.
    """
    model = timing.calibrated_model()
    each = model.decode_seconds()
    reading = each * len(files)
    total = reading + model.estimate_seconds(len(files), *settings, decoded=True)
    share = reading / total if total > 0 else 0.0
    started = time.monotonic()
    decoded = []
    for index, file in enumerate(files):
        done = Progress(each * index, total, "", time.monotonic() - started)
        text = f"Reading {file[0]} ({index + 1} of {len(files)}){_time_left(done)}"
        bar.progress(share * index / len(files), text=text)
        decoded.append(decode_file(file, page_limits().max_pixels))

    def report(progress: Progress) -> None:
        fraction = share + (1 - share) * progress.fraction
        text = f"{progress.message.capitalize()}{_time_left(progress)}"
        bar.progress(min(1.0, fraction), text=text)

    return decoded, report


@st.cache_data(
    max_entries=16, max_size="256MiB", scope="session", show_spinner=False, hash_funcs=HASH_FUNCS
)
def compare_files(files: Files, settings: imgsim.Settings) -> imgsim.Comparison:
    """Compare files under settings, keyed on their digests and the settings.

    Raises `imgsim.LimitError` for a request over the page's limits.
    """
    page_limits().check(len(files), settings)
    bar = st.progress(0.0, text="Reading images…")
    decoded, report = _read_and_report(files, bar, settings)
    result = imgsim.compare(decoded, settings, progress=report, limits=page_limits())
    bar.empty()
    return result


@st.cache_data(
    max_entries=8, max_size="128MiB", scope="session", show_spinner=False, hash_funcs=HASH_FUNCS
)
def sweep_files(
    files: Files, sizes: tuple[tuple[int, int], ...], settings: imgsim.Settings
) -> Sweep:
    """Compare files at each size, keyed on their digests, the sizes and the settings."""
    per_size = [replace(settings, size=size) for size in sizes]
    page_limits().check(len(files), *per_size)
    bar = st.progress(0.0, text="Reading images…")
    decoded, report = _read_and_report(files, bar, *per_size)
    result = sweep(decoded, sizes, settings, progress=report, limits=page_limits())
    bar.empty()
    return result


@st.cache_data(
    max_entries=8,
    max_size="512MiB",
    scope="session",
    show_spinner="Inspecting the pair…",
    hash_funcs=HASH_FUNCS,
)
def inspect_files(first: Upload, second: Upload, settings: imgsim.Settings) -> PairInspection:
    """The SSIM map and regions of one pair, keyed on both files and the settings."""
    limits = page_limits()
    return inspect_pair(
        decode_file(first, limits.max_pixels),
        decode_file(second, limits.max_pixels),
        settings,
        limits=limits,
    )


@st.cache_data(max_entries=4, show_spinner="Preparing the sample images…")
def sample_files(name: str) -> Files:
    return tuple(Upload(name, data) for name, data in data.load_sample(name))


@st.cache_data(
    max_entries=8, max_size="64MiB", scope="session", show_spinner=False, hash_funcs=HASH_FUNCS
)
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
