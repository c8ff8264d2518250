"""The Collection view: near-duplicate groups and "find images like this one"
over a folder that the server owner named (``IMGSIM_COLLECTION``).

Nothing here reads a path a visitor sent: a visitor picks a collection by name
and images by their names in its index, and every read goes through
`imgsim.collection`, which refuses whatever is outside the folder.
Indexing runs in one background thread per collection and settings, shared by
every session (`index_for`); this page only polls its status.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

import streamlit as st

import imgsim
from imgsim import outputs
from imgsim.collection import (
    CANCELLED,
    COLLECTION_VARIABLE,
    DEFAULT_GROUP_SSIM,
    FLOOR_SSIM,
    Collection,
    CollectionIndex,
    CollectionPathError,
    Group,
    Listing,
    Match,
    Neighbours,
    groups_at,
    index_seconds,
    list_images,
    matches_of,
    query,
    thumbnail_png,
)
from imgsim.dashboard import compare_view, compute, sidebar, state
from imgsim.dashboard.collection_pairs import NAME_KEY, open_pair
from imgsim.dashboard.flag_marks import after_score, badges, show_legend
from imgsim.dashboard.served import cache_dir, collections, configuration_errors, index_for
from imgsim.images import ImageReadError, unique_names
from imgsim.images import thumbnail as small_thumbnail
from imgsim.settings import LimitError, largest_size, score_name
from imgsim.timing import format_duration

THRESHOLD_KEY = "collection_threshold"
PAGE_KEY = "collection_page"
SOURCE_KEY = "collection_query_source"
QUERY_KEY = "collection_query"
PICK_KEY = "collection_pick"
QUERY_DIGESTS_KEY = "collection_query_digests"
QUERIES_KEY = "_collection_queries"  # the last uploaded queries, kept across views
GROUPS_PER_PAGE = 10
SHOWN_PER_GROUP = 12  # thumbnails in a group's row; the CSV has every member
MATCHES_SHOWN = 5
THUMBNAIL_WIDTH = 112
POLL_SECONDS = 1.0
UPLOAD_QUERY, PICK_QUERY = "Upload images", "An image of the collection"


def show(settings: imgsim.Settings, refused: tuple[tuple[int, int], str] | None = None) -> None:
    found = collections()
    for error in configuration_errors():  # the other collections stay usable
        st.error(f"The server's collections are misconfigured: {error}.")
    if not found:
        if not configuration_errors():  # the variable holds only separators
            st.error(
                f"The server's collections are misconfigured: {COLLECTION_VARIABLE} "
                "names no folder."
            )
        st.stop()
    collection = choose_collection(found)
    index = index_for(collection, settings, cache_dir())
    if index.status.state == "idle" and index.cached():
        index.start()  # after a restart: the results are read back from the cache
    show_header(collection, index, settings, refused)
    progress_panel(index)
    status = index.status
    if status.state == "failed":
        st.error(f"Indexing {collection.name} failed: {status.error}")
    if status.result is None:
        return
    show_groups(collection, status.result, status.result_id)
    show_finder(collection, index, status.result)


def choose_collection(found: tuple[Collection, ...]) -> Collection:
    by_name = {collection.name: collection for collection in found}
    # A name from a link was checked when the link was read (`state.PARAMS`).
    if st.session_state.get(NAME_KEY) not in by_name:
        st.session_state[NAME_KEY] = found[0].name
    if len(found) > 1:
        st.selectbox("Collection", list(by_name), key=NAME_KEY)
    return by_name[st.session_state[NAME_KEY]]


@st.cache_data(ttl=30, max_entries=16, show_spinner=False)
def current_listing(collection: Collection) -> Listing:
    """The folder's images now (listed again at most every 30 s, for the header)."""
    return list_images(collection)


def plural(count: int, word: str) -> str:
    """``1 image``, ``2 images``, ``1,000 groups``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def show_header(
    collection: Collection,
    index: CollectionIndex,
    settings: imgsim.Settings,
    refused: tuple[tuple[int, int], str] | None = None,
) -> None:
    status = index.status
    listing = status.listing or current_listing(collection)
    count = len(listing.names)
    colour = "grayscale" if settings.grayscale else "colour"
    if status.result is not None:
        where = "indexed at"
    elif status.state == "running":
        where = "being indexed at"
    else:  # nothing indexed yet: these are the settings an index would use
        where = "not indexed yet; to be indexed at"
    st.markdown(
        f"**Collection: {collection.name}** · {plural(count, 'image')} · {where} "
        f"{settings.width}×{settings.height}, {colour}, {settings.fit}, {settings.interp} · "
        f"{convention_label(settings.ssim_convention)}"
    )
    refused_size_note(settings, refused)
    took = format_duration(index_seconds(count, settings))
    if status.state == CANCELLED:
        st.info(
            "Indexing was cancelled. The pairs compared until then are kept in the "
            "cache: indexing again goes on from them."
        )
    if status.result is None and status.state in ("idle", CANCELLED):
        offer_index(collection, index, count, took)
        return
    st.caption(
        f"The sidebar's settings apply to the collection: at other settings it is "
        f"indexed again (on a click), about {took} for {plural(count, 'image')} on this "
        "server (images already prepared at those settings come from the cache)."
    )
    running = status.state == "running"
    with st.container(horizontal=True):
        st.button(
            "Rescan the folder",
            key="collection_rescan",
            icon=":material/refresh:",
            disabled=running,
            on_click=start_index,
            args=(index,),
            help="Index files added since the last scan: only pairs that involve a new "
            "file are compared. Removing files compares everything again.",
        )
        if running:
            st.button(
                "Cancel indexing",
                key="collection_cancel",
                icon=":material/stop:",
                on_click=index.cancel,
                help="Stop after the part being compared; what is compared until then "
                "is kept, and indexing again goes on from it.",
            )
    problems = [str(error) for error in (status.result.errors if status.result else ())]
    problems += [f"{name}: {reason}, not read" for name, reason in listing.skipped]
    if problems:
        files = "file" if len(problems) == 1 else "files"
        with st.expander(f"{len(problems)} {files} left out"):
            st.markdown("\n".join(f"- {line}" for line in problems))


def offer_index(collection: Collection, index: CollectionIndex, count: int, took: str) -> None:
    """The estimate and the button that starts an index, or why these settings are refused."""
    try:
        index.check(count)
    except LimitError as error:
        st.error(f"**{collection.name}** cannot be indexed at these settings: {error.reason}.")
        offered = largest_size(index.settings, lambda trial: indexable(index, trial, count))
        if offered is not None:
            compare_view.offer_size(offered)
        return
    # A click, not a page view, starts a new index: changing a setting in the
    # sidebar must not set the server to hours of work by accident.
    st.info(
        f"**{collection.name}** is not indexed at these settings yet. Indexing its "
        f"{plural(count, 'image')} takes about {took} on this server; it runs once, for "
        "every visitor, and is kept in the cache."
    )
    st.button(
        "Index the collection",
        key="collection_start",
        type="primary",
        icon=":material/play_arrow:",
        on_click=start_index,
        args=(index,),
    )


def indexable(index: CollectionIndex, settings: imgsim.Settings, count: int) -> bool:
    """Whether ``count`` images of the index's collection may be indexed at ``settings``."""
    trial = CollectionIndex(index.collection, settings, index.cache, index.limits)
    try:
        trial.check(count)
    except LimitError:
        return False
    return True


def start_index(index: CollectionIndex) -> None:
    """Start indexing (a button callback: Streamlit ignores what it returns)."""
    index.start()


def refused_size_note(
    settings: imgsim.Settings, refused: tuple[tuple[int, int], str] | None
) -> None:
    """Say so when the sidebar refused its size and convention together (``refused``,
    from the sidebar): the collection is shown (and would be indexed) at the
    settings in use instead."""
    if refused is None:
        return
    typed, convention = refused
    st.warning(
        f"The sidebar's {typed[0]}×{typed[1]} with {convention_label(convention)} cannot be used "
        f"(the sidebar says why), so the collection is shown at the settings in use: "
        f"{settings.width}×{settings.height} with {convention_label(settings.ssim_convention)}."
    )


def progress_panel(index: CollectionIndex) -> None:
    """Progress while indexing, redrawn every second on its own; the page reruns once
    indexing ends, so the results appear without a click."""
    running = index.status.state == "running"

    @st.fragment(run_every=POLL_SECONDS if running else None)
    def panel() -> None:
        status = index.status
        if status.state == "running":
            progress = status.progress
            left = progress.remaining if progress else None
            text = progress.message.capitalize() if progress else "Listing the folder"
            if left is not None and left >= 1:
                text += f" · about {format_duration(left)} left"
            st.progress(progress.fraction if progress else 0.0, text=f"Indexing: {text}")
            if status.result is not None:
                st.caption("Showing the previous index until this one is done.")
        elif running:
            st.rerun()

    panel()


@st.cache_data(max_entries=64, show_spinner=False)
def _groups(_result: Neighbours, result_id: int, threshold: float) -> tuple[Group, ...]:
    """Groups at a threshold; keyed on the index's result and the threshold."""
    return groups_at(_result, threshold)


def thumbnail(collection: Collection, name: str) -> bytes | None:
    """A thumbnail made once per image (on disk); None when it cannot be made,
    with the reason shown in its place."""
    try:
        return thumbnail_png(collection, name, cache_dir(), THUMBNAIL_WIDTH)
    except (CollectionPathError, ImageReadError) as error:
        st.caption(f"{name}: {error}")
        return None


def thumbnail_row(collection: Collection, names: list[str], captions: list[str]) -> None:
    made = [
        (thumbnail(collection, name), caption)
        for name, caption in zip(names, captions, strict=True)
    ]
    shown = [(image, caption) for image, caption in made if image is not None]
    if shown:
        st.image([i for i, _ in shown], caption=[c for _, c in shown], width=THUMBNAIL_WIDTH)


def reset_page() -> None:
    st.session_state[PAGE_KEY] = 1


def convention_label(convention: str) -> str:
    """The score and how it is taken, in the sidebar's words: "MS-SSIM", or
    "SSIM, scikit-image (7×7 uniform)"."""
    score = score_name(convention)
    return score if score != "SSIM" else f"SSIM, {sidebar.SSIM_LABELS[convention]}"


def show_groups(collection: Collection, result: Neighbours, result_id: int) -> None:
    st.subheader("Near-duplicate groups")
    score = result.settings.score_name
    state.default_of(THRESHOLD_KEY, DEFAULT_GROUP_SSIM)
    threshold = st.slider(
        f"{score} threshold",
        FLOOR_SSIM,
        1.0,
        step=0.01,
        key=THRESHOLD_KEY,
        on_change=reset_page,
        help=f"Images joined by pairs with {score} at or above this form a group.",
    )
    groups = _groups(result, result_id, threshold)
    pages = max(1, math.ceil(len(groups) / GROUPS_PER_PAGE))
    st.caption(groups_summary(len(groups), threshold, score))
    if not groups:
        return
    if st.session_state.get(PAGE_KEY, 1) > pages:
        reset_page()
    state.default_of(PAGE_KEY, 1)
    page = (
        st.number_input(f"Page (of {pages})", 1, pages, key=PAGE_KEY, width=180) if pages > 1 else 1
    )
    names = result.names
    start = (page - 1) * GROUPS_PER_PAGE
    shown_groups = groups[start : start + GROUPS_PER_PAGE]
    for number, group in enumerate(shown_groups, start + 1):
        members = [names[i] for i in group.members]
        exact = " · exact duplicates" if group.exact else ""
        # A group of smooth images is labelled so: its high scores may mean little.
        st.markdown(
            f"**Group {number}**: {len(members)} images · lowest pair {score} "
            f"{group.min_ssim:.3f}{exact}{badges(group.flags, 'group')}"
        )
        shown = members[:SHOWN_PER_GROUP]
        thumbnail_row(collection, shown, shown)
        if len(members) > len(shown):
            st.caption(f"and {len(members) - len(shown)} more (all are in the CSV)")
    show_legend(flag for group in shown_groups for flag in group.flags)
    st.download_button(
        "Download the groups (CSV)",
        groups_csv(groups, names, result.settings.score_key),
        file_name=f"{collection.name}-groups-ssim-{threshold:.2f}.csv",
        mime="text/csv",
        key="collection_groups_csv",
    )


def groups_summary(count: int, threshold: float, score: str = "SSIM") -> str:
    """The line under the groups' slider: how many, in what order, what the score means."""
    if count == 0:
        found = f"No groups at {score} ≥ {threshold:.2f}."
    elif count == 1:
        found = f"1 group at {score} ≥ {threshold:.2f}, with its lowest pair score."
    else:
        found = (
            f"{count:,} groups at {score} ≥ {threshold:.2f}, largest first, each with its "
            "lowest pair score."
        )
    chained = (
        " Groups are chained: images joined by a path of pairs at or above the threshold "
        "are one group, so the lowest score is the group's weakest link, not its least "
        "alike pair: two of its images can be less alike than that."
        if count
        else ""
    )
    return (
        f"{found}{chained} The index keeps every pair down to {score} {FLOOR_SSIM}, so any "
        "threshold from there up is drawn from it without comparing again."
    )


def groups_csv(groups: Sequence[Group], names: list[str], score: str = "ssim") -> str:
    """One row per member: ``group,size,min_<score>,exact,name,flags`` (groups
    numbered from 1; the group's flags joined by ``;`` as in the CLI's CSV).

    ``score`` is the convention's `imgsim.settings.score_key`, as in the CLI's tables.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["group", "size", f"min_{score}", "exact", "name", "flags"])
    for number, group in enumerate(groups, 1):
        for member in group.members:
            writer.writerow(
                [
                    number,
                    len(group.members),
                    repr(group.min_ssim),
                    group.exact,
                    names[member],
                    outputs.flags_cell(group.flags),
                ]
            )
    return buffer.getvalue()


@st.cache_data(
    max_entries=8,
    max_size="64MiB",
    scope="session",
    show_spinner=False,
    hash_funcs=compute.HASH_FUNCS,
)
def _query(
    _index: CollectionIndex, files: compute.Files, result_id: int
) -> tuple[list[str], list[str], list[list[Match]]]:
    """Matches of uploaded images, keyed on their digests and the index's result."""
    limit = compute.page_limits().max_pixels
    decoded = [compute.decode_file(file, limit) for file in files]  # the page's one decode path
    bar = st.progress(0.0, text="Matching against the collection…")

    def report(progress: imgsim.Progress) -> None:
        left = progress.remaining
        text = progress.message.capitalize()
        if left is not None and left >= 1:
            text += f" · about {format_duration(left)} left"
        bar.progress(progress.fraction, text=text)

    found, matches = query(_index, decoded, top=MATCHES_SHOWN, progress=report)
    bar.empty()
    return [str(error) for error in found.errors], found.names, matches


def show_finder(collection: Collection, index: CollectionIndex, result: Neighbours) -> None:
    st.subheader("Find images like this one")
    state.default_of(SOURCE_KEY, UPLOAD_QUERY)
    source = st.segmented_control(
        "Query", (UPLOAD_QUERY, PICK_QUERY), required=True, key=SOURCE_KEY
    )
    score = result.settings.score_name
    if source == PICK_QUERY:
        if not result.names:
            return
        if st.session_state.get(PICK_KEY) not in result.names:
            st.session_state[PICK_KEY] = result.names[0]
        picked = st.selectbox("Image", result.names, key=PICK_KEY)
        thumbnail_row(collection, [picked], [picked])
        show_matches(collection, ("collection", picked), matches_of(result, picked), score=score)
        return
    uploaded = st.file_uploader(
        "Query images (not added to the collection)",
        accept_multiple_files=True,
        key=QUERY_KEY,
        on_change=st.session_state.pop,
        args=(QUERIES_KEY, None),
        help="Each is matched against every image of the collection.",
    )
    # The uploader forgets its files whenever another view is shown (after
    # Inspect, say); the session keeps the last ones until the visitor changes them.
    files = compute.uploads_of(uploaded, QUERY_DIGESTS_KEY) if uploaded else ()
    if files:
        st.session_state[QUERIES_KEY] = files
    else:
        files = st.session_state.get(QUERIES_KEY, ())
        if files:
            st.caption("The images uploaded before; upload others to replace them.")
    if not files:
        st.caption(f"Upload one or more images to see their {MATCHES_SHOWN} closest matches.")
        return
    status = index.status
    errors, names, matches = _query(index, files, status.result_id)
    for error in errors:
        st.error(error)
    by_name = dict(zip(unique_names([file[0] for file in files]), files, strict=True))
    for row, (name, found) in enumerate(zip(names, matches, strict=True)):
        st.markdown(f"**{name}**")
        decoded = compute.decode_file(by_name[name], compute.page_limits().max_pixels)
        # names are the readable queries (`Neighbours.images`): each decoded.
        assert isinstance(decoded, imgsim.DecodedImage)
        # A thumbnail, not the upload: a 20-megapixel photo is not sent back whole.
        st.image(small_thumbnail(decoded.rgb, THUMBNAIL_WIDTH), width=THUMBNAIL_WIDTH)
        show_matches(collection, ("upload", by_name[name]), found, row, score=score)


def show_matches(
    collection: Collection, first: tuple, found: list[Match], row: int = 0, *, score: str = "SSIM"
) -> None:
    """Matches as thumbnails with their scores, each opening the inspector on the pair."""
    columns = st.columns(MATCHES_SHOWN)
    for rank, (column, match) in enumerate(zip(columns, found[:MATCHES_SHOWN], strict=False)):
        with column:
            image = thumbnail(collection, match.name)
            if image is not None:
                # "content": its own width, shrunk to a narrow window's column.
                st.image(image, caption=match.name, width="content")
            psnr = "∞" if math.isinf(match.psnr) else f"{match.psnr:.1f}"
            st.caption(
                f"{score} {match.ssim:.3f} · MSE {match.mse:.1f} · PSNR {psnr} dB"
                f"{after_score(match.flags)}"
            )
            st.button(
                "Inspect",
                key=f"collection_inspect_{row}_{rank}",
                on_click=open_pair,
                args=(collection.name, first, match.name),
                help=f"Open the pair inspector on this image and {match.name}",
            )
    show_legend(flag for match in found[:MATCHES_SHOWN] for flag in match.flags)
