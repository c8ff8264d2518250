"""imgsim dashboard: upload images, see how similar every pair is, and why.

Run with ``streamlit run app.py``. This file only draws; `imgsim` computes.
"""

from __future__ import annotations

import streamlit as st

from imgsim import samples
from views import (
    classify_view,
    compare_view,
    compute,
    inspector_view,
    navigation,
    sidebar,
    sweep_view,
)

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
    samples.SPOT_THE_DIFFERENCE: (
        "The astronaut photo and a copy with four objects changed: one removed, one "
        "recoloured, one added and one pasted in. Open the **Pair inspector** to see "
        "where the SSIM map finds them."
    ),
    samples.FACES: (
        "50 faces and 50 other 25×25 patches from scikit-image's LFW subset, labelled "
        "by their file names. Open **Classify** to see how well the nearest SSIM "
        "neighbour tells them apart, next to MSE; then set the size to 25×25, the "
        "patches' own size: upsampling them to 512×512 costs SSIM much of its accuracy."
    ),
}

st.set_page_config(page_title="imgsim: image similarity", page_icon="🖼️", layout="wide")

try:
    compute.page_limits()
except ValueError as error:
    st.error(f"The server's limits are misconfigured: {error}.")
    st.stop()

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

view = navigation.view_selector()
if view == navigation.COMPARE:
    compare_view.show(files, settings)
elif view == navigation.SWEEP:
    sweep_view.show(files, settings)
elif view == navigation.INSPECTOR:
    inspector_view.show(files, settings)
else:
    classify_view.show(files, settings)
