"""The sidebar: widgets in, plain values out."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from imgsim import samples
from imgsim.decoding import FORMATS_TEXT
from imgsim.settings import (
    ALPHA_MODES,
    DEFAULT_SIZE,
    FITS,
    INTERPS,
    SSIM_CONVENTIONS,
    Settings,
)
from views import compute

FIT_LABELS = {
    "stretch": "Stretch (ignore aspect)",
    "pad": "Pad (letterbox)",
    "crop": "Crop (centre)",
}
INTERP_LABELS = {
    "linear": "Bilinear",
    "area": "Area",
    "cubic": "Bicubic",
    "nearest": "Nearest",
    "lanczos": "Lanczos",
}
ALPHA_LABELS = {
    "white": "Composite on white",
    "black": "Composite on black",
    "ignore": "Ignore alpha (like cv2.imread)",
}
SSIM_LABELS = {
    "skimage": "scikit-image (7×7 uniform)",
    "gaussian": "Wang et al. 2004 (Gaussian σ 1.5)",
}


@dataclass(frozen=True)
class SidebarChoices:
    """What the sidebar asked for.

    Exactly one of ``settings`` and ``settings_error`` is set.
    """

    uploads: tuple[tuple[str, bytes], ...]
    sample: str
    settings: Settings | None
    settings_error: str | None


def settings_ui() -> SidebarChoices:
    """Draw the sidebar and return the user's choices."""
    with st.sidebar:
        st.header("Images")
        # No type filter: a file with a wrong or missing extension is still read by
        # its content, and anything unreadable gets a message naming it.
        uploaded = st.file_uploader(
            "Upload images to compare",
            accept_multiple_files=True,
            help=f"{FORMATS_TEXT} (first frame of an animation). Every pair is compared.",
        )
        sample = st.selectbox(
            "Sample set (shown while nothing is uploaded)",
            samples.sample_names(),
            disabled=bool(uploaded),
        )
        st.header("Preparation")
        width_column, height_column = st.columns(2)
        max_side = compute.page_limits().max_side
        width = width_column.number_input(
            "Width", min_value=1, max_value=max_side, value=DEFAULT_SIZE[0], step=64
        )
        height = height_column.number_input(
            "Height", min_value=1, max_value=max_side, value=DEFAULT_SIZE[1], step=64
        )
        grayscale = st.toggle(
            "Grayscale",
            value=True,
            help="Compare OpenCV's luma of each resized image; off compares all "
            "three colour channels.",
        )
        fit = st.selectbox(
            "Fit",
            FITS,
            format_func=FIT_LABELS.get,
            help="How images whose aspect differs from the target are brought to "
            "size. Stretching distorts them; padding adds borders; cropping cuts "
            "the edges.",
        )
        interp = st.selectbox("Interpolation", INTERPS, format_func=INTERP_LABELS.get)
        alpha = st.selectbox("Transparent pixels", ALPHA_MODES, format_func=ALPHA_LABELS.get)
        st.header("Metric")
        ssim = st.selectbox(
            "SSIM convention",
            SSIM_CONVENTIONS,
            format_func=SSIM_LABELS.get,
            help="scikit-image's defaults, or the Gaussian-weighted SSIM of the "
            "original paper. They give different numbers for the same images.",
        )
    uploads = compute.uploads_of(uploaded or ())
    try:
        settings = Settings(
            size=(int(width), int(height)),
            grayscale=grayscale,
            fit=fit,
            interp=interp,
            alpha=alpha,
            ssim_convention=ssim,
        )
    except ValueError as error:
        return SidebarChoices(uploads, sample, None, str(error))
    return SidebarChoices(uploads, sample, settings, None)
