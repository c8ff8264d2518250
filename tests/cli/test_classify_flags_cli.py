"""`imgsim classify` shows the information flags in its JSON and its table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from imgsim import Settings
from imgsim.analyses import FLAGS, pair_flags
from tests.helpers.cli import run_cli, strict_json
from tests.helpers.flagged import SIDE, independent_flags, smooth_copy, write_flagged
from tests.helpers.images import encode


@pytest.fixture(scope="module")
def flagged(tmp_path_factory) -> list[Path]:
    """The flagged collection and an unlabelled smooth image (a query)."""
    folder = tmp_path_factory.mktemp("classify-flags")
    paths = write_flagged(folder)
    query = folder / "query-1.png"
    query.write_bytes(encode(smooth_copy(np.random.default_rng(9), 104), "PNG"))
    return [*paths, query]


def test_json_images_and_neighbours_carry_the_flags_of_the_prepared_images(flagged):
    done = run_cli("classify", *flagged, "--size", str(SIDE), "--k", "2", "--format", "json")
    assert done.returncode == 0, done.stderr
    document = strict_json(done.stdout)
    flags = dict(
        zip(
            (path.name for path in flagged),
            independent_flags(flagged, Settings(size=(SIDE, SIDE))),
            strict=True,
        )
    )
    for image in document["images"]:
        expected = flags[image["name"]]
        assert (image["upsampled"], image["smooth"]) == (expected.upsampled, expected.smooth)
        assert list(image) == ["name", "width", "height", "upsampled", "smooth", "label"]
    for prediction in document["predictions"]:
        for neighbour in prediction["neighbours"]:
            expected = pair_flags(flags[prediction["name"]], flags[neighbour["name"]])
            assert neighbour["flags"] == list(expected)
    raised = {
        flag
        for prediction in document["predictions"]
        for neighbour in prediction["neighbours"]
        for flag in neighbour["flags"]
    }
    assert raised == set(FLAGS)


def test_the_table_shows_the_flags_of_a_querys_matches_and_what_they_mean(flagged):
    done = run_cli("classify", *flagged, "--size", str(SIDE))
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("query-1.png ")]
    assert re.search(r"smooth-\d\.png \(0\.\d{3}, smooth\)", row)
    assert f"smooth: {FLAGS['smooth']}" in done.stdout.splitlines()
