"""The flags in compare's JSON, CSV and table: exact scores, and why they may mislead."""

from __future__ import annotations

import csv
import io

import cv2
import numpy as np
import pytest
from skimage import data

import imgsim
from imgsim.analyses import FLAGS
from tests.helpers.cli import run_cli, strict_json
from tests.helpers.images import encode


@pytest.fixture(scope="module")
def tiny_photos(tmp_path_factory):
    """The issue's case: scikit-image's grass and moon at 25 px, and the camera at 512."""
    folder = tmp_path_factory.mktemp("tiny")
    for name, image in (("grass", data.grass()), ("moon", data.moon())):
        small = cv2.resize(image, (25, 25), interpolation=cv2.INTER_AREA)
        (folder / f"{name}.png").write_bytes(encode(small, "PNG"))
    (folder / "camera.png").write_bytes(encode(data.camera(), "PNG"))
    (folder / "dot.png").write_bytes(encode(np.full((2, 2), 40, np.uint8), "PNG"))
    return sorted(folder.iterdir())


def expected_flags(files):
    result = imgsim.compare(files)
    return {(pair.a, pair.b): list(pair.flags) for pair in result.pairs()}, result


def test_json_gives_every_image_its_enlargement_and_smooth_share(tiny_photos):
    output = strict_json(run_cli("compare", *tiny_photos, "--format", "json").stdout)
    _, result = expected_flags(tiny_photos)
    for image, flags in zip(output["images"], result.image_flags, strict=True):
        assert image["upsampled"] == flags.upsampled
        assert image["smooth"] == flags.smooth
    by_name = {image["name"]: image for image in output["images"]}
    assert by_name["grass.png"]["upsampled"] == pytest.approx(512 / 25)
    assert by_name["camera.png"]["upsampled"] == 1.0


def test_json_pairs_carry_the_flags_of_the_python_api(tiny_photos):
    output = strict_json(run_cli("compare", *tiny_photos, "--format", "json").stdout)
    expected, _ = expected_flags(tiny_photos)
    for pair in output["pairs"]:
        assert pair["flags"] == expected[pair["a"], pair["b"]]
        assert set(pair["flags"]) <= set(FLAGS)
    # The unrelated 25-px photos score high, and say why.
    (grass_moon,) = [
        pair for pair in output["pairs"] if {pair["a"], pair["b"]} == {"grass.png", "moon.png"}
    ]
    assert grass_moon["ssim"] > 0.9 and "upsampled" in grass_moon["flags"]
    # A 2 x 2 image is compared, never silently: it is tiny.
    assert all(
        "tiny" in pair["flags"] for pair in output["pairs"] if "dot.png" in (pair["a"], pair["b"])
    )


def test_csv_has_a_flags_column_joined_by_semicolons(tiny_photos):
    rows = list(
        csv.DictReader(io.StringIO(run_cli("compare", *tiny_photos, "--format", "csv").stdout))
    )
    expected, _ = expected_flags(tiny_photos)
    for row in rows:
        assert (row["flags"].split(";") if row["flags"] else []) == expected[row["a"], row["b"]]


def test_table_names_the_flags_and_explains_each_one_shown(tiny_photos):
    text = run_cli("compare", *tiny_photos).stdout
    header = text.splitlines()[2].split()
    assert header[-1] == "flags"
    for flag in ("tiny", "upsampled"):
        assert f"{flag}: {FLAGS[flag]}" in text
    assert "grass.png (25x25): enlarged 20.5x, 100% of its windows smooth" in text


def test_table_of_unflagged_pairs_has_no_flags_column(tmp_path):
    for name, image in (("a", data.camera()), ("b", data.camera()[::-1].copy())):
        (tmp_path / f"{name}.png").write_bytes(encode(image, "PNG"))
    text = run_cli("compare", tmp_path).stdout
    assert "flags" not in text and "mislead" not in text
