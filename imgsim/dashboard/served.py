"""The collections this server serves (``IMGSIM_COLLECTION``) and their shared indexes.

Read by the link's parser, the Collection view and the inspector alike, so it
imports no view.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

import imgsim
from imgsim.collection import (
    COLLECTION_VARIABLE,
    Collection,
    CollectionIndex,
    cache_folder,
    parse_collections_apart,
)
from imgsim.dashboard import compute


@st.cache_resource(show_spinner=False)
def _configured(text: str) -> tuple[tuple[Collection, ...], tuple[str, ...]]:
    return parse_collections_apart(text)


def collections() -> tuple[Collection, ...]:
    """The server's usable collections, read from ``IMGSIM_COLLECTION`` (parsed
    once per value); an entry that cannot be used leaves the others usable."""
    return _configured(os.environ.get(COLLECTION_VARIABLE, ""))[0]


def configuration_errors() -> tuple[str, ...]:
    """Why entries of ``IMGSIM_COLLECTION`` cannot be used (a folder that does
    not exist, a name given twice), one message each."""
    return _configured(os.environ.get(COLLECTION_VARIABLE, ""))[1]


def offered() -> bool:
    """Whether the page offers the Collection view (a misconfiguration shows there)."""
    return bool(os.environ.get(COLLECTION_VARIABLE, "").strip())


def cache_dir() -> Path:
    """The cache folder (``IMGSIM_CACHE_DIR``, else the user's cache folder)."""
    return cache_folder()


@st.cache_resource(show_spinner=False, max_entries=16)
def index_for(collection: Collection, settings: imgsim.Settings, cache: Path) -> CollectionIndex:
    """The one index of a collection at these settings, shared by every session."""
    return CollectionIndex(collection, settings, cache, compute.page_limits())
