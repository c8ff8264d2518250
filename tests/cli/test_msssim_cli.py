"""MS-SSIM through the command line: compare, classify, sweep and diff."""

from __future__ import annotations

import json

import imgsim
from imgsim.analyses._diff import inspect_pair
from imgsim.settings._settings import Settings
from tests.helpers.cli import run_cli, strict_json


def test_cli_compare_and_classify_with_ms_ssim(ms_folder):
    completed = run_cli(
        "compare", ms_folder, "--ssim", "ms-ssim", "--size", "200", "--format", "json"
    )
    assert completed.returncode == 0, completed.stderr
    output = strict_json(completed.stdout)
    assert output["settings"]["ssim"] == "ms-ssim"
    files = sorted(ms_folder.iterdir())
    expected = imgsim.compare(files, size=(200, 200), ssim_convention="ms-ssim").pairs()
    # MS-SSIM values are never written under "ssim".
    assert [pair["ms_ssim"] for pair in output["pairs"]] == [pair.ssim for pair in expected]
    assert not any("ssim" in pair for pair in output["pairs"])
    classified = run_cli(
        "classify", ms_folder, "--ssim", "ms-ssim", "--size", "200", "--format", "json"
    )
    assert classified.returncode == 0, classified.stderr
    assert json.loads(classified.stdout)["settings"]["ssim"] == "ms-ssim"


def test_cli_sweep_with_ms_ssim_names_sizes_below_the_minimum(ms_folder):
    completed = run_cli(
        "sweep", ms_folder, "--ssim", "ms-ssim", "--sizes", "161,200", "--format", "json"
    )
    assert completed.returncode == 0, completed.stderr
    assert strict_json(completed.stdout)["settings"]["ssim"] == "ms-ssim"
    refused = run_cli("sweep", ms_folder, "--ssim", "ms-ssim", "--sizes", "128,200")
    assert refused.returncode == 2
    assert "128x128" in refused.stderr and "at least 161" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_cli_refuses_a_size_below_the_minimum(ms_folder):
    completed = run_cli("compare", ms_folder, "--ssim", "ms-ssim", "--size", "160")
    assert completed.returncode == 2
    assert "at least 161" in completed.stderr and "Traceback" not in completed.stderr


def test_cli_diff_gives_ms_ssim_and_the_finest_scales_regions(ms_folder):
    first, second = sorted(ms_folder.iterdir())[:2]
    completed = run_cli(
        "diff", first, second, "--ssim", "ms-ssim", "--size", "200", "--format", "json"
    )
    assert completed.returncode == 0, completed.stderr
    output = strict_json(completed.stdout)
    expected = inspect_pair(first, second, Settings(size=(200, 200), ssim_convention="ms-ssim"))
    assert output["ms_ssim"] == expected.ssim == expected.scales.ms_ssim
    assert "ssim" not in output
    assert len(output["regions"]) == len(expected.regions)
