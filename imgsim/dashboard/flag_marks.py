"""How the page marks a score that may mislead: a badge per flag, the flags
after a score, and one caption saying what the shown flags mean
(`imgsim.analyses.FLAGS`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import streamlit as st

from imgsim.analyses import FLAGS, flags_text


def badges(flags: Sequence[str], noun: str = "") -> str:
    """Markdown badges, one per flag: ``:orange-badge[smooth group]`` with ``noun``
    ``"group"``; ``""`` for none. A leading space separates them from the text before."""
    named = (f"{flag} {noun}" if noun else flag for flag in flags)
    return "".join(f" :orange-badge[{text}]" for text in named)


def after_score(flags: Sequence[str]) -> str:
    """Flags after a score in a caption or a cell: ``" · ⚠ upsampled, smooth"``;
    ``""`` for none. The sign tells a flag from a label of the same word."""
    return f" · ⚠ {flags_text(flags)}" if flags else ""


def legend(flags: Iterable[str]) -> str | None:
    """One caption on what each shown flag means, in the vocabulary's order; None
    when none is shown."""
    shown = set(flags)
    meanings = [f"**{flag}**: {meaning}" for flag, meaning in FLAGS.items() if flag in shown]
    if not meanings:
        return None
    return "The scores are exact; a flag says why one may mislead. " + "; ".join(meanings) + "."


def show_legend(flags: Iterable[str]) -> None:
    """`legend` as a caption; nothing when no flag is shown."""
    text = legend(flags)
    if text is not None:
        st.caption(text)
