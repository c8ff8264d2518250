"""The main area: thumbnails, highlights, pair table, heatmap and downloads."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import imgsim
from imgsim import outputs
from imgsim.analyses import Sweep, dendrogram_order
from imgsim.dashboard import compute, navigation, state
from imgsim.images import unique_names
from imgsim.settings import MS_SSIM_ZERO_NOTE

THUMBNAIL_WIDTH = 150  # px
HEATMAP_KEY = "heatmap"
INFINITE_PSNR_CAP = 100.0  # dB: the colour of ∞ when no pair has a finite PSNR
TABLE_KEY = "pair_table"

# Colour scales run dark (different) to bright (similar) for every metric. "SSIM"
# is the key of the SSIM convention's score, shown under its name
# (`Settings.score_name`: MS-SSIM for that convention).
HEATMAP_METRICS = {
    "SSIM": {"colorscale": "Viridis", "format": "{:.3f}", "hover": ".4f"},
    "MSE": {"colorscale": "Viridis_r", "format": "{:.0f}", "hover": ".2f"},
    "PSNR": {"colorscale": "Viridis", "format": "{:.1f}", "hover": ".2f"},
}


def show_errors(result: imgsim.Comparison | Sweep, file_count: int) -> bool:
    """One true message about the files that could not be read.

    Returns whether at least two images are left to compare.
    """
    readable = len(result.images)
    lines = "\n".join(f"- **{error.name}**: {error.error}" for error in result.errors)
    if readable < 2:
        st.warning(
            f"Only {readable} of {file_count} files could be read; at least two are "
            f"needed to compare.\n\n{lines}"
        )
        return False
    if result.errors:
        count = len(result.errors)
        st.error(
            f"{count} of {file_count} files could not be read and "
            f"{'are' if count > 1 else 'is'} left out; the other {readable} are "
            f"compared.\n\n{lines}"
        )
    return True


def show_thumbnails(result: imgsim.Comparison) -> None:
    settings = result.settings
    mode = "grayscale" if settings.grayscale else "colour"
    st.subheader("What the metric compared")
    st.caption(
        f"Each image after orientation, transparency, {settings.fit} fit, "
        f"{settings.interp} resize to {settings.width}×{settings.height} and {mode}."
    )
    # One flowing row that wraps: fixed columns squeezed the captions until they
    # broke mid-word in narrow windows.
    captions = [
        "  \n".join([f"{info.name} · {info.width}×{info.height}", *info.log])
        for info in result.images
    ]
    st.image(list(result.thumbnails), caption=captions, width=THUMBNAIL_WIDTH)


def show_highlights(result: imgsim.Comparison) -> None:
    pairs = result.pairs()
    best = max(pairs, key=lambda pair: pair.ssim)
    worst = min(pairs, key=lambda pair: pair.ssim)
    for column, label, pair in zip(
        st.columns(2),
        ("Most similar pair", "Least similar pair"),
        (best, worst),
        strict=True,
    ):
        with column.container(border=True):
            st.metric(label, f"{result.settings.score_name} {pair.ssim:.3f}")
            st.markdown(f"**{pair.a}** ↔ **{pair.b}**  \nMSE {pair.mse:.1f}")


def pair_table(result: imgsim.Comparison) -> pd.DataFrame:
    """One row per pair, most similar first; the score's column is named after it."""
    score = result.settings.score_name
    rows = [
        {
            "Image A": pair.a,
            "Image B": pair.b,
            score: pair.ssim,
            "MSE": pair.mse,
            "PSNR (dB)": pair.psnr,
        }
        for pair in result.pairs()
    ]
    table = pd.DataFrame(rows, columns=["Image A", "Image B", score, "MSE", "PSNR (dB)"])
    return table.sort_values(score, ascending=False, ignore_index=True)


def show_table(result: imgsim.Comparison) -> None:
    score = result.settings.score_name
    st.subheader("Every pair")
    st.caption(
        f"Sorted by {score} (click a column to re-sort; select a row to inspect the "
        f"pair). {score} is 1 for identical images; MSE is 0 for identical images and "
        "unbounded above; PSNR is ∞ where the images are identical."
    )
    if result.settings.ssim_convention == "ms-ssim" and (result.ssim == 0).any():
        # Unrelated photos often score exactly 0, which reads as a bug unless said.
        st.caption(MS_SSIM_ZERO_NOTE)
    table = pair_table(result)

    def row_chosen() -> None:
        rows = st.session_state[TABLE_KEY].selection.rows
        if rows:
            chosen = table.iloc[rows[0]]
            navigation.open_inspector(chosen["Image A"], chosen["Image B"])

    st.dataframe(
        table,
        hide_index=True,
        height=min(600, 35 * (len(table) + 1) + 3),
        key=TABLE_KEY,
        on_select=row_chosen,
        selection_mode="single-row",
        column_config={
            score: st.column_config.ProgressColumn(
                score, format="%.4f", min_value=0.0, max_value=1.0
            ),
            "MSE": st.column_config.NumberColumn("MSE", format="%.2f"),
            "PSNR (dB)": st.column_config.NumberColumn("PSNR (dB)", format="%.2f"),
        },
    )


# The matrix gets about MATRIX_HEIGHT pixels, each row between the bounds, so the
# figure grows with the number of images instead of floating in blank space.
MATRIX_HEIGHT = 640
ROW_PIXELS = (12, 64)
ANNOTATED_UP_TO = 12  # images; beyond, cells are too small for numbers (hover has them)


def heatmap_layout(count: int, longest_name: int) -> dict:
    """Row height, label font and figure height for a ``count`` × ``count`` matrix."""
    row = min(ROW_PIXELS[1], max(ROW_PIXELS[0], MATRIX_HEIGHT // count))
    font = 12 if count <= 20 else max(8, min(12, round(row * 0.75)))
    # Column labels are turned upright when many; room for the longest one.
    angle = -30 if count <= 8 else -90
    label_room = min(220, round(longest_name * font * (0.35 if angle == -30 else 0.62)) + 20)
    return {
        "row": row,
        "font": font,
        "angle": angle,
        "height": count * row + label_room + 40,
        "annotated": count <= ANNOTATED_UP_TO,
    }


def heatmap_figure(
    result: imgsim.Comparison, metric: str, order: list[int] | None = None
) -> go.Figure:
    """The N x N matrix of a metric, in input order or in ``order``."""
    order = list(range(len(result.names))) if order is None else order
    names = [result.names[index] for index in order]
    matrix = {"SSIM": result.ssim, "MSE": result.mse, "PSNR": result.psnr}[metric]
    values = matrix[np.ix_(order, order)]
    style = HEATMAP_METRICS[metric]
    label = result.settings.metric_name(metric)
    text = [[format_score(value, style["format"]) for value in row] for row in values]
    finite = np.where(np.isfinite(values), values, np.nan)
    # Identical images have infinite PSNR: drawn blank, the most similar pairs
    # would look least similar. They take the brightest colour (the largest
    # finite value, or INFINITE_PSNR_CAP when none is finite); text and hover say ∞.
    top = np.nanmax(finite) if np.isfinite(finite).any() else INFINITE_PSNR_CAP
    finite = np.where(np.isposinf(values), top, finite)
    zmin, zmax = np.nanmin(finite), np.nanmax(finite)
    if metric == "SSIM":
        zmin, zmax = min(0.0, zmin), 1.0
    layout = heatmap_layout(len(names), max(len(name) for name in names))
    figure = go.Figure(
        go.Heatmap(
            z=finite,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}" if layout["annotated"] else "",
            colorscale=style["colorscale"],
            zmin=zmin,
            zmax=zmax,
            colorbar={"title": {"text": label}, "thickness": 14},
            hoverinfo="skip",
        )
    )
    # Streamlit cannot select heatmap cells, so an invisible marker on each cell
    # takes the hover and the click. With no hover cut-off, Plotly picks the
    # nearest marker, which on a grid is the cell under the pointer: the whole
    # cell responds, not only the marker. (Markers larger than a cell would not
    # do: Plotly ties every marker under the pointer and picks the wrong one.)
    cells = [(row, column) for row in range(len(names)) for column in range(len(names))]
    figure.add_scatter(
        x=[names[column] for _, column in cells],
        y=[names[row] for row, _ in cells],
        customdata=[text[row][column] for row, column in cells],
        mode="markers",
        marker={"symbol": "square", "size": max(6, layout["row"] // 2), "opacity": 0},
        showlegend=False,
        hovertemplate=f"%{{y}}<br>%{{x}}<br>{label} %{{customdata}}<extra></extra>",
    )
    tick_font = {"size": layout["font"]}
    # Fixed ranges: autorange would pad the axes for the markers.
    span = [-0.5, len(names) - 0.5]
    figure.update_layout(
        height=layout["height"],
        hoverdistance=-1,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={
            "side": "bottom",
            "tickangle": layout["angle"],
            "tickfont": tick_font,
            "automargin": True,
            "tickmode": "array",
            "tickvals": names,
            "range": span,
        },
        yaxis={
            "range": span[::-1],  # first image on top
            "tickfont": tick_font,
            "automargin": True,
            "tickmode": "array",
            "tickvals": names,
        },
    )
    return figure


def format_score(value: float, spec: str) -> str:
    """A score as shown on the page: infinite PSNR (identical images) is ∞ everywhere."""
    return spec.format(value) if math.isfinite(value) else "∞"


def show_heatmap(result: imgsim.Comparison) -> None:
    st.subheader("Similarity matrix")
    state.default_of("heatmap_metric", "SSIM")
    metric = st.segmented_control(
        "Heatmap shows",
        list(HEATMAP_METRICS),
        required=True,
        key="heatmap_metric",
        format_func=result.settings.metric_name,
        help="Bright cells are similar pairs for every metric (MSE is shown reversed). "
        "Click a cell to inspect that pair.",
    )

    def cell_clicked() -> None:
        points = st.session_state[HEATMAP_KEY].selection.points
        if points:
            navigation.open_inspector(points[0]["y"], points[0]["x"])

    clustered = st.toggle(
        "Order by similarity",
        key="heatmap_clustered",
        help="Reorder rows and columns by average-linkage clustering on "
        f"1 − {result.settings.score_name}, "
        "so that similar images sit together (the dendrogram's order).",
    )
    order = dendrogram_order(result) if clustered else None
    st.plotly_chart(
        heatmap_figure(result, metric or "SSIM", order),
        key=HEATMAP_KEY,
        on_select=cell_clicked,
        selection_mode="points",
    )


DOWNLOADS = (
    ("Download CSV", outputs.to_csv, "imgsim-pairs.csv", "text/csv", None),
    (
        "Download JSON",
        outputs.to_json,
        "imgsim.json",
        "application/json",
        "The same schema as `python -m imgsim compare --format json`",
    ),
)


def show_downloads(result: imgsim.Comparison, files: compute.Files) -> None:
    """CSV and JSON of ``result``, with the provenance of ``files`` (versions, SHA-256)."""
    names = unique_names([name for name, _ in files])
    record = outputs.provenance(
        [(name, file.digest) for name, file in zip(names, files, strict=True)]
    )
    # A wrapping row: fixed narrow columns cut the labels to "D.." in narrow windows.
    with st.container(horizontal=True):
        for label, write, file_name, mime, help_text in DOWNLOADS:
            st.download_button(
                label,
                write(result, record),
                file_name=file_name,
                mime=mime,
                icon=":material/download:",
                help=help_text,
            )
