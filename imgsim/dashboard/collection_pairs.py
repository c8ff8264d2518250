"""A pair of a collection opened in the Pair inspector: from the view, or from a link.

Every name goes through `imgsim.collection.resolve`, which refuses whatever is
outside the collection's folder.
"""

from __future__ import annotations

import streamlit as st

from imgsim.collection import Collection, CollectionPathError, read_image_bytes, resolve
from imgsim.dashboard import compute, navigation, state
from imgsim.dashboard.served import collections, offered
from imgsim.images import ImageReadError, unique_names

NAME_KEY = "collection_name"
PAIR_KEY = "_collection_pair"  # (collection name, first, second) opened in the inspector


def shown() -> bool:
    """Whether this run shows the collection: its view, or one of its pairs in the
    inspector (known before the view switch is drawn)."""
    view = st.session_state.get(navigation.VIEW_KEY)
    pair = view == navigation.INSPECTOR and PAIR_KEY in st.session_state
    return offered() and (view == navigation.COLLECTION or pair)


def open_pair(collection: str, first: tuple, second: str) -> None:
    """Open the inspector on a query and a match (a button callback)."""
    st.session_state[PAIR_KEY] = (collection, first, second)
    names = unique_names([_name(first), second])
    st.session_state[navigation.PAIR_KEYS[0]] = names[0]
    st.session_state[navigation.PAIR_KEYS[1]] = names[1]
    st.session_state[navigation.VIEW_KEY] = navigation.INSPECTOR


def _name(reference: tuple) -> str:
    kind, value = reference
    return value[0] if kind == "upload" else value


def opened() -> bool:
    """Whether the inspector shows a pair opened from the Collection view."""
    return PAIR_KEY in st.session_state


def forget_pair() -> None:
    """The inspector shows a collection pair only when opened from this view."""
    st.session_state.pop(PAIR_KEY, None)


@st.cache_data(max_entries=4, max_size="256MiB", scope="session", show_spinner=False)
def _collection_file(collection: Collection, name: str) -> compute.Upload:
    return compute.Upload(name, read_image_bytes(collection, name))


def pair_files() -> compute.Files | None:
    """The pair opened from the Collection view, as files for the inspector; None
    when the inspector was not opened from it."""
    pair = st.session_state.get(PAIR_KEY)
    if pair is None:
        return None
    name, first, second = pair
    by_name = {collection.name: collection for collection in collections()}
    if name not in by_name:
        forget_pair()
        return None
    collection = by_name[name]
    try:
        files = [
            first[1] if first[0] == "upload" else _collection_file(collection, first[1]),
            _collection_file(collection, second),
        ]
    except (CollectionPathError, ImageReadError) as error:
        st.error(f"This pair cannot be inspected: {error}")
        st.stop()
    if first[0] == "upload":
        note = (
            f"Your uploaded image **{first[1][0]}** and **{second}** from the collection "
            f"**{name}**."
        )
    else:
        note = f"A pair from the collection **{name}**."
    with st.container(horizontal=True, vertical_alignment="center"):
        st.info(note, width="stretch")
        st.button("Back to the collection", key="collection_back", on_click=back_to_collection)
    return tuple(files)


def back_to_collection() -> None:
    """Leave the inspector for the Collection view; the pair's names leave the link."""
    forget_pair()
    for key in navigation.PAIR_KEYS:
        st.session_state.pop(key, None)
    st.session_state[navigation.VIEW_KEY] = navigation.COLLECTION


LINK_PAIR_READ_KEY = "_collection_link_pair_read"


def restore_pair_from_link() -> None:
    """On a session's first run, reopen the collection pair that a link names
    (``view=Pair inspector&col=...&a=...&b=...``), through the path checks.

    A name that is not an image of the collection (an uploaded query, which
    cannot travel in a link, or an edited link) is said in the link's note.
    """
    session = st.session_state
    if session.get(LINK_PAIR_READ_KEY):
        return
    session[LINK_PAIR_READ_KEY] = True
    name = session.get(NAME_KEY)  # set only when the link's col= is a collection here
    first, second = (session.get(key) for key in navigation.PAIR_KEYS)
    if (
        session.get(navigation.VIEW_KEY) != navigation.INSPECTOR
        or name is None
        or first is None
        or second is None
    ):
        return
    pair = [first, second]
    by_name = {collection.name: collection for collection in collections()}
    notes, _, from_upload = session.get(state.LINK_NOTE_KEY, ([], [], False))
    outside = []
    for each in pair:
        try:
            resolve(by_name[name], each)
        except CollectionPathError:
            outside.append(each)
    if outside:
        notes = [
            *notes,
            f"The link names {', '.join(outside)}, which is not an image of the collection "
            f"{name}: an uploaded query (uploads cannot travel in a link) or an edited "
            "link. Upload it on the Collection view to inspect that pair; the sample's "
            "pair is shown meanwhile.",
        ]
        for key in navigation.PAIR_KEYS:
            session.pop(key, None)
    else:
        session[PAIR_KEY] = (name, ("collection", pair[0]), pair[1])
    # The pair's names are accounted for here, not as names missing from the sample.
    session[state.LINK_NOTE_KEY] = (notes, [], from_upload)
