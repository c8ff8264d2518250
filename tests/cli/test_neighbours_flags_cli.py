"""`imgsim neighbours` shows the information flags in JSON, CSV and the table.

Every flag is checked against `imgsim.analyses.pair_flags` and `group_flags`
of `image_flags` made here from the decoded, prepared images.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from imgsim import Settings
from imgsim.analyses import FLAGS, group_flags, pair_flags
from tests.helpers.cli import run_cli, strict_json
from tests.helpers.flagged import SIDE, independent_flags, write_flagged

OPTIONS = ("--size", str(SIDE), "--top", "3", "--min-ssim", "0.2")


@pytest.fixture(scope="module")
def flagged(tmp_path_factory) -> list[Path]:
    return write_flagged(tmp_path_factory.mktemp("flagged"))


def json_of(*args: object) -> dict:
    done = run_cli("neighbours", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return strict_json(done.stdout)


@pytest.mark.parametrize("against", [False, True])
def test_json_flags_are_those_of_the_images_prepared_independently(flagged, against):
    queries, references = (flagged[:4], flagged[4:]) if against else (flagged, flagged)
    extra = ("--against", *references) if against else ()
    document = json_of(*queries, *extra, *OPTIONS)
    settings = Settings(size=(SIDE, SIDE))
    mine = dict(zip((p.name for p in queries), independent_flags(queries, settings), strict=True))
    theirs = dict(
        zip((p.name for p in references), independent_flags(references, settings), strict=True)
    )
    listed = [("images", mine)] + ([("references", theirs)] if against else [])
    for key, flags in listed:
        for image in document[key]:
            expected = flags[image["name"]]
            assert (image["upsampled"], image["smooth"]) == (expected.upsampled, expected.smooth)
    for entry in document["neighbours"]:
        for match in entry["matches"]:
            assert match["flags"] == list(pair_flags(mine[entry["name"]], theirs[match["name"]]))
    for pair in document["pairs"]:
        assert pair["flags"] == list(pair_flags(mine[pair["a"]], theirs[pair["b"]]))
    for group in document.get("groups", ()):
        assert group["flags"] == list(group_flags([mine[name] for name in group["names"]]))
    if not against:  # the whole set raises every flag somewhere
        assert {flag for pair in document["pairs"] for flag in pair["flags"]} == set(FLAGS)


def test_a_group_of_smooth_images_is_labelled_smooth(flagged):
    document = json_of(*flagged, "--size", str(SIDE), "--min-ssim", "0.9")
    groups = {tuple(group["names"]): group["flags"] for group in document["groups"]}
    assert groups == {
        ("smooth-0.png", "smooth-1.png", "smooth-2.png"): ["smooth"],
        ("photo-0.png", "photo-1.png"): [],
    }


def test_csv_flags_column_joins_the_json_flags(flagged, tmp_path):
    document = json_of(*flagged, *OPTIONS)
    done = run_cli("neighbours", *flagged, *OPTIONS, "-o", tmp_path / "out.csv")
    assert done.returncode == 0, done.stderr

    def read(name: str) -> list[dict]:
        return list(csv.DictReader((tmp_path / name).open()))

    rows = read("out.csv")
    expected = [
        ";".join(match["flags"]) for entry in document["neighbours"] for match in entry["matches"]
    ]
    assert [row["flags"] for row in rows] == expected
    assert any(";" in cell for cell in expected)  # a pair with two flags is one cell
    assert [row["flags"] for row in read("out.pairs.csv")] == [
        ";".join(pair["flags"]) for pair in document["pairs"]
    ]
    members = read("out.groups.csv")
    assert [row["flags"] for row in members] == [
        ";".join(group["flags"]) for group in document["groups"] for _ in group["names"]
    ]


def test_the_table_shows_flags_after_scores_and_says_what_they_mean(flagged):
    done = run_cli("neighbours", *flagged, "--size", str(SIDE), "--top", "2", "--min-ssim", "0.9")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    (smooth_row,) = [line for line in lines if line.startswith("smooth-0.png ")]
    assert smooth_row.count(", smooth)") == 2  # both matches are smooth pairs
    (photo_row,) = [line for line in lines if line.startswith("photo-0.png ")]
    assert re.search(r"  photo-1\.png \(0\.\d{4}\),", photo_row)  # a score, no flag
    assert "  smooth-0.png, smooth-1.png, smooth-2.png (min SSIM " in done.stdout
    (group_line,) = [line for line in lines if line.startswith("  smooth-0.png, smooth-1.png")]
    assert group_line.endswith(", smooth)")
    shown = {flag for flag in FLAGS if f", {flag}" in done.stdout.split("The scores are")[0]}
    for flag in shown:
        assert f"{flag}: {FLAGS[flag]}" in lines
    assert shown >= {"smooth", "tiny", "upsampled"}


def test_a_table_without_flags_has_no_notes(flagged):
    photos = [path for path in flagged if path.name.startswith("photo")]
    done = run_cli("neighbours", *photos, "--size", str(SIDE))
    assert done.returncode == 0, done.stderr
    assert "flag" not in done.stdout
