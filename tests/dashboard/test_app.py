"""The page, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import imgsim
from imgsim import data as samples
from imgsim.analyses._diff import inspect_pair
from tests.dashboard.pages import (
    chart_values,
    heatmap,
    heatmap_markers,
    heatmap_values,
    new_session,
    opened_with,
    upload,
)
from tests.helpers.images import encode, noise_image


@pytest.fixture
def app() -> AppTest:
    """A new session on the page as it opens, drawn from what earlier sessions
    computed where they computed the same (a second visitor's view)."""
    at = new_session(fresh=False).run()
    assert not at.exception
    return at


@pytest.fixture
def fresh_app() -> AppTest:
    """A new session after the caches are emptied, for tests that count what is computed."""
    at = new_session(fresh=True).run()
    assert not at.exception
    return at


@pytest.fixture(scope="module")
def three_files(chelsea, coffee, astronaut) -> list[tuple[str, bytes]]:
    return [
        ("cat.png", encode(chelsea, "PNG")),
        ("coffee.jpg", encode(coffee, "JPEG")),
        ("astronaut.webp", encode(astronaut, "WEBP", quality=90)),
    ]


def thumbnail_captions(at: AppTest) -> list[str]:
    (thumbnails,) = at.get("image")
    return [image.caption for image in thumbnails.proto.imgs]


def test_samples_render_without_any_upload(app):
    assert "Sample: Equal MSE, different SSIM" in app.info[0].value
    assert len(thumbnail_captions(app)) == 6
    assert len(app.dataframe[0].value) == 15
    assert heatmap_values(app).shape == (6, 6)
    assert heatmap(app)["x"][0] == "reference.png"
    assert [metric.label for metric in app.metric] == ["Most similar pair", "Least similar pair"]


def test_photos_sample_can_be_chosen(app):
    app.sidebar.selectbox[0].select("Photos").run()
    assert not app.exception
    assert "Sample: Photos" in app.info[0].value
    assert heatmap(app)["x"] == list(samples.PHOTO_FILES)


def test_three_uploads_give_a_three_by_three_heatmap_and_three_pairs(app, three_files):
    upload(app, three_files)
    assert not app.exception
    assert not app.info  # the sample note is gone
    values = heatmap_values(app)
    assert values.shape == (3, 3)
    np.testing.assert_allclose(np.diag(values), 1.0)
    table = app.dataframe[0].value
    assert len(table) == 3
    expected = imgsim.compare(three_files)
    for row in table.itertuples():
        i, j = expected.names.index(row[1]), expected.names.index(row[2])
        assert row.SSIM == pytest.approx(expected.ssim[i, j], abs=1e-12)
    captions = thumbnail_captions(app)
    assert captions == ["cat.png · 451×300", "coffee.jpg · 600×400", "astronaut.webp · 512×512"]


def test_a_bad_file_is_named_while_the_pairs_still_appear(app, three_files):
    upload(app, [*three_files[:2], ("broken.png", b"\x89PNG\r\n\x1a\n junk"), three_files[2]])
    assert not app.exception
    assert len(app.error) == 1
    assert "1 of 4 files could not be read and is left out; the other 3 are" in app.error[0].value
    assert "**broken.png**" in app.error[0].value
    assert "a PNG file that cannot be read" in app.error[0].value
    assert heatmap_values(app).shape == (3, 3)
    assert len(app.dataframe[0].value) == 3


def test_one_readable_upload_gets_one_true_message(app, three_files):
    upload(app, [three_files[0], ("broken.png", b"junk"), ("empty.png", b"")])
    assert not app.exception
    assert not app.error  # no "the others still are compared" next to it
    (warning,) = app.warning
    assert "Only 1 of 3 files could be read" in warning.value
    assert "**broken.png**" in warning.value and "**empty.png**" in warning.value
    assert not app.get("plotly_chart")


def test_changing_settings_updates_the_scores(app, three_files):
    upload(app, three_files)
    gray = app.dataframe[0].value.set_index(["Image A", "Image B"])["SSIM"]
    app.sidebar.toggle[0].set_value(False).run()
    app.sidebar.number_input[0].set_value(128)
    app.sidebar.button[0].click().run()  # the size form's Apply button
    colour = app.dataframe[0].value.set_index(["Image A", "Image B"])["SSIM"]
    expected = imgsim.compare(three_files, size=(128, 512), grayscale=False)
    assert not np.allclose(gray.sort_index(), colour.sort_index())
    assert colour["cat.png", "coffee.jpg"] == pytest.approx(expected.ssim[0, 1], abs=1e-12)


def test_switching_the_heatmap_metric_recomputes_nothing(fresh_app, monkeypatch):
    app = fresh_app
    calls = []
    original = imgsim.compare

    def counting_compare(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(imgsim, "compare", counting_compare)
    app.button_group(key="heatmap_metric").set_value("MSE").run()
    assert heatmap(app)["colorbar"]["title"]["text"] == "MSE"
    app.button_group(key="heatmap_metric").set_value("PSNR").run()
    assert heatmap(app)["text"][0][0] == "∞"
    assert calls == []


def test_settings_that_cannot_work_are_explained(app):
    app.sidebar.number_input[0].set_value(8)
    app.sidebar.button[0].click().run()
    ssim_box = next(box for box in app.sidebar.selectbox if box.label == "SSIM convention")
    ssim_box.select("gaussian").run()
    assert not app.exception
    assert "smaller than the 11×11 SSIM window" in app.error[0].value


def record_calls(monkeypatch, name: str) -> list[tuple[tuple, dict]]:
    """Record every ``st.<name>`` and ``container.<name>`` call, then draw as usual."""
    from streamlit.delta_generator import DeltaGenerator

    calls = []
    original = getattr(DeltaGenerator, name)

    def recording(self, *args, **kwargs):
        calls.append((args, kwargs))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, name, recording)
    # st.<name> was bound to the main container at import, so it needs its own patch.
    main = st._main
    monkeypatch.setattr(st, name, lambda *args, **kwargs: recording(main, *args, **kwargs))
    return calls


def test_downloads_carry_the_scores_in_the_cli_schema(monkeypatch):
    import csv
    import io

    from imgsim import outputs as report

    downloads = record_calls(monkeypatch, "download_button")
    at = new_session()
    at.run()
    assert not at.exception
    payloads = {args[0]: args[1] for args, _ in downloads}
    assert list(payloads) == ["Download CSV", "Download JSON"]
    expected = imgsim.compare(samples.load_sample(samples.EQUAL_MSE))
    document = json.loads(payloads["Download JSON"])
    assert document["settings"] == expected.settings.to_dict()
    assert document["pairs"] == report.to_dict(expected)["pairs"]
    rows = list(csv.DictReader(io.StringIO(payloads["Download CSV"])))
    assert [(row["a"], row["b"]) for row in rows] == [(p.a, p.b) for p in expected.pairs()]
    assert [float(row["ssim"]) for row in rows] == [p.ssim for p in expected.pairs()]
    assert [float(row["mse"]) for row in rows] == [p.mse for p in expected.pairs()]


def test_sweep_view_shows_a_verdict_and_three_charts(app):
    app.button_group(key="view").set_value("Resize sweep").run()
    assert not app.exception
    # The photos change order below the largest default size: said, not in green.
    assert app.info[-1].value.startswith("Pair order is not stable: no other size keeps it")
    assert not app.success
    assert len(app.get("plotly_chart")) == 3
    app.text_input[0].set_value("32, 64").run()
    assert not app.exception
    lines = [trace for trace in heatmap_traces(app, 0) if trace.get("mode") == "lines+markers"]
    assert len(lines) == 6  # three most and three least similar of 15 pairs
    x = lines[0]["x"]
    widths = (
        np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]) if isinstance(x, dict) else x
    )
    assert list(widths) == [32, 64]  # what was typed, nothing added


def heatmap_traces(at: AppTest, index: int) -> list[dict]:
    return json.loads(at.get("plotly_chart")[index].proto.spec)["data"]


def heatmap_title(at: AppTest, index: int) -> str:
    return json.loads(at.get("plotly_chart")[index].proto.spec)["layout"]["title"]["text"]


def test_sweep_view_explains_bad_sizes(app):
    app.button_group(key="view").set_value("Resize sweep").run()
    app.text_input[0].set_value("32, huge").run()
    assert not app.exception
    assert "is not a size" in app.error[0].value


def test_inspector_finds_the_four_changes_of_the_spot_the_difference_sample(app):
    app.sidebar.selectbox[0].select("Spot the difference").run()
    app.button_group(key="view").set_value("Pair inspector").run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Differing regions"] == "4"
    regions = app.dataframe[0].value
    assert list(regions.columns) == ["x", "y", "width", "height", "mean SSIM"]
    assert len(regions) == 4
    # Display controls re-threshold without recomputing the map.
    otsu = next(toggle for toggle in app.toggle if toggle.label == "Otsu threshold")
    otsu.set_value(False).run()
    threshold = next(s for s in app.slider if s.label == "Dissimilarity threshold")
    threshold.set_value(1.0).run()
    assert {m.label: m.value for m in app.metric}["Differing regions"] == "0"


@pytest.mark.parametrize("mode", ["Swipe", "Onion skin", "Difference"])
def test_inspector_display_modes_show_what_they_say(app, monkeypatch, mode):
    images = record_calls(monkeypatch, "image")
    app.sidebar.selectbox[0].select("Spot the difference").run()
    app.button_group(key="view").set_value("Pair inspector").run()
    # Side by side first: the two boxed images, left and right.
    (left, left_options), (right, right_options) = images[-2:]
    first, second = left[0], right[0]
    names = [name for name, _ in samples.load_sample(samples.SPOT_THE_DIFFERENCE)]
    assert [left_options["caption"], right_options["caption"]] == names
    assert first.shape == second.shape and not np.array_equal(first, second)
    images.clear()
    app.button_group(key="pair_mode").set_value(mode).run()
    assert not app.exception
    ((shown, *_), options), *_others = [call for call in images if call[0][0].ndim == 3]
    assert shown.shape == first.shape
    if mode == "Swipe":  # the left half of the first, the right half of the second
        column = first.shape[1] // 2
        np.testing.assert_array_equal(shown[:, : column - 1], first[:, : column - 1])
        np.testing.assert_array_equal(shown[:, column + 1 :], second[:, column + 1 :])
        assert options["caption"] == f"{names[0]} | {names[1]}"
    elif mode == "Onion skin":  # both at half opacity
        blend = (first.astype(float) + second.astype(float)) / 2
        assert np.abs(shown.astype(float) - blend).max() <= 1
    else:  # dark wherever the two images are equal (boxes aside)
        import cv2

        from imgsim.analyses._diff import BOX_COLOUR

        zero = cv2.applyColorMap(np.zeros((1, 1), np.uint8), cv2.COLORMAP_MAGMA)[0, 0, ::-1]
        equal = np.all(first == second, axis=2) & np.any(first != BOX_COLOUR, axis=2)
        assert equal.mean() > 0.5
        assert np.all(shown[equal] == zero)
        assert not np.all(shown[~equal] == zero)
        assert options["caption"].startswith(f"|{names[0]} − {names[1]}|")


def test_inspector_shows_the_terms_the_sentence_and_a_switchable_map(app):
    app.button_group(key="view").set_value("Pair inspector").run()
    app.selectbox(key="inspect_b").select("mean-shift.png").run()
    assert not app.exception
    files = dict(samples.load_sample(samples.EQUAL_MSE))
    expected = inspect_pair(
        ("reference.png", files["reference.png"]), ("mean-shift.png", files["mean-shift.png"])
    )
    metrics = {metric.label: metric.value for metric in app.metric}
    for name, value in expected.terms.to_dict().items():
        assert metrics[name.capitalize()] == f"{value:.4f}"
    captions = [caption.value for caption in app.caption]
    assert any("Mostly a difference of brightness" in caption for caption in captions)
    shown = {}
    for label in ("Luminance", "Contrast", "Structure"):
        app.button_group(key="inspect_term_map").set_value(label).run()
        assert not app.exception
        # The SSIM map, then the chosen term's.
        _ssim_chart, term_chart = app.get("plotly_chart")
        shown[label] = chart_values(term_chart)
    np.testing.assert_allclose(shown["Luminance"], expected.term_maps.luminance, atol=1e-6)
    np.testing.assert_allclose(shown["Structure"], expected.term_maps.structure, atol=1e-6)
    # The choice survives reruns and a visit to another view.
    app.button_group(key="view").set_value("Compare").run()
    app.button_group(key="view").set_value("Pair inspector").run()
    assert app.button_group(key="inspect_term_map").value == "Structure"


def test_equal_mse_note_quotes_each_distortions_measured_terms(app):
    note = app.info[0].value
    files = dict(samples.load_sample(samples.EQUAL_MSE))
    labels = {
        "mean-shift.png": "mean shift",
        "contrast-stretch.png": "local means",
        "impulse-noise.png": "impulse noise",
        "blur.png": "blur",
        "jpeg.jpg": "JPEG",
    }
    for name, label in labels.items():
        terms = inspect_pair(("reference.png", files["reference.png"]), (name, files[name])).terms
        quoted = ", ".join(f"{key} {value:.2f}" for key, value in terms.to_dict().items())
        assert f"{label} ({quoted})" in " ".join(note.split()), name


def test_inspector_pairs_can_be_chosen(app):
    app.button_group(key="view").set_value("Pair inspector").run()
    app.selectbox(key="inspect_b").select("jpeg.jpg").run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    expected = imgsim.compare(samples.load_sample(samples.EQUAL_MSE))
    assert metrics["SSIM"] == f"{expected.ssim[0, 5]:.4f}"


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        # A late change from a selectbox Streamlit has forgotten: nothing to swap.
        ({"inspect_b": "b.png"}, {"inspect_b": "b.png"}),
        # Choosing B's image for A swaps them.
        (
            {
                "inspect_a": "b.png",
                "inspect_b": "b.png",
                "_inspected_pair": {"inspect_a": "a.png"},
            },
            {"inspect_a": "b.png", "inspect_b": "a.png"},
        ),
    ],
)
def test_choosing_the_other_sides_image_swaps_and_a_forgotten_key_is_no_error(
    monkeypatch, session, expected
):
    from imgsim.dashboard import inspector_view

    monkeypatch.setattr(inspector_view.st, "session_state", session)
    inspector_view.swap_if_same("inspect_a", "inspect_b")
    assert {key: session.get(key) for key in expected} == expected


def test_importing_the_views_measures_nothing(monkeypatch):
    """A session stopped during an import-time probe left `views` half-imported,
    and the next visitor got an ImportError: the probe runs from the page only."""
    import importlib

    import imgsim.timing._model as cost
    from imgsim.dashboard import compute

    def probe():
        raise AssertionError("calibrated while importing views.compute")

    monkeypatch.setattr(cost.MODEL, "calibrate", probe)
    compute.calibrated_time_model.clear()  # else a probe cached earlier hides a call
    importlib.reload(compute)


def test_classify_view_measures_the_labelled_sample():
    # Opened from a link at 25 x 25: through the sidebar the page would first
    # compare the 100 patches at 512 x 512, which this test does not look at.
    app = opened_with({"sample": samples.FACES, "w": "25", "h": "25", "view": "Classify"})
    assert not app.exception
    accuracy = next(frame for frame in app.dataframe if "predictor" in frame.value.columns)
    by_metric = dict(zip(accuracy.value["predictor"], accuracy.value["accuracy"], strict=True))
    assert by_metric["SSIM"] == 100.0
    assert by_metric["chance"] == 50.0
    assert by_metric["MSE"] < 100.0
    recall = next(frame for frame in app.dataframe if "recall" in frame.value.columns)
    # One percent format for accuracy and recall (it was 50% next to 33.33%).
    for frame, column in ((accuracy, "accuracy"), (recall, "recall")):
        config = json.loads(frame.proto.columns)[column]
        assert config["type_config"]["format"] == "%.1f%%"


def classify_with_labels(at: AppTest, files, name: str, data: bytes) -> AppTest:
    """The Classify view on ``files``, with a labels CSV uploaded."""
    upload(at, files)
    at.button_group(key="view").set_value("Classify").run()
    return at.file_uploader(key="labels_csv").set_value((name, data, "text/csv")).run()


def test_classify_view_reads_labels_from_a_csv(app, three_files):
    csv_text = b"name,label\ncat.png,pet\ncoffee.jpg,drink\nnowhere.png,x\n"
    classify_with_labels(app, three_files, "labels.csv", csv_text)
    assert not app.exception
    editor = app.dataframe[0].value
    assert list(editor["label"]) == ["pet", "drink", "astronaut"]
    assert "nowhere.png" in app.warning[0].value


def test_each_upload_is_hashed_once_and_caches_key_on_its_digest(monkeypatch, three_files):
    """Hashing bytes costs about 2 s per 100 MB: once per upload, not per cached call."""
    import hashlib

    from streamlit.runtime.caching import hashing

    from imgsim.dashboard import compute

    digested = []
    real_sha256 = hashlib.sha256

    def counting_sha256(data=b""):
        digested.append(len(data))
        return real_sha256(data)

    seen_by_caches = []
    original = hashing._CacheFuncHasher.to_bytes

    def watching(self, obj):
        if isinstance(obj, bytes):
            seen_by_caches.append(len(obj))
        return original(self, obj)

    monkeypatch.setattr(compute.hashlib, "sha256", counting_sha256)
    monkeypatch.setattr(hashing._CacheFuncHasher, "to_bytes", watching)
    at = new_session()
    at.run()
    upload(at, three_files)
    for view in ("Classify", "Pair inspector", "Compare"):
        at.button_group(key="view").set_value(view).run()
        assert not at.exception
    sizes = sorted(len(data) for _, data in three_files)
    assert sorted(size for size in digested if size in sizes) == sizes
    assert not [size for size in seen_by_caches if size >= min(sizes)]


@pytest.mark.parametrize(("slowness", "shown"), [(1.0, False), (1000.0, True)])
def test_the_page_says_how_long_whenever_it_is_long(monkeypatch, slowness, shown):
    """The estimate comes from the time model, whatever the image size (no clock here)."""
    import imgsim.timing._model as cost
    from imgsim.timing._progress import format_duration

    rates = cost.FALLBACK_RATES
    scaled = cost.Rates(**{name: value * slowness for name, value in vars(rates).items()})
    monkeypatch.setattr(cost, "MODEL", cost.TimeModel(probe=lambda: scaled))
    # Before the run, which refines the model.
    expected = format_duration(cost.MODEL.estimate_seconds(6, imgsim.Settings()))
    at = new_session()
    at.run()
    assert not at.exception
    estimates = [info.value for info in at.info if "expected to take about" in info.value]
    assert bool(estimates) is shown
    if shown:  # six sample images at 512 x 512
        assert f"about {expected} on this server" in estimates[0]
    at.button_group(key="view").set_value("Resize sweep").run()
    sweep_estimates = [info.value for info in at.info if "sizes:" in info.value]
    assert bool(sweep_estimates) is shown


def test_the_page_bar_moves_from_reading_to_the_last_pair(monkeypatch, three_files):
    from imgsim.dashboard import compute

    # The session-scoped cache needs a running page; the decoding is the same.
    monkeypatch.setattr(
        compute, "decode_file", lambda file, max_pixels: imgsim.load_image(tuple(file))
    )

    class Bar:
        def __init__(self) -> None:
            self.calls: list[tuple[float, str]] = []

        def progress(self, fraction: float, text: str) -> None:
            self.calls.append((fraction, text))

    bar = Bar()
    settings = imgsim.Settings(size=(64, 64))
    files = tuple(compute.Upload(name, data) for name, data in three_files)
    decoded, report = compute._read_and_report(files, bar, settings)
    imgsim.compare(decoded, settings, progress=report)
    fractions = [fraction for fraction, _ in bar.calls]
    texts = [text for _, text in bar.calls]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert [text.split(" ·")[0] for text in texts[:3]] == [
        f"Reading {name} ({index} of 3)" for index, (name, _) in enumerate(three_files, 1)
    ]
    assert texts[-1].startswith("Compared 3 pairs")


def chart_spec(at: AppTest, key: str) -> dict:
    chart = next(chart for chart in at.get("plotly_chart") if chart.proto.id.endswith(key))
    return json.loads(chart.proto.spec)


def open_sweep(at: AppTest, sizes: str | None = None) -> AppTest:
    at.button_group(key="view").set_value("Resize sweep").run()
    if sizes is not None:
        at.text_input(key="sweep_sizes").set_value(sizes).run()
    return at


@pytest.mark.parametrize(
    ("sizes", "convention", "bad", "rule"),
    [
        ("0", "skimage", "0", "smaller than the 7x7 SSIM window"),
        ("3", "skimage", "3", "smaller than the 7x7 SSIM window"),
        ("5, 64", "skimage", "5", "smaller than the 7x7 SSIM window"),
        ("64x0", "skimage", "64x0", "smaller than the 7x7 SSIM window"),
        ("99999x1", "skimage", "99999x1", "larger than 10000 on a side"),
        ("64, 12000", "skimage", "12000", "larger than 10000 on a side"),
        ("8, 64", "gaussian", "8", "smaller than the 11x11 SSIM window"),
        ("32, huge", "skimage", "huge", "is not a size"),
    ],
)
def test_every_sweep_size_list_runs_or_names_the_bad_entry_and_the_rule(
    app, sizes, convention, bad, rule
):
    app.sidebar.selectbox(key="ssim").select(convention).run()
    open_sweep(app, sizes)
    assert not app.exception
    (error,) = app.error
    assert f"**{bad}**" in error.value and rule in error.value
    assert not app.get("plotly_chart")  # nothing estimated or drawn from bad sizes


def test_sweep_of_small_sizes_has_an_axis_on_the_swept_sizes():
    # Straight to the sweep: the Compare view would first compare 100 patches at 512 x 512.
    app = opened_with({"sample": samples.FACES, "view": "Resize sweep"})
    open_sweep(app, "16, 25, 64, 128")
    assert not app.exception
    layout = chart_spec(app, "sweep_ssim")["layout"]
    axis = layout["xaxis"]
    assert axis["tickvals"] == [16, 25, 64, 128]
    assert axis["ticktext"] == ["16", "25", "64", "128"]
    low, high = axis["range"]
    assert np.log10(16) - 0.3 < low < np.log10(16)
    assert np.log10(128) < high < np.log10(128) + 0.3
    # Annotations on a log axis take log10: the band's label ends at its right end.
    (label,) = (note for note in layout["annotations"] if "upsampled" in note["text"])
    assert label["x"] == pytest.approx(np.log10(128)) and label["xanchor"] == "right"
    (band,) = layout["shapes"][:1]  # shapes take data values: from the patches' 25 px
    assert (band["x0"], band["x1"]) == (25, 128)


@pytest.mark.parametrize("sample", samples.sample_names())
def test_the_default_sizes_run_on_every_sample(sample):
    # Straight to the sweep: the Compare view at 512 x 512 is not what is tested.
    app = open_sweep(opened_with({"sample": sample, "view": "Resize sweep"}))
    assert app.sidebar.selectbox(key="sample").value == sample
    assert not app.exception
    assert not app.error
    # The verdict, in green when the order holds over several sizes, else as information.
    assert any(box.value.startswith("Pair order") for box in [*app.success, *app.info])
    assert len(app.get("plotly_chart")) == 3


@pytest.mark.parametrize(
    ("typed", "reference"), [("64x48, 128x96", "128×96"), ("32, 64", "64"), ("64, 32", "64")]
)
def test_the_sweep_names_its_reference_the_largest_size(app, typed, reference):
    """One definition with the CLI (`Sweep.reference_index`): the largest size swept."""
    open_sweep(app, typed)
    assert not app.error
    caption = next(c.value for c in app.caption if c.value.startswith("2 sizes"))
    assert f"the largest, {reference}, is the reference" in caption
    assert f"against {reference.split('×')[0]} px" in heatmap_title(app, 2)


def test_one_typed_size_is_swept_alone(app):
    open_sweep(app, "64")
    assert not app.error
    assert any(c.value == "1 size: 64." for c in app.caption)


@pytest.fixture
def small_work_limit(monkeypatch):
    # Six images, 15 pairs: 64² + 128² + 512² values per pair fit, 1024² does not.
    monkeypatch.setenv("IMGSIM_MAX_WORK", str(15 * (64**2 + 128**2 + 512**2)))
    st.cache_resource.clear()  # the page reads its limits once per server
    yield
    st.cache_resource.clear()


def test_a_sweep_over_the_limit_offers_the_sizes_that_fit(small_work_limit):
    at = new_session().run()
    open_sweep(at, "64, 128, 1024")
    assert not at.exception
    assert "Too much for one request" in at.error[0].value
    assert "These sizes fit together: **64, 128**" in at.error[0].value
    at.button(key="sweep_fitting").click().run()
    assert not at.exception and not at.error
    assert at.text_input(key="sweep_sizes").value == "64, 128"
    assert chart_spec(at, "sweep_ssim")["layout"]["xaxis"]["tickvals"] == [64, 128]


def test_the_heatmap_grows_with_the_rows_within_bounds(app):
    files = [(f"noise-{k:02d}.png", encode(noise_image((24, 32), k), "PNG")) for k in range(60)]
    upload(app, files)
    assert not app.exception
    spec = chart_spec(app, "heatmap")
    height = spec["layout"]["height"]
    assert 60 * 10 <= height <= 60 * 14 + 300  # not 3760 px
    trace = spec["data"][0]
    assert trace["texttemplate"] == ""  # cells too small for numbers
    assert spec["layout"]["yaxis"]["tickvals"] == [name for name, _ in files]  # every label
    assert "scaleanchor" not in spec["layout"]["yaxis"]  # the matrix fills the figure
    markers = spec["data"][1]
    assert "%{y}<br>%{x}<br>SSIM" in markers["hovertemplate"]


def test_few_images_keep_their_numbers_in_the_cells(app):
    assert heatmap(app)["texttemplate"] == "%{text}"


def test_identical_images_show_infinite_psnr_the_same_way_everywhere(app, three_files):
    upload(app, [three_files[0], ("copy.png", three_files[0][1]), three_files[1]])
    table = app.dataframe[0].value
    identical = table[(table["Image A"] == "cat.png") & (table["Image B"] == "copy.png")]
    assert np.isinf(identical["PSNR (dB)"].iloc[0])
    assert any("PSNR is ∞ where the images are identical" in c.value for c in app.caption)
    app.button_group(key="heatmap_metric").set_value("PSNR").run()
    assert heatmap(app)["text"][0][1] == "∞"


def test_width_alone_computes_nothing_until_applied(fresh_app, monkeypatch):
    app = fresh_app
    calls = []
    original = imgsim.compare

    def counting_compare(inputs, settings=None, **kwargs):
        calls.append(settings.size)
        return original(inputs, settings, **kwargs)

    monkeypatch.setattr(imgsim, "compare", counting_compare)
    app.sidebar.number_input(key="width").set_value(128).run()  # typed, not applied
    assert calls == []
    # (AppTest drops unsubmitted form values on a run; a browser keeps them.)
    app.sidebar.number_input(key="width").set_value(128)
    app.sidebar.number_input(key="height").set_value(96)
    app.sidebar.button[0].click().run()
    assert calls == [(128, 96)]
    assert "resize to 128×96" in app.caption[0].value


def test_each_view_keeps_its_choices_when_switching_back(app):
    app.sidebar.selectbox(key="sample").select("Spot the difference").run()
    open_sweep(app, "32, 64")
    app.button_group(key="view").set_value("Pair inspector").run()
    app.selectbox(key="inspect_a").select("astronaut-changed.png").run()
    app.selectbox(key="inspect_b").select("astronaut.png").run()
    app.button_group(key="pair_mode").set_value("Difference").run()
    app.toggle(key="inspect_otsu").set_value(False).run()
    app.slider(key="inspect_threshold").set_value(0.4).run()
    app.button_group(key="view").set_value("Compare").run()
    app.button_group(key="view").set_value("Resize sweep").run()
    assert app.text_input(key="sweep_sizes").value == "32, 64"
    app.button_group(key="view").set_value("Pair inspector").run()
    assert app.selectbox(key="inspect_a").value == "astronaut-changed.png"
    assert app.button_group(key="pair_mode").value == "Difference"
    assert app.toggle(key="inspect_otsu").value is False
    assert app.slider(key="inspect_threshold").value == 0.4


def test_classify_keeps_the_labels_csv_and_k_across_views(app, three_files):
    labels = b"name,label\ncat.png,pet\ncoffee.jpg,pet\n"
    classify_with_labels(app, three_files, "labels.csv", labels)
    app.number_input(key="classify_k").set_value(2).run()
    app.button_group(key="view").set_value("Compare").run()
    app.button_group(key="view").set_value("Classify").run()
    assert not app.exception
    assert list(app.dataframe[0].value["label"]) == ["pet", "pet", "astronaut"]
    assert app.number_input(key="classify_k").value == 2
    assert any("Labels from **labels.csv** are applied" in c.value for c in app.caption)


def test_choices_of_other_images_are_dropped(app):
    open_sweep(app, "32, 64")
    app.sidebar.selectbox(key="sample").select(samples.PHOTOS).run()
    assert app.text_input(key="sweep_sizes").value.startswith("32, 64, 128")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"cat.png\ncoffee.jpg\n", "line 1 of the labels CSV has 1 column; expected two"),
        (b"name,label\ncat.png,\x80\xff\n", "it is not UTF-8 text"),
    ],
)
def test_a_labels_csv_that_cannot_be_read_shows_what_one_looks_like(
    app, three_files, data, problem
):
    classify_with_labels(app, three_files, "bad.csv", data)
    assert not app.exception
    (error,) = app.error
    assert "**bad.csv** cannot be used as labels" in error.value
    assert problem in error.value
    assert "name,label\ncat-1.png,cat" in error.value
    assert list(app.dataframe[0].value["label"]) == ["cat", "coffee", "astronaut"]


def test_choosing_the_other_sides_image_swaps_the_pair(app):
    app.sidebar.selectbox(key="sample").select("Spot the difference").run()
    app.button_group(key="view").set_value("Pair inspector").run()
    app.selectbox(key="inspect_a").select("astronaut-changed.png").run()
    assert app.selectbox(key="inspect_b").value == "astronaut.png"
    assert not app.info[1:]  # no "choose two different images"


def test_the_link_carries_settings_view_and_choices(app):
    app.sidebar.selectbox(key="sample").select("Spot the difference").run()
    app.sidebar.number_input(key="width").set_value(256)
    app.sidebar.number_input(key="height").set_value(256)
    app.sidebar.button[0].click().run()
    app.button_group(key="view").set_value("Pair inspector").run()
    app.selectbox(key="inspect_a").select("astronaut-changed.png").run()
    assert app.query_params == {
        "w": "256",
        "h": "256",
        "sample": "Spot the difference",
        "view": "Pair inspector",
        "a": "astronaut-changed.png",
        "b": "astronaut.png",
    }


def test_a_link_opens_the_same_view_on_the_same_sample():
    at = opened_with(
        {"sample": "Photos", "view": "Resize sweep", "sizes": "32, 64", "gray": "0", "w": "64"}
    )
    assert not at.exception and not at.warning
    assert at.sidebar.selectbox(key="sample").value == "Photos"
    assert at.sidebar.toggle(key="grayscale").value is False
    assert at.sidebar.number_input(key="width").value == 64
    assert at.button_group(key="view").value == "Resize sweep"
    assert chart_spec(at, "sweep_ssim")["layout"]["xaxis"]["tickvals"] == [32, 64]


def test_a_link_from_uploads_says_in_one_note_what_it_waits_for_and_what_was_left_out():
    at = opened_with(
        {"src": "upload", "view": "Pair inspector", "a": "mine.png", "b": "yours.png", "w": "x"}
    )
    assert not at.exception
    (warning,) = at.warning
    assert "This link compares mine.png and yours.png: upload them" in warning.value
    assert "w='x'" in warning.value
    assert at.button_group(key="view").value == "Pair inspector"


def test_a_link_from_uploads_without_a_pair_says_uploads_cannot_travel():
    at = opened_with({"src": "upload", "view": "Classify"})
    assert not at.exception
    (warning,) = at.warning
    assert "made with uploaded images, which cannot travel in a link" in warning.value


def test_the_inspector_boxes_a_pasted_logo_as_one_region_and_says_so(app):
    app.sidebar.selectbox(key="sample").select(samples.PASTED_LOGO).run()
    app.button_group(key="view").set_value("Pair inspector").run()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Differing regions"] == "1"
    assert any("confined to one region" in c.value for c in app.caption)
    assert not any("spread" in c.value for c in app.caption)
    own = app.toggle(key="inspect_own_size")
    assert own.label == "Inspect at the images' own size (300×300)"
    own.set_value(True).run()
    assert any("compared 300×300 images" in c.value for c in app.caption)
    assert {m.label: m.value for m in app.metric}["Differing regions"] == "1"


def test_with_otsu_the_slider_shows_the_threshold_used(app):
    app.sidebar.selectbox(key="sample").select("Spot the difference").run()
    app.button_group(key="view").set_value("Pair inspector").run()
    original, changed = samples.load_sample(samples.SPOT_THE_DIFFERENCE)
    used = inspect_pair(original, changed).threshold
    slider = app.slider(key="inspect_threshold")
    assert slider.disabled and slider.value == round(used, 2)
    assert slider.value != 0.3


def apply_size(at: AppTest, width: int, height: int) -> AppTest:
    at.sidebar.number_input(key="width").set_value(width)
    at.sidebar.number_input(key="height").set_value(height)
    at.sidebar.button[0].click()
    return at.run()


def test_with_keep_aspect_widths_are_never_refused_for_rounding(app):
    """25 at 256×128 is 25×12 (rounded): derived heights are not checked against the aspect."""
    apply_size(app, 256, 128)
    open_sweep(app, "16, 25, 64, 128")
    assert app.toggle(key="sweep_keep_aspect").value is True
    assert not app.exception and not app.error
    assert any(c.value.startswith("4 sizes: 16×8, 25×12, 64×32, 128×64") for c in app.caption)


@pytest.mark.parametrize(
    ("sizes", "named", "rule"),
    [
        ("99999x1", "**99999x1**:", "larger than 10000 on a side"),
        ("0, 64", "**0** (width 0 at 256×128's aspect: 0×1):", "smaller than the 7x7"),
        ("64x64, 128", "**64x64**:", "all sizes need one aspect"),
    ],
)
def test_with_keep_aspect_a_typed_size_is_taken_and_named_as_typed(app, sizes, named, rule):
    apply_size(app, 256, 128)
    open_sweep(app, sizes)
    assert not app.exception
    (error,) = app.error
    assert named in error.value and rule in error.value
    assert "99999x50000" not in error.value


def test_with_keep_aspect_a_typed_size_of_that_aspect_is_swept_as_typed(app):
    apply_size(app, 256, 128)
    open_sweep(app, "64x32, 128")
    assert not app.error
    assert any(c.value.startswith("2 sizes: 64×32, 128×64") for c in app.caption)


def test_infinite_psnr_cells_take_a_colour_above_every_finite_one_labelled_infinity(
    app, three_files
):
    upload(app, [three_files[0], ("copy.png", three_files[0][1]), *three_files[1:]])
    app.button_group(key="heatmap_metric").set_value("PSNR").run()
    values, data = heatmap_values(app), heatmap(app)
    assert np.isfinite(values).all()  # no blank cell
    finite = app.dataframe[0].value["PSNR (dB)"]
    top = finite[np.isfinite(finite)].max()
    infinite = {(0, 1), (1, 0), *((index, index) for index in range(4))}  # cat.png = copy.png
    for row in range(4):
        for column in range(4):
            shown_infinite = data["text"][row][column] == "∞"
            assert shown_infinite is ((row, column) in infinite)
            assert bool(values[row, column] > top) is shown_infinite
    assert data["zmax"] == pytest.approx(values.max())
    bar = data["colorbar"]
    assert bar["ticktext"][-1] == "∞" and bar["tickvals"][-1] == pytest.approx(values.max())
    assert all(float(label) <= top for label in bar["ticktext"][:-1])
    assert values.min() == pytest.approx(finite.min())
    hover = heatmap_markers(app)["customdata"]
    assert "∞ (identical after preparation)" in hover


@pytest.mark.parametrize("view", ["Compare", "Resize sweep"])
def test_the_time_estimate_counts_only_readable_images(monkeypatch, three_files, view):
    import imgsim.timing._model as cost

    slow = cost.Rates(**{name: value * 1000 for name, value in vars(cost.FALLBACK_RATES).items()})
    monkeypatch.setattr(cost, "MODEL", cost.TimeModel(probe=lambda: slow))
    at = new_session()
    at.run()
    upload(at, [*three_files, ("broken.png", b"\x89PNG\r\n\x1a\n junk")])
    at.button_group(key="view").set_value(view).run()
    assert not at.exception
    (estimate,) = (info.value for info in at.info if "expected to take about" in info.value)
    assert estimate.startswith("3 images at") and "3 pairs" in estimate


def test_a_link_naming_images_a_sample_lacks_names_them_and_shows_two_others():
    at = opened_with(
        {"sample": "Photos", "view": "Pair inspector", "a": "nope.png", "b": "chelsea.png"}
    )
    assert not at.exception
    (warning,) = at.warning
    assert "nope.png, which the sample Photos does not have" in warning.value
    assert "uploaded" not in warning.value
    first, second = at.selectbox(key="inspect_a").value, at.selectbox(key="inspect_b").value
    assert second == "chelsea.png" and first != second
    assert first == next(name for name in samples.PHOTO_FILES if name != "chelsea.png")
    assert not any(info.value == "Choose two different images." for info in at.info)


def test_a_size_below_the_ssim_window_keeps_the_page_at_the_last_valid_size(app):
    apply_size(app, 64, 64)
    apply_size(app, 3, 3)
    assert not app.exception
    (error,) = app.sidebar.error
    assert error.value == (
        "Size 3×3 is smaller than the 7×7 SSIM window of the 'skimage' convention; use at "
        "least 7×7. Still comparing at 64×64."
    )
    assert "Sample:" in app.info[0].value  # the page is still there
    assert app.button_group(key="view").value == "Compare"
    assert heatmap_values(app).shape == (6, 6)
    assert (app.query_params.get("w"), app.query_params.get("h")) == ("64", "64")


def test_ms_ssim_below_161_keeps_the_size_and_convention_in_use_and_says_so():
    # The QA case: the inspector at 128×128, then MS-SSIM chosen in the sidebar.
    link = {"view": "Pair inspector", "a": "reference.png", "b": "blur.png", "w": "128", "h": "128"}
    at = opened_with({"sample": samples.EQUAL_MSE, **link})
    at.sidebar.selectbox(key="ssim").select("ms-ssim").run()
    assert not at.exception
    (error,) = at.sidebar.error
    assert error.value.startswith("Size 128×128 is too small for MS-SSIM:")
    assert "at least 161" in error.value and "128x128" not in error.value
    assert error.value.count("128×128") == 1  # one statement of the size
    assert error.value.endswith(
        "Still comparing at this size with the scikit-image (7×7 uniform) convention."
    )
    # What is shown is SSIM at 128×128, and the link opens exactly that.
    assert next(metric.label for metric in at.metric) == "SSIM"
    assert not any("scale by scale" in markdown.value for markdown in at.markdown)
    assert at.query_params.get("w") == "128" and at.query_params.get("h") == "128"
    assert "ssim" not in at.query_params
    # A size MS-SSIM takes then applies both.
    apply_size(at, 200, 200)
    assert not at.sidebar.error
    assert at.query_params.get("ssim") == "ms-ssim" and at.query_params.get("w") == "200"
    assert next(metric.label for metric in at.metric) == "MS-SSIM"


def test_a_link_to_ms_ssim_below_161_keeps_its_size_with_the_default_convention():
    at = opened_with({"sample": samples.PHOTOS, "ssim": "ms-ssim", "w": "64", "h": "64"})
    assert not at.exception
    (error,) = at.sidebar.error
    assert error.value.startswith("Size 64×64 is too small for MS-SSIM:")
    assert error.value.endswith(
        "Comparing at this size with the scikit-image (7×7 uniform) convention instead."
    )
    assert heatmap_values(at).shape == (6, 6)
    assert (at.query_params.get("w"), at.query_params.get("h")) == ("64", "64")
    assert "ssim" not in at.query_params


def test_a_refused_size_falls_back_to_the_default_size_when_nothing_else_works():
    at = opened_with({"sample": samples.PHOTOS, "w": "3", "h": "3"})
    assert not at.exception
    (error,) = at.sidebar.error
    assert error.value.endswith("Comparing at 512×512 instead.")
    assert heatmap_values(at).shape == (6, 6)


@pytest.mark.parametrize("sample", [samples.SPOT_THE_DIFFERENCE, samples.PASTED_LOGO])
def test_classify_on_a_two_image_sample_says_one_thing(app, sample):
    app.sidebar.selectbox(key="sample").select(sample).run()
    app.button_group(key="view").set_value("Classify").run()
    assert not app.exception
    (warning,) = app.warning
    assert "100% by construction" in warning.value
    messages = [element.value for element in (*app.info, *app.warning, *app.error)]
    assert not any("leaving one out" in text for text in messages)
    assert not any("Label images of at least two classes" in text for text in messages)


@pytest.mark.parametrize(
    ("param", "said"),
    [
        ({"w": "abc"}, "w='abc' is not a whole number"),
        ({"h": "1.5"}, "h='1.5' is not a whole number"),
        ({"k": "many"}, "k='many' is not a whole number"),
        ({"w": "0"}, "w='0' must be between 1 and 10000"),
    ],
)
def test_a_malformed_link_is_explained_in_words(param, said):
    at = opened_with(param)
    assert not at.exception
    (warning,) = at.warning
    assert said in warning.value
    assert "invalid literal" not in warning.value


@pytest.mark.parametrize("typed", ["64 128", "64,128", "64, 128"])
def test_sizes_split_at_spaces_as_at_commas(app, typed):
    """One rule with the CLI (`imgsim.analyses.size_entries`): a space never glues two sizes."""
    open_sweep(app, typed)
    assert not app.error
    assert any(c.value.startswith("2 sizes: 64, 128") for c in app.caption)
