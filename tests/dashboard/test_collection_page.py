"""The Collection view (issue 12): server-named folders, groups, queries, path safety."""

from __future__ import annotations

import csv
import io
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

import imgsim
import imgsim.collection._index as collection_index
from imgsim.analyses import inspect_pair
from imgsim.collection._index import CollectionIndex, groups_at
from imgsim.collection._source import parse_collections
from imgsim.dashboard import collection_pairs, collection_view
from tests.dashboard.pages import TIMEOUT
from tests.helpers import APP as APP_PATH
from tests.helpers.collection_corpus import UNREADABLE, make_collection, near_copy
from tests.helpers.images import encode

APP = str(APP_PATH)
SIZE = 64
SETTINGS = imgsim.Settings(size=(SIZE, SIZE))
# 13 groups: two pages of GROUPS_PER_PAGE = 10.
GROUP_SIZES = (4, 3, 3, *(2,) * 10)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[list[str]]]:
    folder = tmp_path_factory.mktemp("collection") / "photos"
    groups = make_collection(folder, singles=12, group_sizes=GROUP_SIZES)
    return folder, groups


@pytest.fixture
def served(corpus, tmp_path, monkeypatch) -> tuple[Path, list[list[str]]]:
    """The collection named in the environment, with a fresh cache folder per test."""
    folder, groups = corpus
    monkeypatch.setenv("IMGSIM_COLLECTION", f"photos={folder}")
    monkeypatch.setenv("IMGSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    return folder, groups


def open_view(**params: str) -> AppTest:
    """The page on the Collection view at 64 x 64, its index finished."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"view": "Collection", "w": str(SIZE), "h": str(SIZE), **params})
    at.run()
    assert not at.exception
    index = shared_index()
    if index.status.state == "idle":  # not indexed at these settings yet: ask for it
        button(at, "Index the collection").click().run()
    assert index.wait(TIMEOUT).state == "done"
    at.run()  # what the fragment's rerun does once indexing ends
    assert not at.exception
    return at


def shared_index() -> CollectionIndex:
    """The index the page uses for the served collection at `SETTINGS`."""
    return collection_view.index_for(
        collection_view.collections()[0], SETTINGS, collection_view.cache_dir()
    )


def group_headers(at: AppTest) -> list[str]:
    return [md.value for md in at.markdown if md.value.startswith("**Group ")]


def image_captions(at: AppTest) -> list[str]:
    return [image.caption for element in at.get("image") for image in element.proto.imgs]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# --- configuration --------------------------------------------------------------------


def view_options(at: AppTest) -> list[str]:
    return list(at.button_group(key="view").options)


def test_without_a_collection_the_page_offers_no_collection_view(monkeypatch):
    monkeypatch.delenv("IMGSIM_COLLECTION", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["view"] = "Collection"  # a link from a server that had one
    at.run()
    assert not at.exception
    assert view_options(at) == ["Compare", "Resize sweep", "Pair inspector", "Classify"]
    assert at.session_state["view"] == "Compare"


def test_a_collection_adds_the_fourth_view(served):
    at = open_view()
    assert view_options(at)[-1] == "Collection"
    assert at.session_state["view"] == "Collection"


def test_a_misconfigured_collection_is_said_on_its_view(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGSIM_COLLECTION", str(tmp_path / "nowhere"))
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["view"] = "Collection"
    at.run()
    assert not at.exception
    assert "misconfigured" in at.error[0].value and "is not a folder" in at.error[0].value


def test_a_variable_of_separators_alone_is_said_to_name_no_folder(monkeypatch):
    monkeypatch.setenv("IMGSIM_COLLECTION", os.pathsep)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["view"] = "Collection"
    at.run()
    assert not at.exception
    assert "IMGSIM_COLLECTION names no folder" in at.error[0].value


def test_several_collections_are_chosen_by_name(served, tmp_path, monkeypatch):
    folder, _ = served
    other = tmp_path / "other"
    make_collection(other, singles=3, group_sizes=())
    monkeypatch.setenv("IMGSIM_COLLECTION", f"photos={folder}{os.pathsep}other={other}")
    at = open_view()
    assert at.selectbox(key=collection_view.NAME_KEY).options == ["photos", "other"]
    at.selectbox(key=collection_view.NAME_KEY).set_value("other").run()
    assert not at.exception
    assert any(md.value.startswith("**Collection: other** · 4 images") for md in at.markdown)
    assert at.query_params["col"] == "other"


# --- path safety ---------------------------------------------------------------------


def test_a_tampered_inspector_pair_reads_nothing_outside(served, monkeypatch):
    at = open_view()
    at.session_state[collection_pairs.PAIR_KEY] = (
        "photos",
        ("collection", "../../../../etc/passwd"),
        "a/img-0000.png",
    )
    at.session_state["view"] = "Pair inspector"
    at.run()
    assert not at.exception
    assert "cannot be inspected" in at.error[0].value
    assert "not inside the collection" in at.error[0].value


# --- the view ------------------------------------------------------------------------


def test_view_names_the_collection_its_count_settings_and_unreadable_files(served):
    _, groups = served
    at = open_view()
    images = sum(len(group) for group in groups) + 12 + 1  # and the unreadable file
    header = f"**Collection: photos** · {images} images · indexed at 64×64, grayscale"
    assert any(md.value.startswith(header) for md in at.markdown)
    assert any("indexed again (on a click)" in caption.value for caption in at.caption)
    (expander,) = at.expander
    assert expander.label == "1 file left out"
    assert UNREADABLE in expander.markdown[0].value


def test_groups_are_the_injected_near_duplicates_largest_first(served):
    _, groups = served
    at = open_view()
    headers = group_headers(at)
    assert len(headers) == 10  # the first page only
    sizes = [int(header.split(": ")[1].split(" ")[0]) for header in headers]
    assert sizes == sorted(sizes, reverse=True) and sizes[:3] == [4, 3, 3]
    captions = image_captions(at)
    # Thumbnails of the shown page only: 4 + 3 + 3 + 7 x 2 images.
    assert len(captions) == 24
    assert captions[:4] == sorted(groups[0])


def test_pages_show_the_remaining_groups(served):
    at = open_view()
    at.number_input(key=collection_view.PAGE_KEY).set_value(2).run()
    assert not at.exception
    assert [header.split(":")[0] for header in group_headers(at)] == [
        "**Group 11**",
        "**Group 12**",
        "**Group 13**",
    ]
    assert len(image_captions(at)) == 6


def test_the_threshold_is_in_the_link_and_regroups(served):
    at = open_view()
    at.slider(key=collection_view.THRESHOLD_KEY).set_value(1.0).run()
    assert not at.exception
    assert at.query_params["t"] == "1.0"
    assert group_headers(at) == []
    linked = open_view(t="0.95")
    assert linked.slider(key=collection_view.THRESHOLD_KEY).value == 0.95


def test_groups_csv_lists_every_member_with_its_group(served):
    _, groups = served
    folder = served[0]
    collection = parse_collections(str(folder))[0]
    index = CollectionIndex(collection, SETTINGS, Path(os.environ["IMGSIM_CACHE_DIR"]))
    index.start()
    result = index.wait(TIMEOUT).result
    found = groups_at(result, 0.9)
    rows = list(csv.DictReader(io.StringIO(collection_view.groups_csv(found, result.names))))
    assert len(rows) == sum(len(group) for group in groups)
    first = [row["name"] for row in rows if row["group"] == "1"]
    assert sorted(first) == sorted(groups[0])
    assert float(rows[0]["min_ssim"]) == found[0].min_ssim


def test_an_index_is_made_once_and_shared_by_sessions(served):
    first = open_view()
    second = open_view()
    assert shared_index().status.run == 1
    assert group_headers(first) == group_headers(second)


def test_a_new_index_starts_only_when_asked_with_its_estimate(served):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"view": "Collection", "w": str(SIZE), "h": str(SIZE)})
    at.run()
    assert not at.exception
    assert shared_index().status.state == "idle"
    (note,) = at.info
    assert "not indexed at these settings yet" in note.value
    assert "images takes about" in note.value
    assert group_headers(at) == []
    button(at, "Index the collection").click().run()
    assert shared_index().wait(TIMEOUT).state == "done"


def test_after_a_restart_the_cached_index_is_read_back_without_a_click(served):
    open_view()
    st.cache_resource.clear()  # what a restart forgets; the cache folder stays
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"view": "Collection", "w": str(SIZE), "h": str(SIZE)})
    at.run()
    index = shared_index()
    assert index.status.state in ("running", "done")
    assert index.wait(TIMEOUT).result.pairs_computed == 0
    at.run()
    assert len(group_headers(at)) == 10


# --- find images like this one --------------------------------------------------------


def test_an_uploaded_query_finds_its_near_duplicates_with_compares_scores(served):
    folder, groups = served
    at = open_view()
    original = np.asarray(Image.open(folder / groups[0][0]).convert("RGB"))
    query = near_copy(np.random.default_rng(99), original)
    at.file_uploader(key=collection_view.QUERY_KEY).set_value(
        [("query.png", encode(query, "PNG"), "image/png")]
    ).run()
    assert not at.exception
    captions = [c.value for c in at.caption if c.value.startswith("SSIM ")]
    assert len(captions) == 5
    shown = image_captions(at)[-5:]
    assert set(shown[:4]) == set(groups[0])
    expected = imgsim.compare(
        [("query.png", encode(query, "PNG")), str(folder / shown[0])], SETTINGS
    )
    assert captions[0].startswith(f"SSIM {expected.ssim[0, 1]:.3f} · MSE {expected.mse[0, 1]:.1f}")


def test_an_unreadable_query_is_named_and_others_still_match(served):
    folder, groups = served
    at = open_view()
    at.file_uploader(key=collection_view.QUERY_KEY).set_value(
        [
            ("bad.png", b"nope", "image/png"),
            ("good.png", (folder / groups[1][0]).read_bytes(), "image/png"),
        ]
    ).run()
    assert not at.exception
    assert "bad.png" in at.error[0].value
    assert sum(c.value.startswith("SSIM 1.000") for c in at.caption) == 1


def test_a_collection_image_can_be_the_query(served):
    _, groups = served
    at = open_view()
    at.segmented_control(key=collection_view.SOURCE_KEY).set_value("An image of the collection")
    at.run()
    at.selectbox(key=collection_view.PICK_KEY).set_value(groups[0][1]).run()
    assert not at.exception
    shown = image_captions(at)[-5:]
    assert set(shown[:3]) == set(groups[0]) - {groups[0][1]}
    button(at, "Inspect").click().run()
    assert not at.exception
    assert [at.selectbox(key=key).value for key in ("inspect_a", "inspect_b")] == [
        groups[0][1],
        shown[0],
    ]


def test_a_match_opens_in_the_inspector(served):
    folder, groups = served
    at = open_view()
    at.file_uploader(key=collection_view.QUERY_KEY).set_value(
        [("query.png", (folder / groups[0][0]).read_bytes(), "image/png")]
    ).run()
    best = image_captions(at)[-5]
    button(at, "Inspect").click().run()
    assert not at.exception
    assert at.session_state["view"] == "Pair inspector"
    assert [at.selectbox(key=key).value for key in ("inspect_a", "inspect_b")] == [
        "query.png",
        best,
    ]
    inspected = inspect_pair(
        imgsim.load_image(("query.png", (folder / groups[0][0]).read_bytes())),
        imgsim.load_image((best, (folder / best).read_bytes())),
        SETTINGS,
    )
    assert at.metric[0].value == f"{inspected.ssim:.4f}"
    (note,) = at.info  # the samples' note is not about this pair
    assert note.value == (
        f"Your uploaded image **query.png** and **{best}** from the collection **photos**."
    )
    assert at.query_params["a"] == "query.png"
    button(at, "Back to the collection").click().run()
    assert at.session_state["view"] == "Collection"
    assert "a" not in at.query_params and "b" not in at.query_params
    # The uploader forgot its file while the inspector was shown; the matches stay.
    assert image_captions(at)[-5] == best


# --- indexing in the background -------------------------------------------------------


def test_the_page_answers_while_indexing_runs(served, monkeypatch):
    """Indexing blocks only its own thread: pages draw, with the progress, meanwhile."""
    reported, release = threading.Event(), threading.Event()
    real = collection_index.neighbours

    def held(*args, **kwargs):
        kwargs["progress"](imgsim.Progress(1.0, 4.0, "compared 10 of 40 pairs", 2.0))
        reported.set()
        assert release.wait(TIMEOUT)
        return real(*args, **kwargs)

    monkeypatch.setattr(collection_index, "neighbours", held)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"view": "Collection", "w": str(SIZE), "h": str(SIZE)})
    index = shared_index()
    try:
        at.run()
        button(at, "Index the collection").click().run()
        assert not at.exception
        assert reported.wait(TIMEOUT)
        at.run()  # what the fragment's next poll draws
        assert index.status.state == "running"
        (bar,) = at.get("progress")
        assert bar.proto.text.startswith("Indexing: Compared 10 of 40 pairs · about")
        assert bar.proto.value == 25
        assert group_headers(at) == []
        other = AppTest.from_file(APP, default_timeout=TIMEOUT).run()  # another visitor
        assert not other.exception and len(other.get("plotly_chart")) == 1
    finally:
        release.set()
    assert index.wait(TIMEOUT).state == "done"
    at.run()
    assert len(group_headers(at)) == 10


def test_groups_follow_a_new_index_of_the_same_collection(tmp_path, monkeypatch):
    folder = tmp_path / "growing"
    make_collection(folder, singles=6, group_sizes=(2,))
    monkeypatch.setenv("IMGSIM_COLLECTION", f"photos={folder}")
    monkeypatch.setenv("IMGSIM_CACHE_DIR", str(tmp_path / "cache"))
    st.cache_data.clear()
    st.cache_resource.clear()
    assert len(group_headers(open_view())) == 1
    single = np.asarray(Image.open(folder / "b/img-0007.png").convert("RGB"))
    Image.fromarray(near_copy(np.random.default_rng(1), single)).save(folder / "copy.png")
    st.cache_resource.clear()  # a restart, or the index evicted: its run count starts again
    assert len(group_headers(open_view())) == 2


# --- QA's findings (limits on the page, links, wording) ----------------------------


def test_a_link_to_settings_over_the_limits_offers_the_largest_size_that_fits(served):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"view": "Collection", "w": "10000", "h": "10000"})
    at.run()
    assert not at.exception
    (error,) = at.error
    assert "cannot be indexed at these settings" in error.value
    assert "IMGSIM" not in error.value  # a visitor cannot change the server's environment
    assert "Index the collection" not in [b.label for b in at.button]
    (use,) = [b for b in at.button if "the largest size that fits" in b.label]
    use.click().run()
    assert not at.exception and not at.error
    side = at.sidebar.number_input(key="width").value
    assert at.sidebar.number_input(key="height").value == side < 10000
    collection = collection_view.collections()[0]
    count = len(collection_view.list_images(collection).names)

    def index_at(each: int) -> CollectionIndex:
        settings = imgsim.Settings(size=(each, each))
        return CollectionIndex(collection, settings, collection_view.cache_dir(), imgsim.Limits())

    index_at(side).check(count)  # it fits, and one pixel more does not
    with pytest.raises(imgsim.LimitError):
        index_at(side + 1).check(count)
    assert "Index the collection" in [b.label for b in at.button]


def test_another_collection_at_the_same_settings_is_not_indexed_without_a_click(
    served, tmp_path, monkeypatch
):
    folder, _ = served
    other = tmp_path / "other"
    make_collection(other, singles=3, group_sizes=())
    monkeypatch.setenv("IMGSIM_COLLECTION", f"photos={folder}{os.pathsep}other={other}")
    at = open_view()  # photos indexed at SETTINGS
    at.selectbox(key=collection_view.NAME_KEY).set_value("other").run()
    assert not at.exception
    other_index = collection_view.index_for(
        collection_view.collections()[1], SETTINGS, collection_view.cache_dir()
    )
    assert other_index.status.state == "idle"  # photos' results were not taken for its'
    assert not other_index.cached()
    assert "Index the collection" in [b.label for b in at.button]
    assert shared_index().status.state == "done"  # photos' results untouched


def test_cancel_on_the_page_stops_the_index_and_offers_it_again(served, monkeypatch):
    reported, release = threading.Event(), threading.Event()

    def held(*args, **kwargs):
        reported.set()
        assert release.wait(TIMEOUT)
        kwargs["progress"](imgsim.Progress(1.0, 4.0, "compared 10 of 40 pairs", 2.0))
        raise AssertionError("the progress callback should have stopped the run")

    monkeypatch.setattr(collection_index, "neighbours", held)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"view": "Collection", "w": str(SIZE), "h": str(SIZE)})
    at.run()
    button(at, "Index the collection").click().run()
    assert reported.wait(TIMEOUT)
    index = shared_index()
    try:
        button(at, "Cancel indexing").click().run()
    finally:
        release.set()
    assert index.wait(TIMEOUT).state == "cancelled"
    at.run()
    assert not at.exception
    assert any("Indexing was cancelled" in info.value for info in at.info)
    assert "Index the collection" in [b.label for b in at.button]


def test_a_size_the_sidebar_refuses_is_said_on_the_collection_view(served):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"view": "Collection", "w": "128", "h": "128", "ssim": "ms-ssim"})
    at.run()
    assert not at.exception
    (note,) = at.warning
    assert "128×128 with MS-SSIM cannot be used" in note.value
    header = next(md.value for md in at.markdown if md.value.startswith("**Collection:"))
    assert "not indexed yet; to be indexed at" in header
    assert "128×128, grayscale, ms-ssim" not in header  # not the refused pair
    in_use = note.value.split("settings in use: ")[1].rstrip(".")
    width_height, convention = in_use.split(" with ")
    assert f"{width_height}, grayscale, " in header and header.endswith(f"· {convention}")


def test_a_link_to_an_unknown_collection_is_said_in_the_link_note(served):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"view": "Collection", "col": "nope"})
    at.run()
    assert not at.exception
    (note,) = at.warning
    assert "could not be used" in note.value
    assert "col='nope' is not a collection of this server (it has photos)" in note.value


def test_one_bad_collection_entry_leaves_the_others_usable(served, tmp_path, monkeypatch):
    folder, _ = served
    monkeypatch.setenv(
        "IMGSIM_COLLECTION", f"photos={folder}{os.pathsep}gone={tmp_path / 'nowhere'}"
    )
    at = open_view()
    (error,) = at.error
    assert "misconfigured" in error.value and "is not a folder" in error.value
    assert len(group_headers(at)) == 10


@pytest.mark.parametrize("by_link", [True, False])
def test_a_link_to_a_collection_pair_reopens_that_pair(served, by_link):
    folder, groups = served
    first, second = groups[0][:2]
    open_view()  # indexed; the link is opened in another session
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    a = first if by_link else "query.png"  # an uploaded query's name cannot be reopened
    at.query_params.update({"view": "Pair inspector", "col": "photos", "a": a, "b": second})
    at.run()
    assert not at.exception
    if by_link:
        inspected = inspect_pair(
            imgsim.load_image((first, (folder / first).read_bytes())),
            imgsim.load_image((second, (folder / second).read_bytes())),
            imgsim.Settings(),
        )
        assert at.metric[0].value == f"{inspected.ssim:.4f}"
        (note,) = at.info
        assert note.value == "A pair from the collection **photos**."
        assert not at.warning
    else:
        (note,) = at.warning
        assert "query.png, which is not an image of the collection photos" in note.value
        assert "uploads cannot travel in a link" in note.value


@pytest.mark.parametrize(
    ("count", "start"),
    [
        (0, "No groups at SSIM ≥ 0.90. The index"),
        (1, "1 group at SSIM ≥ 0.90, with its lowest pair score. Groups are chained"),
        (2, "2 groups at SSIM ≥ 0.90, largest first, each with its lowest pair score."),
    ],
)
def test_the_groups_summary_counts_in_words_and_says_groups_are_chained(count, start):
    assert collection_view.groups_summary(count, 0.9).startswith(start)
