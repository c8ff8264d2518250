"""The main area: thumbnails, highlights, pair table, heatmap and downloads."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import imgsim
from imgsim import outputs
from imgsim.analyses import SMOOTH_SHARE, ImageFlags, Pair, Sweep, dendrogram_order, flags_text
from imgsim.dashboard import compute, flag_marks, navigation, state
from imgsim.images import unique_names
from imgsim.settings import MS_SSIM_ZERO_NOTE

if TYPE_CHECKING:
    from streamlit.elements.lib.column_types import ColumnConfig

THUMBNAIL_WIDTH = 150  # px
HEATMAP_KEY = "heatmap"
INFINITE_PSNR_CAP = 100.0  # dB: the colour of ∞ when no pair has a finite PSNR
TABLE_KEY = "pair_table"
MSE_DIGITS = 3  # significant digits of MSE in the heatmap's cells (the table has one more)


@dataclass(frozen=True)
class HeatmapStyle:
    colorscale: str
    text: Callable[[float], str]  # a cell's number, as the table shows it with a digit less


def significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, thousands as k: with 3, 1.50, 254,
    1.23k, 65.0k; exactly 0 is "0".

    How MSE is shown, in the table and the heatmap: "2" for an MSE of 1.5 said
    nothing of near-identical pairs, whose MSE is below a few units. Trailing
    zeros are kept, so a column's numbers all show the same precision.
    """
    if not math.isfinite(value):
        return "∞"
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")  # first, so 999.96 becomes 1k, not 1e+03
    prefix = ""
    for larger in ("k", "M"):
        if abs(rounded) < 1000:
            break
        rounded, prefix = rounded / 1000, larger
    return f"{rounded:#.{digits}g}".removesuffix(".") + prefix  # "100." is 100


def format_score(value: float, spec: str) -> str:
    """A score as shown on the page: infinite PSNR (identical images) is ∞ everywhere."""
    return spec.format(value) if math.isfinite(value) else "∞"


# Colour scales run dark (different) to bright (similar) for every metric. "SSIM"
# is the key of the SSIM convention's score, shown under its name
# (`Settings.score_name`: MS-SSIM for that convention).
HEATMAP_METRICS = {
    "SSIM": HeatmapStyle("Viridis", partial(format_score, spec="{:.3f}")),
    "MSE": HeatmapStyle("Viridis_r", partial(significant, digits=MSE_DIGITS)),
    "PSNR": HeatmapStyle("Viridis", partial(format_score, spec="{:.1f}")),
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
        "  \n".join([f"{info.name} · {info.width}×{info.height}", *info.log, *image_marks(flags)])
        for info, flags in zip(result.images, result.image_flags, strict=True)
    ]
    st.image(list(result.thumbnails), caption=captions, width=THUMBNAIL_WIDTH)


def image_marks(flags: ImageFlags) -> list[str]:
    """Caption lines for what may make an image's scores mislead; none for an ordinary one."""
    marks = []
    if flags.tiny:
        marks.append("⚠ tiny: smaller than one SSIM window")
    if "upsampled" in flags.flags:
        marks.append(f"⚠ enlarged {flags.upsampled:.3g}×")
    if flags.smooth > SMOOTH_SHARE:
        marks.append(f"⚠ {flags.smooth:.0%} smooth")
    return marks


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
            mse = significant(pair.mse, MSE_DIGITS + 1)  # as the table shows it
            st.markdown(f"**{pair.a}** ↔ **{pair.b}**  \nMSE {mse}{flag_marks.badges(pair.flags)}")
    flag_marks.show_legend(flag for pair in pairs for flag in pair.flags)


@dataclass(frozen=True)
class TableColumn:
    """One column of the pair table: its header, its value for a pair, how it is drawn.

    ``show`` writes the text of a cell where a printf format cannot (∞, significant
    digits): the cell keeps its number, so the column still sorts by value.
    """

    header: str
    value: Callable[[Pair], object]
    config: Callable[[str], ColumnConfig]
    show: Callable[[float], str] | None = None


# Fixed widths (px) that keep every column in sight at 800 px wide, beside the
# sidebar: the table then gets about 466 px. Longer names are cut, with an
# ellipsis; the columns can be widened by dragging.
NAME_WIDTH, SCORE_WIDTH, NUMBER_WIDTH, FLAGS_WIDTH = 100, 100, 62, 120


def table_columns(score: str) -> dict[str, TableColumn]:
    """The pair table's columns, keyed by the DataFrame's column names: the one place
    that defines them. The table shows one digit more than the heatmap's cells."""
    number = partial(st.column_config.NumberColumn, width=NUMBER_WIDTH)
    return {
        "Image A": TableColumn(
            "Image A", attrgetter("a"), partial(st.column_config.TextColumn, width=NAME_WIDTH)
        ),
        "Image B": TableColumn(
            "Image B", attrgetter("b"), partial(st.column_config.TextColumn, width=NAME_WIDTH)
        ),
        score: TableColumn(
            score,
            attrgetter("ssim"),
            partial(
                st.column_config.ProgressColumn,
                format="%.4f",
                min_value=0.0,
                max_value=1.0,
                width=SCORE_WIDTH,
            ),
        ),
        "MSE": TableColumn(
            "MSE", attrgetter("mse"), number, partial(significant, digits=MSE_DIGITS + 1)
        ),
        "PSNR (dB)": TableColumn(
            "PSNR dB", attrgetter("psnr"), number, partial(format_score, spec="{:.2f}")
        ),
        # Last, so that MSE and PSNR stay in sight at 800 px; the flags scroll in.
        "Flags": TableColumn(
            "Flags",
            lambda pair: flags_text(pair.flags),
            partial(
                st.column_config.TextColumn,
                width=FLAGS_WIDTH,
                help="Why the exact score may mislead: tiny, upsampled, smooth, size-mismatch",
            ),
        ),
    }


def pair_table(result: imgsim.Comparison) -> pd.DataFrame:
    """One row per pair, most similar first; the score's column is named after it."""
    score = result.settings.score_name
    columns = table_columns(score)
    rows = [
        {name: column.value(pair) for name, column in columns.items()} for pair in result.pairs()
    ]
    table = pd.DataFrame(rows, columns=list(columns))
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
    columns = table_columns(score)

    def row_chosen() -> None:
        rows = st.session_state[TABLE_KEY].selection.rows
        if rows:
            chosen = table.iloc[rows[0]]
            navigation.open_inspector(chosen["Image A"], chosen["Image B"])

    shown = {name: column.show for name, column in columns.items() if column.show is not None}
    st.dataframe(
        table.style.format(shown),
        hide_index=True,
        height=min(600, 35 * (len(table) + 1) + 3),
        key=TABLE_KEY,
        on_select=row_chosen,
        selection_mode="single-row",
        column_config={name: column.config(column.header) for name, column in columns.items()},
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


def infinite_on_top(
    finite: np.ndarray, infinite: np.ndarray
) -> tuple[np.ndarray, list[float], list[str]]:
    """Values to colour a matrix with infinite cells by, and the colour bar's ticks.

    ``finite`` has NaN where ``infinite`` is True. Those cells get a value a step
    (a tenth of the finite range, at least 1) above the largest finite one, or
    `INFINITE_PSNR_CAP` when none is finite; the ticks are round numbers over
    the finite range and ∞ at that value.
    """
    known = finite[np.isfinite(finite)]
    top = float(known.max()) if known.size else INFINITE_PSNR_CAP
    low = float(known.min()) if known.size else top
    above = top + max(0.1 * (top - low), 1.0)
    ticks = round_ticks(low, top)
    labels = [f"{tick:g}" for tick in ticks]
    return np.where(infinite, above, finite), [*ticks, above], [*labels, "∞"]


def round_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About ``count`` round values (1, 2 or 5 times a power of ten apart) in [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(power * factor for factor in (1, 2, 5, 10) if power * factor >= raw)
    first = math.ceil(low / step) * step
    return [round(first + index * step, 10) for index in range(int((high - first) // step) + 1)]


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
    text = [[style.text(value) for value in row] for row in values]
    hover = [
        [
            (f"{cell} (identical after preparation)" if cell == "∞" else cell)
            + flag_marks.after_score(result.flags(i, j) if i != j else ())
            for j, cell in zip(order, row, strict=True)
        ]
        for i, row in zip(order, text, strict=True)
    ]
    colour_bar: dict[str, object] = {"title": {"text": label}, "thickness": 14}
    finite = np.where(np.isfinite(values), values, np.nan)
    if np.isposinf(values).any():
        # Identical images have infinite PSNR (the diagonal always): drawn blank, the
        # most similar pairs would look least similar. They take a colour above every
        # finite PSNR, which the colour bar labels ∞.
        finite, ticks, labels = infinite_on_top(finite, np.isposinf(values))
        colour_bar.update(tickmode="array", tickvals=ticks, ticktext=labels)
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
            colorscale=style.colorscale,
            zmin=zmin,
            zmax=zmax,
            colorbar=colour_bar,
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
        customdata=[hover[row][column] for row, column in cells],
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
