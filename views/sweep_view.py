"""The Resize sweep view: how every pair's scores move with the target size."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import streamlit as st

import imgsim
from imgsim import report
from imgsim.sweep import DEFAULT_SIDES, STABLE_TAU, Sweep, parse_sizes, sweep_sizes
from views import compare_view, compute

MAX_LINES = 6  # with more pairs, the top and bottom three are shown by default
PALETTE = plotly.colors.qualitative.D3


def sizes_ui(settings: imgsim.Settings) -> list[tuple[int, int]] | None:
    """The sizes to sweep, always including the current one; None after an error."""
    text_column, aspect_column = st.columns([3, 2])
    text = text_column.text_input(
        "Sizes",
        ", ".join(map(str, DEFAULT_SIDES)),
        help=f"Square sides, comma-separated, up to {compute.page_limits().max_side}; "
        "or WxH sizes.",
    )
    keep_aspect = aspect_column.toggle(
        "Keep the current aspect",
        value=settings.width != settings.height,
        help=f"Take each number as a width and keep {settings.width}×{settings.height}'s aspect.",
    )
    try:
        parsed = parse_sizes(text)
    except ValueError as error:
        st.error(f"Sizes: {error}.")
        return None
    if keep_aspect:
        sizes = sweep_sizes([width for width, _ in parsed], aspect_of=settings.size)
    else:
        sizes = parsed
    aspects = {round(width / height, 3) for width, height in sizes}
    if len(aspects) > 1:
        st.error("Sizes: use one aspect for all sizes (all squares, or keep the aspect).")
        return None
    if round(settings.width / settings.height, 3) in aspects:
        sizes.append(settings.size)
    return sorted(set(sizes))


def show(files: compute.Files, settings: imgsim.Settings) -> None:
    st.caption(
        "Every pair compared at each size under the current settings. Upsampling "
        "smooths images, and SSIM rises on smooth images: a score means something "
        "only next to scores at the same size."
    )
    sizes = sizes_ui(settings)
    if sizes is None:
        st.stop()
    compare_view.show_time_estimate(len(files), *(replace(settings, size=size) for size in sizes))
    try:
        result = compute.sweep_files(files, tuple(sizes), settings)
    except imgsim.LimitError as error:
        st.error(f"Too much for one request: {error}.")
        st.stop()
    except ValueError as error:
        st.error(f"Sizes: {error}.")
        st.stop()
    if result.errors:
        names = ", ".join(f"**{error.name}** ({error.error})" for error in result.errors)
        st.error(f"Not compared: {names}")
    if len(result.images) < 2:
        st.warning("At least two readable images are needed for a sweep.")
        st.stop()
    reference = result.reference_index
    st.success(result.verdict())
    shown = pairs_ui(result, reference)
    st.plotly_chart(score_figure(result, shown, "SSIM", settings), key="sweep_ssim")
    st.plotly_chart(score_figure(result, shown, "MSE", settings), key="sweep_mse")
    st.plotly_chart(tau_figure(result, reference), key="sweep_tau")
    st.download_button(
        "Download sweep JSON",
        report.to_json_text(report.sweep_to_dict(result)),
        file_name="imgsim-sweep.json",
        mime="application/json",
        icon=":material/download:",
        help="The same schema as `python -m imgsim sweep --format json`",
    )


def pair_label(result: Sweep, pair: tuple[int, int]) -> str:
    return f"{result.names[pair[0]]} ↔ {result.names[pair[1]]}"


def pairs_ui(result: Sweep, reference: int) -> list[tuple[int, int]]:
    """All pairs when few; else the most and least similar three, and a selector."""
    pairs = result.pair_indices()
    if len(pairs) <= MAX_LINES:
        return pairs
    ranked = sorted(pairs, key=lambda pair: result.ssim[reference][pair], reverse=True)
    default = ranked[: MAX_LINES // 2] + ranked[-MAX_LINES // 2 :]
    labels = {pair_label(result, pair): pair for pair in ranked}
    chosen = st.multiselect(
        f"Pairs shown ({len(pairs)} in all; by default the three most and three least "
        "similar at the current size)",
        list(labels),
        default=[pair_label(result, pair) for pair in default],
    )
    return [labels[label] for label in chosen]


def score_figure(
    result: Sweep, pairs: list[tuple[int, int]], metric: str, settings: imgsim.Settings
) -> go.Figure:
    values = result.ssim if metric == "SSIM" else result.mse
    widths = np.array([width for width, _ in result.sizes], dtype=float)
    figure = go.Figure()
    for index, pair in enumerate(pairs):
        scores = values[:, pair[0], pair[1]]
        label = pair_label(result, pair)
        colour = PALETTE[index % len(PALETTE)]
        figure.add_scatter(
            x=widths,
            y=scores,
            mode="lines+markers",
            name=label,
            legendgroup=label,
            line_color=colour,
        )
        native = result.pair_native_width(*pair)
        if widths.min() <= native <= widths.max():
            at = float(np.interp(math.log(native), np.log(widths), scores))
            figure.add_scatter(
                x=[native],
                y=[at],
                mode="markers",
                marker={"symbol": "diamond-open", "size": 13, "line": {"width": 2}},
                marker_color=colour,
                name=f"{label}: native size",
                legendgroup=label,
                showlegend=False,
                hovertemplate=f"{label}<br>native size {native:.0f} px<extra></extra>",
            )
    upsampled = result.upsampled_from(pairs)
    if upsampled < widths.max():
        figure.add_vrect(
            x0=max(upsampled, widths.min()),
            x1=widths.max(),
            fillcolor="grey",
            opacity=0.15,
            line_width=0,
            annotation_text="every shown image upsampled",
            annotation_position="top left",
        )
    figure.add_vline(x=settings.width, line_dash="dot", line_color="grey")
    figure.update_layout(
        title=f"{metric} against size (◇ marks each pair's native size)",
        height=420,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    figure.update_xaxes(type="log", title="target width (px, log scale)")
    figure.update_yaxes(title=metric)
    return figure


def tau_figure(result: Sweep, reference: int) -> go.Figure:
    taus = result.kendall_tau()
    widths = [width for width, _ in result.sizes]
    figure = go.Figure(
        go.Scatter(
            x=widths,
            y=[np.nan if tau is None else tau for tau in taus],
            mode="lines+markers",
            name="Kendall's τ",
            hovertemplate="width %{x}<br>τ %{y:.3f}<extra></extra>",
        )
    )
    figure.add_hline(
        y=STABLE_TAU,
        line_dash="dot",
        annotation_text=f"stable from τ = {STABLE_TAU}",
        annotation_position="bottom right",
    )
    figure.update_layout(
        title=f"Rank stability: pair order at each size against {widths[reference]} px",
        height=320,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    figure.update_xaxes(type="log", title="target width (px, log scale)")
    figure.update_yaxes(title="Kendall's τ", range=[-1.05, 1.05])
    return figure
