"""The Classify view: labels, nearest-neighbour accuracy, queries and clusters."""

from __future__ import annotations

import pandas as pd
import plotly.figure_factory as ff
import plotly.graph_objects as go
import streamlit as st

import imgsim
from imgsim.analyses import (
    DEFAULT_THRESHOLD,
    METRICS,
    Classification,
    average_linkage,
    classify,
    clusters,
    default_labels,
    group_flags,
    labels_from_csv,
    nearest_neighbours,
)
from imgsim.dashboard import compare_view, compute, results, state
from imgsim.dashboard.flag_marks import after_score, badges, show_legend

MAX_QUERIES_SHOWN = 12


LABELS_KEY = "classify_labels"  # {image name: label}, with the user's edits
CSV_KEY = "classify_csv"  # (file name, {name: label} or None, problem) of the last CSV
EDITOR_KEY = "labels_editor"
CSV_SHAPE = (
    "A labels CSV is UTF-8 text with one `name,label` row per image (an optional "
    "`name,label` header first), for example:\n\n```\nname,label\ncat-1.png,cat\n"
    "dog-2.jpg,dog\n```"
)


def read_labels_csv() -> None:
    """Upload callback: keep the CSV's labels for the session (or say what is wrong)."""
    upload = st.session_state.get("labels_csv")
    if upload is None:
        return
    try:
        given = labels_from_csv(upload.getvalue().decode("utf-8-sig"))
    except UnicodeDecodeError:
        st.session_state[CSV_KEY] = (upload.name, None, "it is not UTF-8 text")
        return
    except ValueError as error:
        st.session_state[CSV_KEY] = (upload.name, None, str(error))
        return
    st.session_state[CSV_KEY] = (upload.name, given, None)
    st.session_state.setdefault(LABELS_KEY, {}).update(given)
    # The editor's pending edits are by row; the file's labels replace them.
    st.session_state.pop(EDITOR_KEY, None)


def labels_ui(names: list[str]) -> list[str | None]:
    """Labels from file names, a CSV, and the user's edits; None where empty.

    The edits and the CSV's labels are kept in the session, so they survive
    switching to another view and back.
    """
    st.file_uploader(
        "Labels CSV (optional): rows of name,label",
        type=["csv"],
        key="labels_csv",
        on_change=read_labels_csv,
        help="Images it does not name keep the label from their file name.",
    )
    csv_name, given, problem = st.session_state.get(CSV_KEY, (None, {}, None))
    if problem:
        st.error(
            f"**{csv_name}** cannot be used as labels: {problem}. {CSV_SHAPE}\n\n"
            "Labels from the file names are used instead."
        )
    elif csv_name:
        unknown = sorted(set(given) - set(names))
        if unknown:
            st.warning(f"{csv_name} names images that are not here: {', '.join(unknown)}.")
        st.caption(f"Labels from **{csv_name}** are applied.")
    kept = st.session_state.setdefault(LABELS_KEY, {})
    defaults = default_labels(names, {})
    table = pd.DataFrame(
        {
            "image": names,
            "label": [kept.get(name, label) for name, label in zip(names, defaults, strict=True)],
        }
    )
    edited = st.data_editor(
        table,
        hide_index=True,
        disabled=["image"],
        key=EDITOR_KEY,
        column_config={
            "label": st.column_config.TextColumn(
                "label", help="Leave empty to make the image a query"
            )
        },
        height=min(320, 35 * (len(names) + 1) + 3),
    )
    labels = [
        label.strip() if isinstance(label, str) and label.strip() else None
        for label in edited["label"]
    ]
    kept.update({name: label or "" for name, label in zip(names, labels, strict=True)})
    return labels


def show(files: compute.Files, settings: imgsim.Settings) -> None:
    st.caption(
        "Each image gets a label (the leading word of its file name: dog-1.png is a "
        "dog; names starting with a digit, query or unknown are queries). Every "
        "labelled image is predicted from the others by its nearest neighbours, which "
        "measures how far similarity alone goes as a classifier."
    )
    result = compare_view.compared(files, settings)
    if not results.show_errors(result, len(files)):
        st.stop()
    labels_column, controls_column = st.columns([3, 2])
    with labels_column:
        labels = labels_ui(result.names)
    with controls_column:
        state.default_of("classify_metric", METRICS[0])
        metric = st.selectbox(
            "Closeness",
            METRICS,
            key="classify_metric",
            format_func=lambda name: (
                settings.metric_name(name) + (" (lower is closer)" if name == "mse" else "")
            ),
        )
        most = max(1, len(result.images) - 1)
        if state.default_of("classify_k", 1) > most:  # a link's k, for fewer images
            st.session_state["classify_k"] = most
        k = st.number_input(
            "Neighbours that vote (k)",
            min_value=1,
            max_value=most,
            key="classify_k",
            help="Ties go to the label whose voting neighbours score higher on average.",
        )
    classification = classify(result, labels, int(k), metric)
    for note in classification.notes:
        st.warning(note[0].upper() + note[1:] + ".")
    thumbnails = compute.thumbnail_uris(files, settings)
    show_accuracy(classification)
    show_queries(classification, thumbnails)
    show_neighbours(classification, thumbnails)
    show_clusters(classification, thumbnails)


def show_accuracy(result: Classification) -> None:
    settings = result.comparison.settings
    chosen = result.loo[result.metric]
    if not chosen.evaluated or len(chosen.labels) < 2:
        return  # `Classification.notes`, shown above, says why there is no accuracy
    st.subheader("Leave-one-out accuracy")
    # Percentages with one decimal everywhere (the tables' own "percent" format
    # printed 50% next to 33.33%). Two columns, not three: at 800 px three
    # squeezed the accuracy column out of sight.
    percent = st.column_config.NumberColumn(format="%.1f%%")
    rows = []
    for name, loo in result.loo.items():
        # Every metric holds out the same labelled images, and some were (above).
        assert loo.accuracy is not None
        rows.append({"predictor": settings.metric_name(name), "accuracy": 100 * loo.accuracy})
    assert chosen.baseline_accuracy is not None
    rows.append({"predictor": "chance", "accuracy": 100 * chosen.baseline_accuracy})
    tables_column, matrix_column = st.columns([2, 3])
    tables_column.dataframe(
        pd.DataFrame(rows), hide_index=True, column_config={"accuracy": percent}
    )
    tables_column.caption(
        f"{chosen.evaluated} labelled images, k = {result.k}; chance always answers the "
        "most common label."
    )
    recall = [100 * value for value in chosen.per_class.values()]
    tables_column.dataframe(
        pd.DataFrame({"label": list(chosen.per_class), "recall": recall}),
        hide_index=True,
        column_config={"recall": percent},
    )
    figure = go.Figure(
        go.Heatmap(
            z=chosen.confusion,
            x=list(chosen.labels),
            y=list(chosen.labels),
            text=chosen.confusion,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"Confusion matrix ({settings.metric_name(result.metric)})",
        height=320,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"title": "predicted"},
        yaxis={"title": "true", "autorange": "reversed"},
    )
    matrix_column.plotly_chart(figure, key="confusion")


def show_queries(result: Classification, thumbnails: list[str]) -> None:
    queries = result.queries
    if not queries:
        return
    st.subheader("Queries")
    st.caption("Unlabelled images, their predicted label, and their three best matches.")
    for query in queries[:MAX_QUERIES_SHOWN]:
        columns = st.columns([1, 2, 1, 1, 1])
        columns[0].image(thumbnails[query.index], caption=query.name)
        margin = "" if query.margin is None else f" (margin {query.margin:.3f})"
        columns[1].markdown(f"**{query.predicted or 'no labelled images'}**{margin}")
        for column, neighbour in zip(columns[2:], query.neighbours, strict=False):
            column.image(
                thumbnails[neighbour.index],
                caption=f"{neighbour.name} · {neighbour.label} · {neighbour.score:.3f}"
                f"{after_score(neighbour.flags)}",
            )
    shown = queries[:MAX_QUERIES_SHOWN]
    show_legend(
        flag for query in shown for neighbour in query.neighbours for flag in neighbour.flags
    )
    if len(queries) > MAX_QUERIES_SHOWN:
        st.caption(f"…and {len(queries) - MAX_QUERIES_SHOWN} more (see the CLI's JSON).")


def show_neighbours(result: Classification, thumbnails: list[str]) -> None:
    st.subheader("Nearest neighbour of each image")
    names = result.comparison.names
    score = result.comparison.settings.metric_name(result.metric)
    rows = []
    found = nearest_neighbours(result.comparison, result.metric)
    for prediction, nearest in zip(result.predictions, found, strict=True):
        rows.append(
            {
                "image": thumbnails[prediction.index],
                "name": prediction.name,
                "label": prediction.label,
                "predicted": prediction.predicted,
                "nearest": thumbnails[nearest.index] if nearest else None,
                # The pair's flags after the name: an eighth column would not fit 800 px.
                "nearest name": nearest.name + after_score(nearest.flags) if nearest else None,
                score: nearest.score if nearest else None,
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        row_height=48,
        # Narrow fixed widths, so that all seven columns fit an 800 px window.
        column_config={
            "image": st.column_config.ImageColumn("image", width=48),
            "nearest": st.column_config.ImageColumn("nearest", width=48),
            "label": st.column_config.TextColumn("label", width=70),
            "predicted": st.column_config.TextColumn("predicted", width=70),
            score: st.column_config.NumberColumn(format="%.4f", width=60),
        },
    )
    st.caption(f"{len(names)} images. 'predicted' leaves each labelled image out of its own vote.")
    show_legend(flag for nearest in found if nearest for flag in nearest.flags)


def show_clusters(result: Classification, thumbnails: list[str]) -> None:
    st.subheader("Clusters")
    comparison = result.comparison
    names = comparison.names
    score = comparison.settings.score_name
    if len(names) >= 3:
        figure = ff.create_dendrogram(
            comparison.ssim,
            labels=names,
            distfun=lambda _: None,
            linkagefun=lambda _: average_linkage(comparison),
        )
        figure.update_layout(
            title=f"Average linkage on 1 − {score}",
            height=360,
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            yaxis={"title": f"1 − {score}"},
            # Upright leaf labels with room made for them: slanted ones ran past
            # the right edge, cutting off the last leaf's name.
            xaxis={"tickangle": -90, "automargin": True},
        )
        st.plotly_chart(figure, key="dendrogram")
    state.default_of("duplicate_threshold", DEFAULT_THRESHOLD)
    threshold = st.slider(
        f"Near-duplicates: {score} of at least",
        0.5,
        1.0,
        step=0.01,
        key="duplicate_threshold",
        help=f"Images whose {score} to each other all reach this form a group.",
    )
    groups = [group for group in clusters(comparison, threshold) if len(group) > 1]
    if not groups:
        st.caption("No two images are that similar.")
    flags = [group_flags([comparison.image_flags[index] for index in group]) for group in groups]
    for number, (group, labelled) in enumerate(zip(groups, flags, strict=True), start=1):
        st.markdown(f"**Group {number}** · {len(group)} images{badges(labelled, 'group')}")
        columns = st.columns(min(8, len(group)))
        for position, index in enumerate(group):
            columns[position % len(columns)].image(thumbnails[index], caption=names[index])
    show_legend(flag for labelled in flags for flag in labelled)
    membership = pd.DataFrame(
        [
            {"name": names[index], "group": number}
            for number, group in enumerate(clusters(comparison, threshold), start=1)
            for index in group
        ]
    )
    st.download_button(
        "Download groups CSV",
        membership.to_csv(index=False),
        file_name="imgsim-groups.csv",
        mime="text/csv",
        icon=":material/download:",
    )
