"""imgsim dashboard: upload images, see how similar every pair is, and why.

Started by ``imgsim dashboard`` (or ``streamlit run app.py`` in a checkout). This
file only draws; `imgsim` computes.
"""

from __future__ import annotations

import streamlit as st

from imgsim import data
from imgsim.dashboard import (
    classify_view,
    collection_pairs,
    collection_view,
    compare_view,
    compute,
    inspector_view,
    navigation,
    served,
    sidebar,
    state,
    sweep_view,
)

SAMPLE_NOTES = {
    data.EQUAL_MSE: (
        "Every distorted copy of the reference differs from it by the same mean "
        "squared error (at 512×512, the images' own size), yet a brightness shift "
        "is barely visible while blur and JPEG blocking destroy detail. MSE cannot "
        "tell them apart; SSIM compares local structure and ranks them the way "
        "people do (Wang et al. 2004, Fig. 2). Its three terms, in the **Pair "
        "inspector**, say why (default settings): the mean shift (luminance 0.95, "
        "contrast 1.00, structure 1.00) changes only brightness, and so, mostly, "
        "does the contrast stretch, whose stretch around the global mean moves the "
        "local means (luminance 0.80, contrast 0.97, structure 0.99); impulse noise "
        "(luminance 1.00, contrast 0.83, structure 0.85), blur (luminance 1.00, "
        "contrast 0.78, structure 0.85) and JPEG (luminance 0.97, contrast 0.77, "
        "structure 0.88) keep the brightness and lose contrast and structure: "
        "brightness against detail."
    ),
    data.PHOTOS: (
        "Different photos from scikit-image's data set, and the left and right "
        "views of one stereo scene (motorcycle_left/right). People see the stereo "
        "pair as near-identical; SSIM compares pixels in place, so the views' "
        "parallax shift keeps its score low at 512×512. Shrink the size to 64×64, "
        "where the shift is under a pixel, and it becomes the most similar pair."
    ),
    data.SPOT_THE_DIFFERENCE: (
        "The astronaut photo and a copy with four objects changed: one removed, one "
        "recoloured, one added and one pasted in. Open the **Pair inspector** to see "
        "where the SSIM map finds them."
    ),
    data.FACES: (
        "50 faces and 50 other 25×25 patches from scikit-image's LFW subset, labelled "
        "by their file names. Open **Classify** to see how well the nearest SSIM "
        "neighbour tells them apart, next to MSE; then set the size to 25×25, the "
        "patches' own size: upsampling them to 512×512 costs SSIM much of its accuracy."
    ),
    data.PASTED_LOGO: (
        "A 300×300 photo and a copy with a large logo pasted over about 40 % of it: one "
        "changed object. Open the **Pair inspector**: at 512×512 (upsampled) and at the "
        "images' own size it is boxed as one region."
    ),
}


def main() -> None:
    """Draw the page once: Streamlit runs this on every rerun."""
    st.set_page_config(page_title="imgsim: image similarity", page_icon="🖼️", layout="wide")

    try:
        compute.page_limits()
    except ValueError as error:
        st.error(f"The server's limits are misconfigured: {error}.")
        st.stop()
    # Warmed on the first run of the page, so no later request waits for the probe.
    compute.calibrated_time_model()

    state.restore_from_url()
    collection_pairs.restore_pair_from_link()
    state.keep_view_choices()
    choices = sidebar.settings_ui()
    st.title("imgsim")
    st.markdown("**How similar are these images, and why?** MSE, PSNR and SSIM for every pair.")

    if choices.settings is None:
        st.error(f"These settings cannot be used: {choices.settings_error}.")
        st.stop()
    settings = choices.settings
    state.track_images(choices.source)

    if choices.uploads:
        files = choices.uploads
    else:
        files = compute.sample_files(choices.sample)
        if not collection_pairs.shown():  # the samples are not what the Collection view shows
            st.info(
                f"**Sample: {choices.sample}.** {SAMPLE_NOTES[choices.sample]}  \n"
                "Upload your own images in the sidebar to compare them instead."
            )
    names = [name for name, _ in files]
    waiting = state.open_link_pair(names, bool(choices.uploads))
    state.show_link_note(names, None if choices.uploads else choices.sample)

    view = navigation.view_selector((navigation.COLLECTION,) if served.offered() else ())
    if view != navigation.INSPECTOR:
        collection_pairs.forget_pair()
    # The Collection view, and a collection pair in the inspector, need no uploads.
    if len(files) < 2 and view != navigation.COLLECTION and not collection_pairs.opened():
        st.warning("Upload at least two images to compare them.")
        st.stop()
    # Before the view draws (a view may stop early, after which nothing reaches the
    # page) and again after it, for the defaults a view sets on its first run.
    state.publish(bool(choices.uploads), settings, sweep_view.link_defaults())
    try:
        if view == navigation.COMPARE:
            compare_view.show(files, settings)
        elif view == navigation.SWEEP:
            sweep_view.show(files, settings)
        elif view == navigation.INSPECTOR:
            pair = collection_pairs.pair_files()
            if waiting and pair is None:
                wait_for_link_pair()
            inspector_view.show(pair or files, settings)
        elif view == navigation.COLLECTION:
            collection_view.show(settings, choices.refused)
        else:
            classify_view.show(files, settings)
    finally:
        state.publish(bool(choices.uploads), settings, sweep_view.link_defaults())


def wait_for_link_pair() -> None:
    """The inspector while a link's pair is not uploaded: not another pair in its place
    (the note above names the files), unless asked for."""
    st.button(
        "Inspect these images instead",
        key="forget_link_pair",
        icon=":material/compare:",
        on_click=navigation.forget_link_pair,
        help="Forget the link's pair and open the inspector on the images shown.",
    )
    st.stop()


if __name__ == "__main__":  # `streamlit run` runs the script as __main__
    main()
