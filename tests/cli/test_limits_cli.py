"""Limits on the command line: each refusal names its variable, before any decoding."""

from __future__ import annotations

import pytest

from tests.helpers.cli import run_cli
from tests.helpers.images import encode, noise_image


@pytest.fixture
def three_pngs(tmp_path):
    paths = []
    for seed in range(3):
        path = tmp_path / f"noise-{seed}.png"
        path.write_bytes(encode(noise_image((30, 30), seed), "PNG"))
        paths.append(str(path))
    return paths


def test_the_cli_enforces_the_limits(three_pngs):
    over = run_cli("compare", *three_pngs, env={"IMGSIM_MAX_IMAGES": "2"})
    assert over.returncode == 2
    assert over.stderr.startswith("imgsim: 3 images are more than the limit of 2")
    bad = run_cli("compare", *three_pngs, env={"IMGSIM_MAX_WORK": "lots"})
    assert bad.returncode == 2 and "IMGSIM_MAX_WORK must be a positive whole number" in bad.stderr
    pixels = run_cli("compare", *three_pngs, "--size", "16", env={"IMGSIM_MAX_PIXELS": "500"})
    assert pixels.returncode == 1 and pixels.stderr.count("set by IMGSIM_MAX_PIXELS") == 3
    assert "Traceback" not in over.stderr + bad.stderr + pixels.stderr


@pytest.mark.parametrize("command", ["compare", "sweep", "classify", "diff"])
def test_every_cli_command_refuses_a_size_over_the_bound_before_decoding(three_pngs, command):
    sizes = ["--sizes", "64,60000"] if command == "sweep" else ["--size", "60000x60000"]
    completed = run_cli(command, *three_pngs[:2], *sizes)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("imgsim: size 60000x60000 is larger than 10000 on a side")
    assert "IMGSIM_MAX_SIDE" in completed.stderr and "Traceback" not in completed.stderr
    raised = run_cli(command, *three_pngs[:2], "--size", "21", env={"IMGSIM_MAX_SIDE": "20"})
    assert raised.returncode == 2 and "larger than 20 on a side" in raised.stderr
