"""Which view is shown, and the links between views (a heatmap cell opens a pair)."""

from __future__ import annotations

import streamlit as st

COMPARE = "Compare"
SWEEP = "Resize sweep"
INSPECTOR = "Pair inspector"
CLASSIFY = "Classify"
COLLECTION = "Collection"  # offered only when the server names collections
VIEWS = (COMPARE, SWEEP, INSPECTOR, CLASSIFY)
ALL_VIEWS = (*VIEWS, COLLECTION)

VIEW_KEY = "view"
PAIR_KEYS = ("inspect_a", "inspect_b")
# The pair a link made from uploads names, kept until those files are uploaded
# (`state.open_link_pair`): the names of whatever is shown meanwhile never replace it.
LINK_PAIR_KEY = "_link_pair"


def view_selector(extra: tuple[str, ...] = ()) -> str:
    """The view switch at the top of the main area; returns the chosen view.

    ``extra`` adds views this server offers (the Collection view).
    """
    views = (*VIEWS, *extra)
    if st.session_state.get(VIEW_KEY) not in views:  # a link may have set it already
        st.session_state[VIEW_KEY] = COMPARE
    return (
        st.segmented_control(
            "View",
            views,
            required=True,
            key=VIEW_KEY,
            label_visibility="collapsed",
        )
        or COMPARE
    )


def open_inspector(first: str, second: str) -> None:
    """Switch to the inspector on a pair; for widget callbacks (run before the rerun)."""
    if first == second:
        return
    st.session_state.pop(LINK_PAIR_KEY, None)  # a pair chosen here replaces the link's
    st.session_state[PAIR_KEYS[0]] = first
    st.session_state[PAIR_KEYS[1]] = second
    st.session_state[VIEW_KEY] = INSPECTOR


def forget_link_pair() -> None:
    """Stop waiting for the link's pair (a button callback): inspect what is here."""
    st.session_state.pop(LINK_PAIR_KEY, None)
