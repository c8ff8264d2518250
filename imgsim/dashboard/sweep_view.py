"""The Resize sweep view: how every pair's scores move with the target size."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go
import streamlit as st

import imgsim
from imgsim import outputs
from imgsim.analyses import (
    DEFAULT_SIDES,
    STABLE_TAU,
    Sweep,
    parse_sizes,
    settings_at,
    size_entries,
    size_label,
    sweep_sizes,
)
from imgsim.dashboard import compare_view, compute, results, state

MAX_LINES = 6  # with more pairs, the top and bottom three are shown by default
PALETTE = plotly.colors.qualitative.D3
SIZES_KEY = "sweep_sizes"
ASPECT_KEY = "sweep_keep_aspect"
DEFAULTS_KEY = "_sweep_defaults"  # the default sizes and aspect for these images
# The default sizes stop at the first one this many times the largest image's
# side: beyond it every image is upsampled and the curves only flatten.
UPSAMPLING_REACH = 4


@dataclass(frozen=True)
class SizeRequest:
    """The sizes a user typed, checked.

    Attributes
    ----------
    entries : list of str
        Each size as typed (a width when the aspect is kept).
    sizes : list of (width, height)
        One per entry.
    problems : list of str
        One line per entry that cannot be used, naming it and the rule.
    swept : list of (width, height)
        The sizes to compare, sorted (what was typed, nothing added).
    """

    entries: list[str]
    sizes: list[tuple[int, int]]
    problems: list[str]
    swept: list[tuple[int, int]]


def read_sizes(text: str, keep_aspect: bool, settings: imgsim.Settings) -> SizeRequest:
    """Check every typed size with the core's rules (the SSIM window, the side limit).

    Each entry is checked on its own, so that every bad one is named at once.
    """
    entries = size_entries(text)
    if not entries:
        return SizeRequest([], [], ["no sizes given; write sizes like 64, 128, 256"], [])
    problems: list[str] = []
    sizes: list[tuple[int, int]] = []
    typed: list[bool] = []  # entries typed as WxH, taken as typed even with keep-aspect on
    for entry in entries:
        derived = keep_aspect and entry.isdigit()
        try:
            (size,) = parse_sizes(entry)
            if derived:
                (size,) = sweep_sizes([size[0]], aspect_of=settings.size)
            settings_at(settings, size, compute.page_limits())
        except ValueError as error:
            kept = (
                f" (width {entry} at {settings.width}×{settings.height}'s aspect: "
                f"{size_label(size)})"
                if derived
                else ""
            )
            problems.append(f"**{entry}**{kept}: {error}")
            continue
        sizes.append(size)
        typed.append(not derived)
    if not problems:
        others = off_aspect(entries, sizes, typed, settings.size if keep_aspect else None)
        if others:
            problems.append(
                f"**{', '.join(others)}**: all sizes need one aspect (all squares, or "
                "widths alone with “Keep the current aspect” on)"
            )
    if problems:
        return SizeRequest(entries, sizes, problems, [])
    return SizeRequest(entries, sizes, [], sorted(set(sizes)))


def off_aspect(
    entries: list[str],
    sizes: list[tuple[int, int]],
    typed: list[bool],
    aspect_of: tuple[int, int] | None,
) -> list[str]:
    """The entries whose aspect differs from the sweep's (``aspect_of``, else the first size's).

    Heights derived from a kept aspect are rounded, so they share it by
    construction and are not checked: only what was typed as WxH or squares is.
    """
    width, height = aspect_of or sizes[0]
    return [
        entry
        for entry, size, as_typed in zip(entries, sizes, typed, strict=True)
        if as_typed and round(size[0] / size[1], 3) != round(width / height, 3)
    ]


def fitting_entries(
    request: SizeRequest, image_count: int, settings: imgsim.Settings, limits: imgsim.Limits
) -> list[str]:
    """The typed sizes that fit the work limit together, smallest first."""
    chosen: list[imgsim.Settings] = []
    kept: list[str] = []
    by_area = sorted(
        zip(request.entries, request.sizes, strict=True), key=lambda item: item[1][0] * item[1][1]
    )
    for entry, size in by_area:
        trial = [*chosen, settings_at(settings, size, limits)]
        try:
            limits.check(image_count, *trial)
        except imgsim.LimitError:
            continue
        chosen, kept = trial, [*kept, entry]
    return sorted(kept, key=request.entries.index)


def default_sides(files: compute.Files, settings: imgsim.Settings, keep_aspect: bool) -> list[int]:
    """The default sizes for these images: up to a few times their size, within the limits."""
    limits = compute.page_limits()
    sides = [
        max(item.width, item.height)
        for item in (compute.decode_file(file, limits.max_pixels) for file in files)
        if isinstance(item, imgsim.DecodedImage)
    ]
    reach = UPSAMPLING_REACH * max(sides, default=DEFAULT_SIDES[-1])
    chosen = []
    for side in DEFAULT_SIDES:
        (size,) = sweep_sizes([side], aspect_of=settings.size if keep_aspect else None)
        try:
            settings_at(settings, size, compute.page_limits())
        except ValueError:  # below the SSIM window at this aspect
            continue
        chosen.append(side)
        if side >= reach:
            break
    request = read_sizes(", ".join(map(str, chosen)), keep_aspect, settings)
    fitting = fitting_entries(request, len(files), settings, limits)
    return [int(entry) for entry in fitting] or chosen[:1]


def sizes_ui(files: compute.Files, settings: imgsim.Settings) -> list[tuple[int, int]] | None:
    """The sizes to sweep, checked; None after explaining what is wrong."""
    aspect_default = settings.width != settings.height
    keep_aspect_now = bool(st.session_state.get(ASPECT_KEY, aspect_default))
    default_text = ", ".join(map(str, default_sides(files, settings, keep_aspect_now)))
    st.session_state[DEFAULTS_KEY] = {"sizes": default_text, "aspect": aspect_default}
    state.default_of(SIZES_KEY, default_text)
    state.default_of(ASPECT_KEY, aspect_default)
    text = st.text_input(
        "Sizes",
        key=SIZES_KEY,
        help=f"Square sides, comma-separated, each at least {settings.min_side} (the "
        f"{settings.ssim_convention} convention's minimum) and at most "
        f"{compute.page_limits().max_side}; "
        "or WxH sizes.",
    )
    keep_aspect = st.toggle(
        f"Keep the current aspect ({settings.width}×{settings.height})",
        key=ASPECT_KEY,
        help="Take each number as a width, with the height that keeps the current aspect.",
    )
    request = read_sizes(text, keep_aspect, settings)
    if request.problems:
        st.error("Sizes that cannot be swept:\n\n" + "\n".join(f"- {p}" for p in request.problems))
        return None
    labels = ", ".join(size_label(size) for size in request.swept)
    count = len(request.swept)
    reference = (
        f"; the largest, {size_label(request.swept[-1])}, is the reference of the "
        "rank-stability chart and the verdict"
        if count > 1
        else ""
    )
    st.caption(f"{count} size{'s' if count > 1 else ''}: {labels}{reference}.")
    try:
        limits = compute.page_limits()
        limits.check(len(files), *(settings_at(settings, s, limits) for s in request.swept))
    except imgsim.LimitError as error:
        show_over_limit(error, request, len(files), settings)
        return None
    return request.swept


def show_over_limit(
    error: imgsim.LimitError, request: SizeRequest, image_count: int, settings: imgsim.Settings
) -> None:
    """Say the list is too much, which sizes fit, and offer to sweep those."""
    fitting = fitting_entries(request, image_count, settings, compute.page_limits())
    if not fitting or len(fitting) == len(request.entries):
        st.error(f"Too much for one request: {error}.")
        return
    text = ", ".join(fitting)
    st.error(f"Too much for one request: {error}.  \nThese sizes fit together: **{text}**.")

    def use_fitting() -> None:
        st.session_state[SIZES_KEY] = text

    st.button(f"Sweep {text} instead", on_click=use_fitting, key="sweep_fitting")


def link_defaults() -> dict[str, object]:
    """The sweep's defaults for the images shown, for leaving them out of the link."""
    return st.session_state.get(DEFAULTS_KEY, {})


def show(files: compute.Files, settings: imgsim.Settings) -> None:
    st.caption(
        "Every pair compared at each size under the current settings. Upsampling "
        f"smooths images, and {settings.score_name} rises on smooth images: a score "
        "means something only next to scores at the same size."
    )
    sizes = sizes_ui(files, settings)
    if sizes is None:
        st.stop()
    limits = compute.page_limits()
    compare_view.show_time_estimate(files, *(settings_at(settings, size, limits) for size in sizes))
    result = compute.sweep_files(files, tuple(sizes), settings)
    if not results.show_errors(result, len(files)):
        st.stop()
    reference = result.reference_index
    span = result.stable_span()
    # Green only for a finding to rely on: an order that holds over several sizes.
    (st.success if span is not None and span[0] != span[1] else st.info)(result.verdict())
    shown = pairs_ui(result, reference)
    # "SSIM" keys the convention's score (and the chart's widget key); shown by its name.
    for metric in ("SSIM", "MSE"):
        name = settings.score_name if metric == "SSIM" else metric
        st.markdown(f"**{name} against size** (◇ marks each pair's native size)")
        figure = score_figure(result, shown, metric, settings)
        st.plotly_chart(figure, key=f"sweep_{metric.lower()}")
    st.plotly_chart(tau_figure(result, reference), key="sweep_tau")
    st.download_button(
        "Download sweep JSON",
        outputs.to_json_text(outputs.sweep_to_dict(result)),
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
        "similar at the largest size)",
        list(labels),
        default=[pair_label(result, pair) for pair in default],
    )
    return [labels[label] for label in chosen]


def size_axis(figure: go.Figure, widths: list[int] | np.ndarray) -> None:
    """A log x axis spanning the swept widths (with a margin), ticked at them.

    Plotly's automatic range is thrown off by shapes and annotations, and its
    log ticks (``3 4 5 … 100 2 3``) do not say which sizes were compared.
    """
    swept = sorted({int(width) for width in widths})
    low, high = math.log10(swept[0]), math.log10(swept[-1])
    margin = max(0.06 * (high - low), 0.08)
    figure.update_xaxes(
        type="log",
        range=[low - margin, high + margin],
        tickmode="array",
        tickvals=swept,
        ticktext=[str(width) for width in swept],
        title="target width (px, log scale)",
    )


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
        start = max(upsampled, widths.min())
        # Shapes take data values on a log axis; annotations take their log10.
        figure.add_vrect(x0=start, x1=widths.max(), fillcolor="grey", opacity=0.15, line_width=0)
        # Anchored at the band's right end, so that the label stays inside the plot.
        figure.add_annotation(
            x=math.log10(widths.max()),
            y=1,
            xref="x",
            yref="paper",
            text="every shown image upsampled",
            showarrow=False,
            xanchor="right",
            yanchor="top",
            font={"color": "#555"},
        )
    if widths.min() <= settings.width <= widths.max():
        figure.add_vline(x=settings.width, line_dash="dot", line_color="grey")
    figure.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        # Above the plot: below it, a long legend ran into the axis title.
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    )
    size_axis(figure, widths)
    figure.update_yaxes(title=settings.score_name if metric == "SSIM" else metric)
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
    size_axis(figure, widths)
    figure.update_yaxes(title="Kendall's τ", range=[-1.05, 1.05])
    return figure
