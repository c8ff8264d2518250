"""The Pair inspector view: where two images differ, and by how much."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import imgsim
from imgsim.analyses import DEFAULT_MIN_AREA, PairInspection, draw_boxes, with_thresholds
from imgsim.dashboard import compute, navigation, state
from imgsim.images import unique_names
from imgsim.metrics import TERM_NAMES, Scales, dominant_difference
from imgsim.settings import MS_SSIM_SCALES

MAX_INSPECTED_SIDE = 2048  # the map and images are shown and cached; keep them small
MAP_DISPLAY_SIDE = 512
MAP_CHART_WIDTH = 520  # px, for a 420 px tall map and its colour bar
MODES = ("Side by side", "Swipe", "Onion skin", "Difference")
OTSU_KEY, THRESHOLD_KEY, AREA_KEY, OWN_SIZE_KEY = (
    "inspect_otsu",
    "inspect_threshold",
    "inspect_min_area",
    "inspect_own_size",
)
PREVIOUS_PAIR_KEY = "_inspected_pair"
TERM_MAP_KEY = "inspect_term_map"
TERM_LABELS = {"luminance": "Luminance", "contrast": "Contrast", "structure": "Structure"}
TERM_HELP = {
    "luminance": "Do the local mean brightnesses agree? 1 where they do.",
    "contrast": "Do the local contrasts (spread of values in a window) agree? 1 where they do.",
    "structure": "Do the local patterns line up (their correlation)? 1 where they do.",
}
PATTERN_CAPTIONS = {
    "local": "The difference is confined to {regions}, boxed below: an object removed, "
    "added or pasted, however large.",
    "spread": "{share:.0%} of the pixels differ, spread over the image rather than "
    "confined to a few objects (noise, blur, a tone change): boxes say little here; "
    "the map shows it best.",
    "none": "No pixel differs above the threshold.",
}


def readable_files(files: compute.Files) -> dict[str, imgsim.DecodedImage]:
    """Files that decode, by the names the comparison gives them."""
    names = unique_names([name for name, _ in files])
    limit = compute.page_limits().max_pixels
    decoded = {
        shown: compute.decode_file(file, limit) for shown, file in zip(names, files, strict=True)
    }
    return {
        name: image for name, image in decoded.items() if isinstance(image, imgsim.DecodedImage)
    }


def inspected_settings(settings: imgsim.Settings) -> imgsim.Settings:
    """The settings, with the size reduced (same aspect) above 2048 px on a side."""
    width, height = settings.size
    scale = MAX_INSPECTED_SIDE / max(width, height)
    if scale >= 1:
        return settings
    least = settings.min_side
    size = (max(least, round(width * scale)), max(least, round(height * scale)))
    return replace(settings, size=size)


def own_size(first: imgsim.DecodedImage, second: imgsim.DecodedImage) -> tuple[int, int]:
    """The images' own size: where neither is upsampled (the smaller side of each)."""
    return min(first.width, second.width), min(first.height, second.height)


def show(files: compute.Files, settings: imgsim.Settings) -> None:
    images = readable_files(files)
    names = list(images)
    if len(names) < 2:
        st.warning("At least two readable images are needed to inspect a pair.")
        st.stop()
    # A choice not among these images (a link's, or another set's) falls back to
    # the first image that differs from the other side's, never to the same pair.
    for key, other in (navigation.PAIR_KEYS, navigation.PAIR_KEYS[::-1]):
        if st.session_state.get(key) not in names:
            st.session_state[key] = next(n for n in names if n != st.session_state.get(other))
    first_column, second_column = st.columns(2)
    keys = navigation.PAIR_KEYS
    first = first_column.selectbox(
        "Image A", names, key=keys[0], on_change=swap_if_same, args=(keys[0], keys[1])
    )
    second = second_column.selectbox(
        "Image B", names, key=keys[1], on_change=swap_if_same, args=(keys[1], keys[0])
    )
    st.session_state[PREVIOUS_PAIR_KEY] = {keys[0]: first, keys[1]: second}
    if first == second:
        st.info("Choose two different images.")
        st.stop()
    used = chosen_size(settings, images[first], images[second])
    source = dict(zip(unique_names([name for name, _ in files]), files, strict=True))
    inspection = compute.inspect_files(source[first], source[second], used)
    inspection = with_thresholds(inspection, **threshold_ui(inspection.threshold))
    show_scores(inspection)
    show_scales(inspection)
    show_terms(inspection)
    regions = len(inspection.regions)
    st.caption(
        PATTERN_CAPTIONS[inspection.pattern].format(
            regions="one region" if regions == 1 else f"{regions} regions",
            share=inspection.changed_fraction,
        )
    )
    show_images(inspection)
    # One under the other: side by side, a narrow window shrank the map under a
    # full-height colour bar and cut the regions table.
    show_map(inspection)
    show_term_maps(inspection)
    show_regions(inspection)


def swap_if_same(changed: str, other: str) -> None:
    """Choosing the other side's image swaps the two, rather than pairing it with itself.

    A browser can still send a change for a selectbox that Streamlit has already
    forgotten (its options changed with the sample, then a form was submitted):
    its key is then gone, and there is nothing to swap.
    """
    session = st.session_state
    if changed not in session:
        return
    if session[changed] == session.get(other):
        session[other] = session.get(PREVIOUS_PAIR_KEY, {}).get(changed, session[other])


def chosen_size(
    settings: imgsim.Settings, first: imgsim.DecodedImage, second: imgsim.DecodedImage
) -> imgsim.Settings:
    """The settings to inspect at: the page's size, or the images' own (a toggle)."""
    native = own_size(first, second)
    if native != settings.size and min(native) >= settings.min_side:
        state.default_of(OWN_SIZE_KEY, False)
        at_own = st.toggle(
            f"Inspect at the images' own size ({native[0]}×{native[1]})",
            key=OWN_SIZE_KEY,
            help=f"Instead of {settings.width}×{settings.height}: resizing, above all "
            "upsampling, smooths the map and breaks large changes into many contours.",
        )
        if at_own:
            settings = replace(settings, size=native)
    used = inspected_settings(settings)
    if used is not settings:
        st.info(
            f"The inspector works at up to {MAX_INSPECTED_SIDE} px on a side: this pair "
            f"is inspected at {used.width}×{used.height}, so its scores can differ "
            f"slightly from those at {settings.width}×{settings.height}."
        )
    return used


def threshold_ui(otsu_threshold: float) -> dict:
    """Thresholding controls; display only (the SSIM map is not recomputed).

    With Otsu on, the (disabled) slider shows the threshold Otsu chose, and
    turning Otsu off starts from it.
    """
    automatic = st.container()  # its own row: a column cut its label to "O…"
    manual, area = st.columns(2)
    state.default_of(OTSU_KEY, True)
    state.default_of(AREA_KEY, DEFAULT_MIN_AREA * 100)
    if st.session_state[OTSU_KEY] or THRESHOLD_KEY not in st.session_state:
        st.session_state[THRESHOLD_KEY] = round(otsu_threshold, 2)
    otsu = automatic.toggle(
        "Otsu threshold",
        key=OTSU_KEY,
        help="Otsu's method picks the dissimilarity that best splits the map in two.",
    )
    threshold = manual.slider(
        "Dissimilarity threshold",
        0.0,
        1.0,
        step=0.01,
        key=THRESHOLD_KEY,
        disabled=otsu,
        help="A pixel differs where (1 − local SSIM) / 2 is above this.",
    )
    min_area = area.slider(
        "Minimum region size (% of the image)",
        0.0,
        2.0,
        step=0.01,
        key=AREA_KEY,
        help="Smaller regions are specks and are not boxed.",
    )
    return {"threshold": None if otsu else threshold, "min_area": min_area / 100}


def show_scores(inspection: PairInspection) -> None:
    # A wrapping row: four fixed columns cut the labels ("Pixels that …") at 800 px.
    with st.container(horizontal=True, gap="large"):
        st.metric(inspection.settings.score_name, f"{inspection.ssim:.4f}", width="content")
        st.metric("MSE", f"{inspection.mse:.1f}", width="content")
        st.metric("Differing regions", len(inspection.regions), width="content")
        st.metric(
            "Pixels that differ",
            f"{inspection.changed_fraction:.1%}",
            help=f"Dissimilarity above {inspection.threshold:.3f}",
            width="content",
        )


SCALE_MEANINGS = (
    "fine detail (noise, sharpness, compression)",
    "fine detail (noise, sharpness, compression)",
    "mid-sized structure (edges, textures)",
    "coarse structure (shapes, layout)",
    "coarse structure and brightness (layout, tone)",
)
# Below this loss (-weight x ln value) every scale agrees: the images look the same.
SAME_AT_EVERY_SCALE = 1e-4


def show_scales(inspection: PairInspection) -> None:
    """MS-SSIM's five scales: the value of each, and which one lowers MS-SSIM most."""
    scales = inspection.scales
    if scales is None:
        return
    st.markdown("**MS-SSIM scale by scale**")
    losses = scales.losses
    table = pd.DataFrame(
        [
            {
                "scale": index + 1,
                "size": f"{width}×{height}",
                "measure": scale_measure(index),
                "value": value,
                "weight": weight,
                # In percent, so that one format ("%.1f%%") shows every row alike.
                "lowers MS-SSIM by": 100 * (1 - np.exp(-loss)),
            }
            for index, ((width, height), value, weight, loss) in enumerate(
                zip(scales.sizes, scales.values, scales.weights, losses, strict=True)
            )
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "value": st.column_config.NumberColumn(format="%.4f"),
            "weight": st.column_config.NumberColumn(format="%.4f"),
            "lowers MS-SSIM by": st.column_config.NumberColumn(
                format="%.1f%%",
                help="1 − value^weight: what this scale alone takes off MS-SSIM "
                "(MS-SSIM is the product of value^weight over the scales).",
            ),
        },
    )
    st.caption(scales_sentence(scales))
    for note in clipped_notes(scales):
        st.caption(note)


def scale_measure(index: int) -> str:
    """What MS-SSIM measures at scale ``index`` (from 0): SSIM at the coarsest, else cs."""
    return "SSIM" if index == MS_SSIM_SCALES - 1 else "contrast-structure"


def scales_sentence(scales: Scales) -> str:
    """Which scale lowers MS-SSIM most (weight and value together), in the table's words.

    The scale with the lowest value need not be it: a low value at a light
    weight (scale 1's 0.0448) takes off less than a higher one at a heavy weight.
    """
    losses = scales.losses
    worst = int(np.argmax(losses))
    if np.isfinite(losses[worst]) and losses[worst] < SAME_AT_EVERY_SCALE:
        return "Every scale agrees: the images look the same from fine detail to layout."
    width, height = scales.sizes[worst]
    values = scales.values
    sentence = (
        f"Scale {worst + 1} ({width}×{height}) lowers MS-SSIM most, by "
        f"{100 * (1 - np.exp(-losses[worst])):.1f}% (value {values[worst]:.4f}, weight "
        f"{scales.weights[worst]:.4f}): the images differ most in {SCALE_MEANINGS[worst]}."
    )
    lowest = int(np.argmin(values))
    if values[lowest] < values[worst]:
        sentence += (
            f" Scale {lowest + 1} has the lowest value ({values[lowest]:.4f}) but a "
            f"weight of only {scales.weights[lowest]:.4f}."
        )
    return sentence + " Scale 1 is the compared size; each next one halves it."


def clipped_notes(scales: Scales) -> list[str]:
    """One sentence per scale whose value was negative and clipped to 0 (in any channel)."""
    notes = []
    for index, channels in enumerate(scales.per_channel):
        negative = channels[channels < 0]
        if negative.size == 0:
            continue
        where = "" if channels.size == 1 else f" in {negative.size} of {channels.size} channels"
        whose = "MS-SSIM" if negative.size == channels.size else "those channels' MS-SSIM"
        notes.append(
            f"Scale {index + 1}'s {scale_measure(index)} is negative{where} "
            f"({negative.min():.4f}): it is clipped to 0, as TensorFlow does, so {whose} "
            "is 0. The images' patterns are anti-correlated at that scale."
        )
    return notes


def show_images(inspection: PairInspection) -> None:
    state.default_of("pair_mode", MODES[0])
    mode = st.segmented_control("Show", MODES, required=True, key="pair_mode")
    a = draw_boxes(inspection.a, inspection.regions)
    b = draw_boxes(inspection.b, inspection.regions)
    first, second = inspection.names
    if mode == "Swipe":
        split = st.slider(
            "Swipe", 0, 100, 50, format="%d%%", help=f"Left: {first}; right: {second}"
        )
        column = round(a.shape[1] * split / 100)
        swiped = np.concatenate([a[:, :column], b[:, column:]], axis=1)
        swiped[:, max(0, column - 1) : column + 1] = (255, 255, 255)
        st.image(swiped, caption=f"{first} | {second}", width="stretch")
    elif mode == "Onion skin":
        opacity = st.slider(f"Opacity of {second}", 0.0, 1.0, 0.5, 0.05)
        blended = cv2.addWeighted(a, 1 - opacity, b, opacity, 0)  # display only
        st.image(blended, caption=f"{first} under {second}", width="stretch")
    elif mode == "Difference":
        difference = inspection.difference
        if difference.ndim == 3:
            difference = difference.max(axis=2)
        gain = 255 / max(1, int(difference.max()))
        shown = cv2.applyColorMap(cv2.convertScaleAbs(difference, alpha=gain), cv2.COLORMAP_MAGMA)
        st.image(
            draw_boxes(cv2.cvtColor(shown, cv2.COLOR_BGR2RGB), inspection.regions),
            caption=f"|{first} − {second}|, brightened ×{gain:.1f}",
            width="stretch",
        )
    else:
        left, right = st.columns(2)
        left.image(a, caption=first, width="stretch")
        right.image(b, caption=second, width="stretch")


def show_terms(inspection: PairInspection) -> None:
    """SSIM's three terms beside its score, and the one sentence they add up to.

    Self-contained, so that other decompositions of SSIM can sit beside it.
    """
    terms = inspection.terms.to_dict()
    with st.container(horizontal=True, gap="large"):
        for name in TERM_NAMES:
            st.metric(
                TERM_LABELS[name], f"{terms[name]:.4f}", help=TERM_HELP[name], width="content"
            )
    product = "SSIM is luminance × contrast × structure, window by window."
    if inspection.scales is not None:  # MS-SSIM is not a product of three maps
        product = "At scale 1 (the compared size), " + product
    st.caption(f"{product} {dominant_difference(inspection.terms)}")


def show_term_maps(inspection: PairInspection) -> None:
    """The local luminance, contrast or structure map, one at a time (a switch)."""
    st.markdown("**Local luminance, contrast and structure**")
    state.default_of(TERM_MAP_KEY, TERM_LABELS[TERM_NAMES[0]])
    label = st.segmented_control(
        "Term", list(TERM_LABELS.values()), required=True, key=TERM_MAP_KEY
    )
    name = next(name for name, shown in TERM_LABELS.items() if shown == label)
    st.caption(TERM_HELP[name])
    # TERM_LABELS[name] is the label chosen (and a str, where the switch may give None).
    show_map_figure(getattr(inspection.term_maps, name), TERM_LABELS[name], f"term_map_{name}")


def show_map(inspection: PairInspection) -> None:
    if inspection.scales is None:
        st.markdown("**Local SSIM map**")
    else:
        # MS-SSIM is a product of whole-image means over five scales: no one map.
        st.markdown("**Local SSIM map at the finest scale**")
        st.caption(
            "MS-SSIM has no single map: this is SSIM (11×11 Gaussian window) at the "
            "compared size, scale 1 above; regions and thresholds use it."
        )
    show_map_figure(inspection.ssim_map, "SSIM", "ssim_map")


def show_map_figure(local: np.ndarray, title: str, key: str) -> None:
    """A local map as a heatmap (viridis, 1 bright), shrunk for display only."""
    height, width = local.shape
    scale = MAP_DISPLAY_SIDE / max(height, width)
    if scale < 1:  # keep the figure light; the map is still the engine's
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        local = cv2.resize(local, size, interpolation=cv2.INTER_AREA)
    figure = go.Figure(
        go.Heatmap(
            z=local,
            colorscale="Viridis",
            zmin=min(0.0, float(local.min())),
            zmax=1.0,
            colorbar={"title": {"text": title}},
            hovertemplate=f"x %{{x}}, y %{{y}}<br>local {title} %{{z:.3f}}<extra></extra>",
        )
    )
    figure.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"autorange": "reversed", "scaleanchor": "x", "visible": False},
        xaxis={"visible": False},
    )
    # At most a little wider than tall, so that the colour bar stays by the map;
    # narrower windows shrink it (a fixed width never exceeds the container).
    st.plotly_chart(figure, key=key, width=MAP_CHART_WIDTH)


def show_regions(inspection: PairInspection) -> None:
    st.markdown("**Regions that differ**")
    if not inspection.regions:
        st.caption("None: no region stands out above the threshold.")
        return
    table = pd.DataFrame(
        [
            {
                "x": region.x,
                "y": region.y,
                "width": region.width,
                "height": region.height,
                "mean SSIM": region.ssim,
            }
            for region in inspection.regions
        ]
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={"mean SSIM": st.column_config.NumberColumn(format="%.3f")},
    )
    st.caption(
        f"Coordinates are in the compared {inspection.settings.width}×"
        f"{inspection.settings.height} images' pixels."
    )
