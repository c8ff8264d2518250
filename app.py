"""imgsim dashboard: upload images, see how similar every pair is, and why.

Run with ``streamlit run app.py``. This file only draws; `imgsim` computes.
"""

from __future__ import annotations

import streamlit as st

from imgsim import samples
from imgsim.engine import estimate_seconds
from imgsim.progress import format_duration
from views import compute, results, sidebar

LARGE_WORK_PIXELS = 4_000_000

SAMPLE_NOTES = {
    samples.EQUAL_MSE: (
        "Every distorted copy of the reference differs from it by the same mean "
        "squared error (at 512×512, the images' own size), yet a brightness shift "
        "is barely visible while blur and JPEG blocking destroy detail. MSE cannot "
        "tell them apart; SSIM compares local structure and ranks them the way "
        "people do (Wang et al. 2004, Fig. 2)."
    ),
    samples.PHOTOS: (
        "Different photos from scikit-image's data set, and the left and right "
        "views of one stereo scene (motorcycle_left/right). People see the stereo "
        "pair as near-identical; SSIM compares pixels in place, so the views' "
        "parallax shift keeps its score low at 512×512. Shrink the size to 64×64, "
        "where the shift is under a pixel, and it becomes the most similar pair."
    ),
}

st.set_page_config(page_title="imgsim: image similarity", page_icon="🖼️", layout="wide")

choices = sidebar.settings_ui()
st.title("imgsim")
st.markdown("**How similar are these images, and why?** MSE, PSNR and SSIM for every pair.")

if choices.settings is None:
    st.error(f"These settings cannot be used: {choices.settings_error}.")
    st.stop()
settings = choices.settings

if choices.uploads:
    files = choices.uploads
else:
    files = compute.sample_files(choices.sample)
    st.info(
        f"**Sample: {choices.sample}.** {SAMPLE_NOTES[choices.sample]}  \n"
        "Upload your own images in the sidebar to compare them instead."
    )

if len(files) < 2:
    st.warning("Upload at least two images to compare them.")
    st.stop()

if settings.width * settings.height >= LARGE_WORK_PIXELS:
    pairs = len(files) * (len(files) - 1) // 2
    expected = format_duration(estimate_seconds(len(files), settings))
    st.info(
        f"{len(files)} images at {settings.width}×{settings.height} "
        f"({settings.width * settings.height / 1e6:.0f} MP each): {pairs} pairs, "
        f"expected to take about {expected}. Upsampling smooths images and raises "
        "SSIM, so compare scores only at one size."
    )

result = compute.compare_files(files, settings)
results.show_errors(result)
if len(result.images) < 2:
    st.warning(
        f"Only {len(result.images)} of {len(files)} files could be read; "
        "at least two are needed to compare."
    )
    st.stop()

results.show_thumbnails(result)
results.show_highlights(result)
results.show_heatmap(result)
results.show_table(result)
results.show_downloads(result)
