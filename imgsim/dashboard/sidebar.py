"""The sidebar: widgets in, plain values out."""

from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

from imgsim import data
from imgsim.dashboard import compute, state
from imgsim.images import FORMATS_TEXT
from imgsim.settings import ALPHA_MODES, DEFAULT_SIZE, FITS, INTERPS, SSIM_CONVENTIONS, Settings

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
# The last (size, convention) that could be used: kept while a new choice is refused.
VALID_KEY = "_valid_settings"

SSIM_LABELS = {
    "skimage": "scikit-image (7×7 uniform)",
    "gaussian": "Wang et al. 2004 (Gaussian σ 1.5)",
    "ms-ssim": "MS-SSIM, 5 scales (sides ≥ 161)",
}


@dataclass(frozen=True)
class SidebarChoices:
    """What the sidebar asked for.

    Exactly one of ``settings`` and ``settings_error`` is set. ``source``
    identifies the images: the uploads' ids, or the sample's name. ``refused``
    is the (size, convention) typed but refused while ``settings`` were kept.
    """

    uploads: compute.Files
    sample: str
    settings: Settings | None
    settings_error: str | None
    source: tuple[str, ...] = ()
    refused: tuple[tuple[int, int], str] | None = None


def settings_ui() -> SidebarChoices:
    """Draw the sidebar and return the user's choices.

    Widgets take their first value from the session (`state.default_of`), so a
    link's values are not overridden by the defaults.
    """
    with st.sidebar:
        st.header("Images")
        # No type filter: a file with a wrong or missing extension is still read by
        # its content, and anything unreadable gets a message naming it.
        uploaded = st.file_uploader(
            "Upload images to compare",
            accept_multiple_files=True,
            help=f"{FORMATS_TEXT} (first frame of an animation). Every pair is compared.",
        )
        state.default_of("sample", data.sample_names()[0])
        sample = st.selectbox(
            "Sample set (shown while nothing is uploaded)",
            data.sample_names(),
            disabled=bool(uploaded),
            key="sample",
        )
        st.header("Preparation")
        size_form()
        size_message = st.empty()  # filled once the size is checked with the other settings
        state.default_of("grayscale", True)
        grayscale = st.toggle(
            "Grayscale",
            key="grayscale",
            help="Compare OpenCV's luma of each resized image; off compares all "
            "three colour channels.",
        )
        state.default_of("fit", FITS[0])
        fit = st.selectbox(
            "Fit",
            FITS,
            format_func=FIT_LABELS.__getitem__,
            key="fit",
            help="How images whose aspect differs from the target are brought to "
            "size. Stretching distorts them; padding adds borders; cropping cuts "
            "the edges.",
        )
        state.default_of("interp", INTERPS[0])
        interp = st.selectbox(
            "Interpolation", INTERPS, format_func=INTERP_LABELS.__getitem__, key="interp"
        )
        state.default_of("alpha", ALPHA_MODES[0])
        alpha = st.selectbox(
            "Transparent pixels", ALPHA_MODES, format_func=ALPHA_LABELS.__getitem__, key="alpha"
        )
        st.header("Metric")
        state.default_of("ssim", SSIM_CONVENTIONS[0])
        ssim = st.selectbox(
            "SSIM convention",
            SSIM_CONVENTIONS,
            format_func=SSIM_LABELS.__getitem__,
            key="ssim",
            help="scikit-image's defaults, the Gaussian-weighted SSIM of the "
            "original paper, or multi-scale SSIM (Wang, Simoncelli and Bovik 2003, as "
            "TensorFlow computes it; both sides at least 161 px). They give different "
            "numbers for the same images.",
        )
    files = uploaded or ()
    uploads = compute.uploads_of(files)
    source = ("upload", *(file.file_id for file in files)) if files else ("sample", sample)
    typed = (int(st.session_state["width"]), int(st.session_state["height"]))
    kept = st.session_state.get(VALID_KEY)
    error = None
    # A size the convention refuses (below the SSIM window, or MS-SSIM's 161) is refused
    # beside the size form, and the page goes on with the last size and convention
    # that worked together (switching to MS-SSIM at 128×128 keeps 128×128 and the
    # previous convention). Without one (a link's first run), the typed size with the
    # default convention, else the default size.
    candidates = [(typed, ssim), kept, (typed, SSIM_CONVENTIONS[0]), (DEFAULT_SIZE, ssim)]
    for size, convention in dict.fromkeys(filter(None, candidates)):
        try:
            settings = Settings(
                size=size,
                grayscale=grayscale,
                fit=fit,
                interp=interp,
                alpha=alpha,
                ssim_convention=convention,
            )
        except ValueError as invalid:
            error = error or str(invalid)
            continue
        st.session_state[VALID_KEY] = (size, convention)
        if error:
            size_message.error(refusal(error, typed, settings, kept=(size, convention) == kept))
        refused = (typed, ssim) if error else None
        return SidebarChoices(uploads, sample, settings, None, source, refused)
    return SidebarChoices(uploads, sample, None, error, source)


def refusal(error: str, typed: tuple[int, int], used: Settings, kept: bool) -> str:
    """One statement of why the typed size was refused, then what the page uses instead.

    ``error`` is the core's reason (it names the size); sizes are spelt as the
    page spells them (``128×128``), so the size reads the same everywhere.
    """
    reason = re.sub(r"(\d)x(\d)", r"\1×\2", error)
    where = "this size" if used.size == typed else f"{used.width}×{used.height}"
    instead = f"{'Still comparing' if kept else 'Comparing'} at {where}"
    if used.ssim_convention != st.session_state.get("ssim"):
        instead += f" with the {SSIM_LABELS[used.ssim_convention]} convention"
    return f"{reason[0].upper()}{reason[1:]}. {instead}{'' if kept else ' instead'}."


def size_form() -> None:
    """Width and height, applied together by one button.

    In a form nothing reruns while a size is half typed: changing the width of
    a 10000 x 10000 comparison no longer computes 10000 x 512 on the way.
    """
    state.default_of("width", DEFAULT_SIZE[0])
    state.default_of("height", DEFAULT_SIZE[1])
    with st.form("size_form", border=False, enter_to_submit=True):
        width_column, height_column = st.columns(2)
        max_side = compute.page_limits().max_side
        width_column.number_input("Width", min_value=1, max_value=max_side, step=64, key="width")
        height_column.number_input("Height", min_value=1, max_value=max_side, step=64, key="height")
        st.form_submit_button(
            "Apply size",
            icon=":material/check:",
            width="stretch",
            help="Width and height take effect together (Enter in either box applies too).",
        )
