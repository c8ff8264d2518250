"""The main area: thumbnails, highlights, pair table, heatmap and downloads."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import imgsim
from imgsim import report
from imgsim.classify import dendrogram_order
from views import navigation

THUMBNAILS_PER_ROW = 6
HEATMAP_KEY = "heatmap"
TABLE_KEY = "pair_table"

# Colour scales run dark (different) to bright (similar) for every metric.
HEATMAP_METRICS = {
    "SSIM": {"colorscale": "Viridis", "format": "{:.3f}", "hover": ".4f"},
    "MSE": {"colorscale": "Viridis_r", "format": "{:.0f}", "hover": ".2f"},
    "PSNR": {"colorscale": "Viridis", "format": "{:.1f}", "hover": ".2f"},
}


def show_errors(result: imgsim.Comparison) -> None:
    if not result.errors:
        return
    lines = "\n".join(f"- **{error.name}**: {error.error}" for error in result.errors)
    count = len(result.errors)
    st.error(
        f"{count} file{'s' if count > 1 else ''} could not be compared; "
        f"the others still are.\n\n{lines}"
    )


def show_thumbnails(result: imgsim.Comparison) -> None:
    settings = result.settings
    mode = "grayscale" if settings.grayscale else "colour"
    st.subheader("What the metric compared")
    st.caption(
        f"Each image after orientation, transparency, {settings.fit} fit, "
        f"{settings.interp} resize to {settings.width}×{settings.height} and {mode}."
    )
    images = list(zip(result.images, result.thumbnails, strict=True))
    for start in range(0, len(images), THUMBNAILS_PER_ROW):
        columns = st.columns(THUMBNAILS_PER_ROW)
        for column, (info, thumb) in zip(
            columns, images[start : start + THUMBNAILS_PER_ROW], strict=False
        ):
            with column:
                st.image(thumb, caption=f"{info.name} · {info.width}×{info.height}")
                if info.log:
                    st.caption("; ".join(info.log))


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
            st.metric(label, f"SSIM {pair.ssim:.3f}")
            st.markdown(f"**{pair.a}** ↔ **{pair.b}**  \nMSE {pair.mse:.1f}")


def pair_table(result: imgsim.Comparison) -> pd.DataFrame:
    rows = [
        {
            "Image A": pair.a,
            "Image B": pair.b,
            "SSIM": pair.ssim,
            "MSE": pair.mse,
            "PSNR (dB)": report.finite_or_none(pair.psnr),
        }
        for pair in result.pairs()
    ]
    table = pd.DataFrame(rows, columns=["Image A", "Image B", "SSIM", "MSE", "PSNR (dB)"])
    return table.sort_values("SSIM", ascending=False, ignore_index=True)


def show_table(result: imgsim.Comparison) -> None:
    st.subheader("Every pair")
    st.caption(
        "Sorted by SSIM (click a column to re-sort; select a row to inspect the "
        "pair). SSIM is 1 for identical images; MSE is 0 for identical images and "
        "unbounded above; PSNR is empty where the images are identical (infinite)."
    )
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
            "SSIM": st.column_config.ProgressColumn(
                "SSIM", format="%.4f", min_value=0.0, max_value=1.0
            ),
            "MSE": st.column_config.NumberColumn("MSE", format="%.2f"),
            "PSNR (dB)": st.column_config.NumberColumn("PSNR (dB)", format="%.2f"),
        },
    )


def heatmap_figure(
    result: imgsim.Comparison, metric: str, order: list[int] | None = None
) -> go.Figure:
    """The N x N matrix of a metric, in input order or in ``order``."""
    order = list(range(len(result.names))) if order is None else order
    names = [result.names[index] for index in order]
    matrix = {"SSIM": result.ssim, "MSE": result.mse, "PSNR": result.psnr}[metric]
    values = matrix[np.ix_(order, order)]
    style = HEATMAP_METRICS[metric]
    finite = np.where(np.isfinite(values), values, np.nan)
    text = [
        [style["format"].format(value) if math.isfinite(value) else "∞" for value in row]
        for row in values
    ]
    zmin, zmax = np.nanmin(finite), np.nanmax(finite)
    if metric == "SSIM":
        zmin, zmax = min(0.0, zmin), 1.0
    figure = go.Figure(
        go.Heatmap(
            z=finite,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale=style["colorscale"],
            zmin=zmin,
            zmax=zmax,
            colorbar={"title": {"text": metric}},
            hoverinfo="skip",
        )
    )
    # Plotly cannot select heatmap cells, so an invisible marker over each cell
    # takes the hover and the click (Streamlit reports it as a selected point).
    cells = [(row, column) for row in range(len(names)) for column in range(len(names))]
    figure.add_scatter(
        x=[names[column] for _, column in cells],
        y=[names[row] for row, _ in cells],
        customdata=[text[row][column] for row, column in cells],
        mode="markers",
        marker={"symbol": "square", "size": 44, "opacity": 0},
        showlegend=False,
        hovertemplate=f"%{{y}}<br>%{{x}}<br>{metric} %{{customdata}}<extra></extra>",
    )
    figure.update_layout(
        height=max(420, 60 * len(names) + 160),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"side": "bottom", "tickangle": -30},
        yaxis={"autorange": "reversed", "scaleanchor": "x"},
    )
    return figure


def show_heatmap(result: imgsim.Comparison) -> None:
    st.subheader("Similarity matrix")
    metric = st.segmented_control(
        "Heatmap shows",
        list(HEATMAP_METRICS),
        default="SSIM",
        required=True,
        key="heatmap_metric",
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
        help="Reorder rows and columns by average-linkage clustering on 1 − SSIM, "
        "so that similar images sit together (the dendrogram's order).",
    )
    order = dendrogram_order(result) if clustered else None
    st.plotly_chart(
        heatmap_figure(result, metric or "SSIM", order),
        key=HEATMAP_KEY,
        on_select=cell_clicked,
        selection_mode="points",
    )


def show_downloads(result: imgsim.Comparison) -> None:
    csv_column, json_column, _ = st.columns([1, 1, 4])
    csv_column.download_button(
        "Download CSV",
        report.to_csv(result),
        file_name="imgsim-pairs.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    json_column.download_button(
        "Download JSON",
        report.to_json(result),
        file_name="imgsim.json",
        mime="application/json",
        icon=":material/download:",
        help="The same schema as `python -m imgsim compare --format json`",
    )
