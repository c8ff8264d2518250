"""What the page remembers: choices that survive switching views, and the link.

Streamlit forgets the value of a widget that a run does not draw, so each
view's choices would reset whenever another view is shown. The widgets listed
in `VIEW_WIDGETS` are re-committed at the start of every run, which keeps them
for the session; those in `IMAGE_CHOICES` only make sense for one set of images
and are dropped when the images change.

The sidebar settings, the view and its main choices also live in the URL
(`st.query_params`): a reload or a pasted link opens the same view. Uploaded
images cannot travel in a link; a link made from uploads says so when opened,
and keeps the pair it names (in the session and the URL) until those files are
uploaded, then opens it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from imgsim import data
from imgsim.collection import DEFAULT_GROUP_SSIM, FLOOR_SSIM
from imgsim.dashboard.compute import page_limits
from imgsim.dashboard.navigation import ALL_VIEWS, COMPARE, LINK_PAIR_KEY, PAIR_KEYS
from imgsim.dashboard.served import collections
from imgsim.settings import ALPHA_MODES, DEFAULT_SIZE, FITS, INTERPS, SSIM_CONVENTIONS, Settings

T = TypeVar("T")

# Widgets of views that are not always drawn (see the module's docstring).
VIEW_WIDGETS = (
    "sweep_sizes",
    "sweep_keep_aspect",
    "inspect_a",
    "inspect_b",
    "pair_mode",
    "inspect_otsu",
    "inspect_threshold",
    "inspect_min_area",
    "inspect_own_size",
    "inspect_term_map",
    "classify_metric",
    "classify_k",
    "duplicate_threshold",
    "heatmap_metric",
    "heatmap_clustered",
    "collection_name",
    "collection_threshold",
    "collection_page",
    "collection_query_source",
    "collection_pick",
)
# Choices that name or describe particular images: reset when the images change.
IMAGE_CHOICES = (
    "inspect_a",
    "inspect_b",
    "sweep_sizes",
    "classify_labels",
    "classify_csv",
    "labels_editor",
)

SOURCE_KEY = "_image_source"
URL_READ_KEY = "_url_read"
LINK_NOTE_KEY = "_link_note"
UPLOADED_SOURCE = "upload"


@dataclass(frozen=True)
class Param:
    """One URL parameter: the session-state key it sets and how to read it."""

    key: str
    parse: Callable[[str], object]
    default: object = None
    show: Callable[[object], str] = str


def _whole(text: str) -> int:
    """``text`` as a whole number, refused in words (not Python's ``int()`` message)."""
    if not text.strip().isdigit():
        raise ValueError("is not a whole number")
    return int(text)


def _side(text: str) -> int:
    max_side = page_limits().max_side
    value = _whole(text)
    if not 1 <= value <= max_side:
        raise ValueError(f"must be between 1 and {max_side}")
    return value


def _one_of(choices: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError("must be 0 or 1")
    return text == "1"


def _threshold(text: str) -> float:
    try:
        value = round(float(text), 2)
    except ValueError:
        raise ValueError("is not a number") from None
    if not FLOOR_SSIM <= value <= 1.0:
        raise ValueError(f"must be between {FLOOR_SSIM} and 1")
    return value


def _collection_name(text: str) -> str:
    names = [collection.name for collection in collections()]
    if text not in names:
        have = ", ".join(names) if names else "none"
        raise ValueError(f"is not a collection of this server (it has {have})")
    return text


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


PARAMS: dict[str, Param] = {
    "w": Param("width", _side, DEFAULT_SIZE[0]),
    "h": Param("height", _side, DEFAULT_SIZE[1]),
    "gray": Param("grayscale", _flag, True, lambda value: "1" if value else "0"),
    "fit": Param("fit", _one_of(FITS), FITS[0]),
    "interp": Param("interp", _one_of(INTERPS), INTERPS[0]),
    "alpha": Param("alpha", _one_of(ALPHA_MODES), ALPHA_MODES[0]),
    "ssim": Param("ssim", _one_of(SSIM_CONVENTIONS), SSIM_CONVENTIONS[0]),
    "sample": Param("sample", _one_of(data.sample_names()), data.sample_names()[0]),
    "view": Param("view", _one_of(ALL_VIEWS), COMPARE),
    "a": Param("inspect_a", str),
    "b": Param("inspect_b", str),
    "sizes": Param("sweep_sizes", str),
    "aspect": Param("sweep_keep_aspect", _flag, None, lambda value: "1" if value else "0"),
    "k": Param("classify_k", _positive, 1),
    # The Collection view: a collection's name (checked against the server's) and
    # the groups' threshold; never a path.
    "col": Param("collection_name", _collection_name),
    "t": Param("collection_threshold", _threshold, DEFAULT_GROUP_SSIM),
}
SOURCE_PARAM = "src"


def restore_from_url() -> None:
    """On a session's first run, set the choices a link carries (once per session).

    Values that cannot be used are skipped, with a note naming them.
    """
    state = st.session_state
    if state.get(URL_READ_KEY):
        return
    state[URL_READ_KEY] = True
    skipped = []
    for name, param in PARAMS.items():
        text = st.query_params.get(name)
        if text is None:
            continue
        try:
            state[param.key] = param.parse(text)
        except ValueError as error:
            skipped.append(f"{name}={text!r} {error}")
    notes = []
    if skipped:
        left_out = "; ".join(skipped)
        notes.append(f"Parts of this link could not be used and were left out: {left_out}.")
    from_upload = st.query_params.get(SOURCE_PARAM) == UPLOADED_SOURCE
    named = [state[key] for key in PAIR_KEYS if key in state]
    if from_upload and named and "collection_name" not in state:
        # The pair waits for its files (`open_link_pair`); a collection's pair is
        # reopened from the collection instead (`collection_pairs`).
        state[LINK_PAIR_KEY] = tuple(named)
        for key in PAIR_KEYS:
            state.pop(key, None)
        named = []
    elif from_upload:
        notes.append(
            "This link was made with uploaded images, which cannot travel in a link: "
            "upload them again to see the same view on them."
        )
    state[LINK_NOTE_KEY] = (notes, named, from_upload)


def open_link_pair(names: list[str], uploaded: bool) -> bool:
    """Open the pair a link from uploads names once those files are uploaded.

    Returns whether the page is still waiting for them: until then the pair
    stays in the session and in the link, whatever else is shown.
    """
    state = st.session_state
    pair = state.get(LINK_PAIR_KEY)
    if pair is None:
        return False
    if not uploaded or not set(pair) <= set(names):
        return True
    for key, name in zip(PAIR_KEYS, pair, strict=False):
        state[key] = name
    del state[LINK_PAIR_KEY]
    return False


def link_pair_note(names: list[str], uploaded: bool) -> str | None:
    """What the page waits for, while a link's pair is not uploaded yet."""
    pair = st.session_state.get(LINK_PAIR_KEY)
    if pair is None:
        return None
    if len(pair) == 1:
        note = f"This link inspects {pair[0]}: upload it to open it in the Pair inspector."
    else:
        note = f"This link compares {' and '.join(pair)}: upload them to open the pair."
    missing = [name for name in pair if name not in names]
    if uploaded and missing:
        note += f" Not among the uploads yet: {', '.join(missing)}."
    return note


def show_link_note(names: list[str], sample: str | None) -> None:
    """Say what a link asked for that is not here; kept until the images change,
    and, for a link's pair of uploads, until they are uploaded.

    ``sample`` is the sample shown, None when the images are uploads.
    """
    notes, named, _ = st.session_state.get(LINK_NOTE_KEY, ([], [], False))
    missing = [name for name in named if name not in names]
    lines = list(notes)
    if missing and sample is not None:
        # A link to a sample names images of that sample: a typo or an edited link.
        # (A link from uploads keeps its pair waiting instead: `open_link_pair`.)
        lines.append(
            f"The link names {', '.join(missing)}, which the sample {sample} does not "
            "have; the first two different images of the sample are shown instead."
        )
    waiting = link_pair_note(names, uploaded=sample is None)
    if lines:
        st.warning("  \n".join([*lines, *filter(None, [waiting])]))
    elif waiting:
        st.info(waiting)  # nothing is wrong: the page waits for the files


def keep_view_choices() -> None:
    """Re-commit the widgets of views not drawn in this run, so they are not reset."""
    for key in VIEW_WIDGETS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def track_images(source: Hashable) -> None:
    """Drop the choices that belong to other images when the images change."""
    state = st.session_state
    previous = state.get(SOURCE_KEY)
    if previous is not None and previous != source:
        for key in (*IMAGE_CHOICES, LINK_NOTE_KEY):
            state.pop(key, None)
    state[SOURCE_KEY] = source


def default_of(key: str, value: T) -> T:
    """The session's value of ``key``, set to ``value`` first when it has none.

    Widgets take their initial value from here instead of ``value=``, so that
    a value restored from the link or kept across views is not overridden.
    Typed as the default: the widget of ``key`` and the link (`PARAMS`) store
    values of that type.
    """
    return st.session_state.setdefault(key, value)


def publish(uploaded: bool, settings: Settings, defaults: dict[str, object] | None = None) -> None:
    """Write the current choices into the URL, leaving out those at their defaults.

    ``settings`` are those in use: the boxes and the convention may hold a
    choice that was refused, and a link should open what is shown. ``defaults``
    overrides a parameter's default (the sweep's sizes depend on the images).
    """
    defaults = defaults or {}
    in_use = {"width": settings.width, "height": settings.height, "ssim": settings.ssim_convention}
    params = {}
    for name, param in PARAMS.items():
        if param.key not in st.session_state:
            continue
        value = in_use.get(param.key, st.session_state[param.key])
        if value is None or value == defaults.get(name, param.default):
            continue
        params[name] = param.show(value)
    pair = st.session_state.get(LINK_PAIR_KEY)
    if pair is not None:  # the link's pair, until its files are uploaded
        params.update(zip(("a", "b"), pair, strict=False))
    if uploaded or pair is not None:
        params.pop("sample", None)
        params[SOURCE_PARAM] = UPLOADED_SOURCE
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)
