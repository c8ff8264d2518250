"""The CLI's tables and diff name the score they show: MS-SSIM, or SSIM and its convention."""

from __future__ import annotations

import numpy as np
import pytest

import imgsim
from imgsim.analyses._diff import inspect_pair
from imgsim.metrics._msssim import WEIGHTS
from imgsim.settings._settings import Settings
from tests.helpers.cli import run_cli, strict_json


def inspect_ms(a, b) -> imgsim.PairInspection:
    return inspect_pair(a, b, Settings(size=(200, 200), ssim_convention="ms-ssim"))


def test_cli_tables_name_ms_ssim(ms_folder):
    files = sorted(ms_folder.iterdir())
    options = ("--ssim", "ms-ssim", "--size", "200")
    compared = run_cli("compare", ms_folder, *options)
    assert compared.returncode == 0, compared.stderr
    assert compared.stdout.splitlines()[0].endswith("linear interpolation, MS-SSIM")
    assert compared.stdout.splitlines()[2].split()[4] == "MS-SSIM"
    swept = run_cli("sweep", ms_folder, "--ssim", "ms-ssim", "--sizes", "161,200")
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.splitlines()[0] == (
        f"{len(files)} images at 2 sizes, grayscale, fit stretch, linear interpolation, "
        "MS-SSIM; MS-SSIM of each pair at each size"
    )
    classified = run_cli("classify", ms_folder, *options)
    assert classified.returncode == 0, classified.stderr
    assert "predicting with MS-SSIM" in classified.stdout
    assert "near-duplicate groups (MS-SSIM >= " in classified.stdout
    assert "\nMS-SSIM " in classified.stdout  # the leave-one-out row
    near = run_cli("neighbours", ms_folder, *options, "--min-ssim", "0.5")
    assert near.returncode == 0, near.stderr
    assert "best matches (MS-SSIM)" in near.stdout and "pairs with MS-SSIM >= 0.5" in near.stdout
    diff = run_cli("diff", files[0], files[1], *options)
    assert diff.returncode == 0, diff.stderr
    assert f"at 200x200: MS-SSIM {inspect_ms(files[0], files[1]).ssim:.4f}," in diff.stdout
    assert "SSIM" not in compared.stdout.replace("MS-SSIM", "")


def test_cli_tables_keep_ssim_for_other_conventions(ms_folder):
    compared = run_cli("compare", ms_folder, "--size", "200")
    assert compared.stdout.splitlines()[0].endswith("linear interpolation, SSIM skimage")
    assert "MS-SSIM" not in compared.stdout
    swept = run_cli("sweep", ms_folder, "--sizes", "64,200")
    assert swept.stdout.splitlines()[0].endswith("SSIM skimage; SSIM of each pair at each size")


def test_cli_diff_gives_ms_ssim_scale_by_scale(ms_folder):
    first, second = sorted(ms_folder.iterdir())[:2]
    options = ("--ssim", "ms-ssim", "--size", "200x170")
    completed = run_cli("diff", first, second, *options, "--format", "json")
    assert completed.returncode == 0, completed.stderr
    scales = strict_json(completed.stdout)["scales"]
    expected = inspect_pair(first, second, Settings(size=(200, 170), ssim_convention="ms-ssim"))
    assert [scale["size"] for scale in scales] == [
        [200, 170],
        [100, 85],
        [50, 43],
        [25, 22],
        [13, 11],
    ]
    np.testing.assert_array_equal([scale["value"] for scale in scales], expected.scales.values)
    np.testing.assert_array_equal([scale["weight"] for scale in scales], WEIGHTS)
    # MS-SSIM is their weighted product (grayscale).
    product = np.prod([scale["value"] ** scale["weight"] for scale in scales])
    assert product == pytest.approx(expected.ssim, abs=1e-12)
    text = run_cli("diff", first, second, *options).stdout
    assert "MS-SSIM scale by scale:" in text
    last = ["5", "13x11", f"{expected.scales.values[4]:.4f}", "0.1333"]
    assert text.splitlines()[-1].split() == last


def test_cli_diff_has_no_scales_for_single_scale_ssim(ms_folder):
    first, second = sorted(ms_folder.iterdir())[:2]
    completed = run_cli("diff", first, second, "--size", "200", "--format", "json")
    assert "scales" not in strict_json(completed.stdout)
    assert "scale by scale" not in run_cli("diff", first, second, "--size", "200").stdout
