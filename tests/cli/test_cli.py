"""The CLI contract: JSON schema, formats, folders, exit codes, error lines."""

from __future__ import annotations

import csv
import io
import os
import pty
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

import imgsim
import imgsim.data._samples
from imgsim.analyses._diff import DEFAULT_MIN_AREA
from imgsim.cli._main import build_parser
from imgsim.cli._options import settings_from_args
from imgsim.images._decode import is_image_filename
from tests.helpers.cli import run_cli, run_process, strict_json
from tests.helpers.images import encode, noise_image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, chelsea, coffee, astronaut):
    folder = tmp_path_factory.mktemp("images")
    (folder / "b-coffee.jpg").write_bytes(encode(coffee, "JPEG"))
    (folder / "a-cat.png").write_bytes(encode(chelsea, "PNG"))
    (folder / "c-astronaut.PNG").write_bytes(encode(astronaut, "PNG"))
    (folder / "d-copy.png").write_bytes(encode(chelsea, "PNG"))
    (folder / "notes.txt").write_text("not an image")
    (folder / "nested").mkdir()
    (folder / "nested" / "hidden.png").write_bytes(encode(chelsea, "PNG"))
    return folder


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return path


def test_json_follows_the_contract(folder):
    completed = run_cli("compare", folder, "--format", "json", "--size", "64x48")
    assert completed.returncode == 0, completed.stderr
    output = strict_json(completed.stdout)
    assert list(output) == ["settings", "images", "errors", "pairs", "provenance"]
    assert output["settings"] == {
        "width": 64,
        "height": 48,
        "grayscale": True,
        "fit": "stretch",
        "interp": "linear",
        "alpha": "white",
        "ssim": "skimage",
    }
    assert [
        {key: image[key] for key in ("name", "width", "height")} for image in output["images"]
    ] == [
        {"name": "a-cat.png", "width": 451, "height": 300},
        {"name": "b-coffee.jpg", "width": 600, "height": 400},
        {"name": "c-astronaut.PNG", "width": 512, "height": 512},
        {"name": "d-copy.png", "width": 451, "height": 300},
    ]
    for image in output["images"]:
        assert set(image) == {"name", "width", "height", "upsampled", "smooth"}
        # Shrunk to 64 x 48: every image's enlargement is below 1.
        assert 0 < image["upsampled"] < 1 and 0 <= image["smooth"] <= 1
    assert output["errors"] == []
    assert [(pair["a"], pair["b"]) for pair in output["pairs"]][:3] == [
        ("a-cat.png", "b-coffee.jpg"),
        ("a-cat.png", "c-astronaut.PNG"),
        ("a-cat.png", "d-copy.png"),
    ]
    assert len(output["pairs"]) == 6
    for pair in output["pairs"]:
        assert set(pair) == {"a", "b", "mse", "ssim", "psnr", "flags"}
        # The cat (3:2) against the square astronaut: aspects 1.5 apart.
        expected = ["size-mismatch"] if "c-astronaut.PNG" in (pair["a"], pair["b"]) else []
        assert pair["flags"] == expected, pair


def test_json_scores_equal_the_python_api(folder):
    completed = run_cli("compare", folder, "--format", "json", "--color", "--ssim", "gaussian")
    output = strict_json(completed.stdout)
    files = sorted(path for path in folder.iterdir() if is_image_filename(path.name))
    result = imgsim.compare(files, grayscale=False, ssim_convention="gaussian")
    for pair, expected in zip(output["pairs"], result.pairs(), strict=True):
        assert pair["ssim"] == expected.ssim
        assert pair["mse"] == expected.mse


def test_identical_images_have_null_psnr_in_json(folder):
    completed = run_cli("compare", folder / "a-cat.png", folder / "d-copy.png", "--format", "json")
    (pair,) = strict_json(completed.stdout)["pairs"]
    assert pair["ssim"] == 1.0 and pair["mse"] == 0.0 and pair["psnr"] is None


def test_folder_skips_non_images_with_a_note_and_does_not_recurse(folder):
    completed = run_cli("compare", folder, "--format", "csv", "--size", "32")
    assert completed.returncode == 0
    assert "skipped 1 file(s) without an image extension: notes.txt" in completed.stderr
    assert "hidden.png" not in completed.stdout


@pytest.fixture
def walked(tmp_path):
    """A folder with what a walk must tell apart: images, a hidden file and folder, a
    file without an image extension, a subfolder, links inside and to outside."""
    root, outside = tmp_path / "walked", tmp_path / "outside"
    for folder in (root / "sub", root / ".git", outside):
        folder.mkdir(parents=True)
    images = ["a.png", ".hidden.png", "sub/b.png", ".git/c.png", "../outside/x.png"]
    for index, name in enumerate(images):
        (root / name).write_bytes(encode(noise_image((16, 16), index), "PNG"))
    (root / "notes.txt").write_text("not an image")
    (root / "inside.png").symlink_to(root / "a.png")
    (root / "outside.png").symlink_to(outside / "x.png")
    (root / "elsewhere").symlink_to(outside, target_is_directory=True)
    return root


def test_the_cli_and_the_collections_list_the_same_images_of_a_folder(walked):
    from imgsim.cli._paths import expand_named_paths
    from imgsim.collection import Collection, list_images

    notes = io.StringIO()
    named = expand_named_paths([str(walked)], True, notes)
    listing = list_images(Collection("walked", walked.resolve()))
    assert [name for name, _ in named] == list(listing.names)
    assert list(listing.names) == ["a.png", "inside.png", "sub/b.png"]
    assert [path for _, path in named] == [walked / name for name in listing.names]
    assert notes.getvalue().splitlines() == [
        f"imgsim: {walked}: skipped 2 symbolic link(s) to a place outside the folder: "
        "elsewhere, outside.png",
        f"imgsim: {walked}: skipped 1 file(s) without an image extension: notes.txt",
    ]


def test_a_folder_path_leaves_out_hidden_files_and_notes_links_that_leave_it(walked):
    completed = run_cli("compare", walked, "--size", "16", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    names = [image["name"] for image in strict_json(completed.stdout)["images"]]
    assert names == ["a.png", "inside.png"]  # not recursive; no .hidden.png
    assert completed.stderr.splitlines() == [
        f"imgsim: {walked}: skipped 2 symbolic link(s) to a place outside the folder: "
        "elsewhere, outside.png",
        f"imgsim: {walked}: skipped 1 file(s) without an image extension: notes.txt",
    ]


def test_bad_file_among_good_is_one_error_line_and_the_rest_compared(folder, broken):
    completed = run_cli(
        "compare",
        folder / "a-cat.png",
        broken,
        folder / "b-coffee.jpg",
        "--format",
        "json",
    )
    assert completed.returncode == 0
    output = strict_json(completed.stdout)
    assert output["errors"] == [{"name": "broken.png", "error": output["errors"][0]["error"]}]
    assert len(output["pairs"]) == 1
    lines = completed.stderr.strip().splitlines()
    assert lines == [f"imgsim: broken.png: {output['errors'][0]['error']}"]
    assert "Traceback" not in completed.stderr


def test_fewer_than_two_readable_images_exit_with_one(folder, broken):
    completed = run_cli("compare", folder / "a-cat.png", broken, "missing.png")
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert "imgsim: missing.png: cannot read the file" in completed.stderr
    assert "1 of 3 images could be read" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "x.png", "--size", "big"], "expected WxH"),
        (["compare", "x.png", "--size", "5x5"], "smaller than the 7x7 SSIM window"),
        (["compare", "x.png", "--size", "-5x5"], "expected positive sides"),
        (["compare", "x.png", "--size=-5x5"], "expected positive sides"),
        (["diff", "a.png", "b.png", "--min-area", "-1e-3"], "expected a share in [0, 1)"),
        (["compare", "x.png", "--size", "0"], "expected positive sides"),
        (["diff", "a.png", "b.png", "--min-area", "2"], "expected a share in [0, 1)"),
        (["diff", "a.png", "b.png", "--threshold", "1.5"], "expected otsu or a number"),
        (["classify", "x.png", "--threshold", "2"], "expected an SSIM in [-1, 1]"),
        (["classify", "x.png", "--labels", "missing.csv"], "cannot read missing.csv"),
        (["diff", "a.png", "b.png", "--boxes", "x.txt"], ".txt is not an image format"),
        (["compare", "x.png", "-o", "out.csv", "--format", "json"], "contradicts -o out.csv"),
        (["classify", "x.png", "-o", "out.csv"], "classify cannot write CSV"),
        (["compare", "x.png", "--fit", "zoom"], "invalid choice"),
        (["compare"], "required"),
        ([], "required"),
    ],
)
def test_usage_errors_exit_with_two(args, message):
    completed = run_cli(*args)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
    if args:  # the command's own usage, not the top-level one
        assert completed.stderr.startswith(f"usage: python -m imgsim {args[0]} ")
        assert (
            completed.stderr.strip()
            .splitlines()[-1]
            .startswith(f"python -m imgsim {args[0]}: error: ")
        )


def test_output_paths_are_checked_before_any_work(tmp_path, folder):
    # A valid run into a missing folder: refused at once, nothing compared or written.
    completed = run_cli("compare", folder, "--size", "16", "-o", tmp_path / "no" / "out.json")
    assert completed.returncode == 2 and completed.stdout == ""
    assert "does not exist" in completed.stderr and "Traceback" not in completed.stderr
    assert not (tmp_path / "no").exists()


@pytest.fixture(scope="module")
def two_tiny(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("tiny")
    paths = [folder / f"{index}.png" for index in range(2)]
    for index, path in enumerate(paths):
        path.write_bytes(encode(noise_image((16, 16), index), "PNG"))
    return paths


def unwritable(tmp_path: Path, kind: str, name: str = "out.json") -> tuple[Path, str]:
    """A path that cannot be written, of the given kind, and the reason the CLI gives."""
    if kind == "missing folder":
        return tmp_path / "missing" / name, f"the folder {tmp_path / 'missing'} does not exist"
    if kind == "a folder":
        (tmp_path / name).mkdir()
        return tmp_path / name, "it is a folder; give a file name inside it"
    if kind == "under a file":
        (tmp_path / "file.txt").write_text("a file")
        return tmp_path / "file.txt" / name, f"{tmp_path / 'file.txt'} is not a folder"
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder anyway")
    (tmp_path / "read-only").mkdir()
    (tmp_path / "read-only").chmod(0o555)
    return (
        tmp_path / "read-only" / name,
        f"the folder {tmp_path / 'read-only'} cannot be written to",
    )


def assert_refused(completed: subprocess.CompletedProcess[str], target: Path, reason: str):
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr == f"imgsim: cannot write {target}: {reason}\n"
    assert not target.is_file()
    assert not [path for path in target.parent.parent.rglob(".tmp-*")]  # nothing half-written


@pytest.mark.parametrize("kind", ["missing folder", "a folder", "under a file", "read-only folder"])
def test_an_unwritable_output_is_one_line_and_exit_two(two_tiny, tmp_path, kind):
    target, reason = unwritable(tmp_path, kind)
    completed = run_cli("compare", *two_tiny, "--size", "16", "-o", target)
    assert_refused(completed, target, reason)


@pytest.mark.parametrize(
    ("command", "option", "name"),
    [
        ("sweep", "-o", "out.csv"),
        ("classify", "-o", "out.json"),
        ("neighbours", "-o", "out.json"),
        ("neighbours", "-o", "out.parquet"),
        ("diff", "-o", "out.json"),
        ("diff", "--map", "map.png"),
        ("diff", "--boxes", "boxes.png"),
    ],
)
def test_every_output_of_every_command_is_checked_so(two_tiny, tmp_path, command, option, name):
    target, reason = unwritable(tmp_path, "missing folder", name)
    extra = ["--sizes", "16"] if command == "sweep" else []
    completed = run_cli(command, *two_tiny, "--size", "16", *extra, option, target)
    assert_refused(completed, target, reason)


def test_a_table_next_to_the_output_that_cannot_be_written_is_refused_first(two_tiny, tmp_path):
    (tmp_path / "out.pairs.csv").mkdir()  # where --min-ssim's pairs would go
    target = tmp_path / "out.csv"
    args = ["neighbours", *two_tiny, "--size", "16", "--min-ssim", "0.5", "-o", target]
    completed = run_cli(*args)
    assert completed.returncode == 2 and not target.exists()
    assert completed.stderr == (
        f"imgsim: cannot write {tmp_path / 'out.pairs.csv'}: it is a folder; "
        "give a file name inside it\n"
    )


def test_a_failed_write_leaves_the_previous_file_whole(two_tiny, tmp_path, monkeypatch, capsys):
    from imgsim.cli import main

    target = tmp_path / "out.json"
    target.write_text("the previous result")

    def full_disk(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    assert main(["compare", *map(str, two_tiny), "--size", "16", "-o", str(target)]) == 2
    assert capsys.readouterr().err == f"imgsim: cannot write {target}: No space left on device\n"
    assert target.read_text() == "the previous result"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.json"]


def test_an_output_through_a_link_or_into_a_pipe_is_written_where_it_leads(two_tiny, tmp_path):
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_text("old")
    real.chmod(0o640)
    link.symlink_to(real)
    assert run_cli("compare", *two_tiny, "--size", "16", "-o", link).returncode == 0
    assert link.is_symlink() and len(strict_json(real.read_text())["pairs"]) == 1
    assert real.stat().st_mode & 0o777 == 0o640  # the file's own permissions are kept
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()))
    reader.start()
    completed = run_cli("compare", *two_tiny, "--size", "16", "--format", "json", "-o", pipe)
    reader.join(60)
    assert completed.returncode == 0, completed.stderr
    assert len(strict_json(received[0])["pairs"]) == 1


def test_a_new_output_file_gets_the_usual_permissions(two_tiny, tmp_path):
    target = tmp_path / "out.csv"
    assert run_cli("compare", *two_tiny, "--size", "16", "-o", target).returncode == 0
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    ("name", "extra", "kind"),
    [
        ("out.json", [], "json"),
        ("out.csv", [], "csv"),
        ("out.txt", [], "table"),
        ("out.txt", ["--format", "json"], "json"),
        ("out.json", ["--format", "json"], "json"),
    ],
)
def test_the_output_format_follows_the_extension_unless_told(folder, tmp_path, name, extra, kind):
    target = tmp_path / name
    completed = run_cli("compare", folder, "--size", "16", "-o", target, *extra)
    assert completed.returncode == 0, completed.stderr
    text = target.read_text()
    if kind == "json":
        assert len(strict_json(text)["pairs"]) == 6
    elif kind == "csv":
        assert text.startswith("a,b,ssim,mse,psnr,")
    else:
        assert text.startswith("4 images at 16x16")


def test_version_names_imgsim_and_the_libraries_that_decide_the_numbers():
    completed = run_cli("--version")
    assert completed.returncode == 0
    line = completed.stdout.strip()
    assert line.startswith(f"imgsim {imgsim.__version__} (numpy ")
    # Those whose code computes the numbers (scikit-image is only the tests' reference).
    from imgsim.outputs import LIBRARIES

    for library in LIBRARIES:
        assert f"{library} " in line
    assert "scikit-image" not in line


def test_the_console_script_calls_itself_imgsim(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/imgsim"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["compare", "--help"])
    assert capsys.readouterr().out.startswith("usage: imgsim compare ")


@pytest.mark.parametrize("command", ["compare", "sweep", "diff", "classify"])
def test_every_commands_help_shows_the_defaults(command):
    text = " ".join(run_cli(command, "--help").stdout.split())
    for default in ("(default: 512x512)", "(default: stretch)", "(default: skimage)"):
        assert default in text
    extra = {
        "sweep": "(default: 32,64,128,256,512,1024,2048, less those below",
        "diff": f"(default: {DEFAULT_MIN_AREA})",
        "classify": "(default: 0.9)",
    }
    if command in extra:
        assert extra[command] in text


def test_json_and_csv_carry_provenance(folder, broken):
    import hashlib

    from imgsim import outputs as report

    paths = [folder / "a-cat.png", broken, folder / "b-coffee.jpg"]
    output = strict_json(run_cli("compare", *paths, "--size", "16", "--format", "json").stdout)
    record = output["provenance"]
    assert record["versions"] == report.library_versions()
    assert record["versions"]["imgsim"] == imgsim.__version__
    assert record["inputs"] == [
        {"name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for path in paths
    ]
    rows = list(
        csv.DictReader(
            io.StringIO(run_cli("compare", *paths, "--size", "16", "--format", "csv").stdout)
        )
    )
    (row,) = rows
    assert row["a_sha256"] == record["inputs"][0]["sha256"]
    assert row["b_sha256"] == record["inputs"][2]["sha256"]
    assert row["versions"].startswith(f"imgsim {imgsim.__version__}; numpy ")


def test_csv_has_one_row_per_pair(folder):
    completed = run_cli("compare", folder, "--format", "csv", "--size", "32x32")
    rows = list(csv.DictReader(io.StringIO(completed.stdout)))
    assert list(rows[0])[:5] == ["a", "b", "ssim", "mse", "psnr"]  # the contract's, first
    assert len(rows) == 6
    identical = next(row for row in rows if row["b"] == "d-copy.png" and row["a"] == "a-cat.png")
    assert float(identical["ssim"]) == 1.0 and identical["psnr"] == "inf"


def test_table_lists_pairs_most_similar_first(folder):
    completed = run_cli("compare", folder, "--size", "32x32")
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("4 images at 32x32, grayscale")
    assert lines[2].split()[:2] == ["image", "A"]
    assert lines[3].split()[:3] == ["a-cat.png", "d-copy.png", "1.0000"]
    assert lines[2].split()[-1] == "flags"  # the astronaut is square, the cats 3:2
    assert lines[3 + 6 :][:2] == ["", "The scores are exact; a flag says why one may mislead:"]


def test_output_file_receives_the_output(folder, tmp_path):
    target = tmp_path / "out.json"
    completed = run_cli("compare", folder, "--format", "json", "-o", target, "--size", "16")
    assert completed.returncode == 0 and completed.stdout == ""
    assert len(strict_json(target.read_text())["pairs"]) == 6


@pytest.mark.parametrize(
    "given",
    [["--min-ssim", "-0.5"], ["--min-ssim=-0.5"], ["--min-ssim", "-5e-1"], ["--min-ssim", "-.5"]],
)
def test_negative_values_reach_their_option(given):
    args = build_parser().parse_args(["neighbours", "a.png", "b.png", *given])
    assert args.min_ssim == -0.5 and args.paths == ["a.png", "b.png"]


def test_a_path_after_double_dash_is_never_taken_for_a_value():
    args = build_parser().parse_args(["compare", "--size", "16", "--", "--size", "-5x5"])
    assert args.size == (16, 16) and args.paths == ["--size", "-5x5"]


def test_cli_defaults_are_the_settings_defaults():
    args = build_parser().parse_args(["compare", "x.png"])
    assert settings_from_args(args) == imgsim.Settings()


def test_sweep_json_follows_the_contract_and_equals_compare(folder):
    completed = run_cli("sweep", folder, "--sizes", "32,64", "--format", "json", "--color")
    assert completed.returncode == 0, completed.stderr
    output = strict_json(completed.stdout)
    assert list(output) == [
        "settings",
        "images",
        "errors",
        "sizes",
        "pairs",
        "kendall_tau",
        "reference",
        "provenance",
    ]
    assert output["reference"] == {"width": 64, "height": 64}
    assert output["sizes"] == [{"width": 32, "height": 32}, {"width": 64, "height": 64}]
    assert len(output["pairs"]) == 6 and len(output["kendall_tau"]) == 2
    assert output["kendall_tau"][-1] == 1.0
    files = sorted(path for path in folder.iterdir() if is_image_filename(path.name))
    for index, side in enumerate((32, 64)):
        expected = imgsim.compare(files, size=(side, side), grayscale=False).pairs()
        for pair, reference in zip(output["pairs"], expected, strict=True):
            assert (pair["a"], pair["b"]) == (reference.a, reference.b)
            assert pair["ssim"][index] == reference.ssim
            assert pair["mse"][index] == reference.mse


def test_sweep_keeps_the_aspect_of_size_when_asked(folder):
    completed = run_cli(
        "sweep",
        folder,
        "--sizes",
        "40,80",
        "--keep-aspect",
        "--size",
        "400x300",
        "--format",
        "json",
    )
    sizes = strict_json(completed.stdout)["sizes"]
    assert sizes == [{"width": 40, "height": 30}, {"width": 80, "height": 60}]


def test_sweep_table_ends_with_the_verdict(folder):
    completed = run_cli("sweep", folder, "--sizes", "16,32")
    lines = completed.stdout.strip().splitlines()
    # The settings first, named as compare's table names them.
    assert lines[0].endswith(
        "at 2 sizes, grayscale, fit stretch, linear interpolation, SSIM skimage; "
        "SSIM of each pair at each size"
    )
    assert lines[2].split() == ["image", "A", "image", "B", "16", "32"]
    assert lines[-2].startswith("Kendall's tau")
    assert lines[-1].startswith("Pair order is")


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ("64,big", "is not a size"),
        ("20000", "larger than 10000"),
        # The bound is named before the window, whichever side breaks it.
        ("99999x1", "larger than 10000"),
        ("1x99999", "larger than 10000"),
    ],
)
def test_sweep_with_bad_sizes_exits_with_two(folder, sizes, message):
    completed = run_cli("sweep", folder, "--sizes", sizes)
    assert completed.returncode == 2
    assert message in completed.stderr and "Traceback" not in completed.stderr


@pytest.fixture(scope="module")
def spot_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spot")
    paths = []
    for name, data in imgsim.data._samples.load_sample(imgsim.data._samples.SPOT_THE_DIFFERENCE):
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


def test_diff_json_follows_the_contract_and_writes_pictures(spot_files, tmp_path):
    map_path, boxes_path = tmp_path / "map.png", tmp_path / "boxes.png"
    completed = run_cli(
        "diff", *spot_files, "--format", "json", "--map", map_path, "--boxes", boxes_path
    )
    assert completed.returncode == 0, completed.stderr
    output = strict_json(completed.stdout)
    assert list(output) == [
        "settings",
        "a",
        "b",
        "ssim",
        "mse",
        "psnr",
        "threshold",
        "regions",
        "changed_fraction",
        "terms",
        "provenance",
    ]
    assert len(output["regions"]) == 4
    assert set(output["regions"][0]) == {"x", "y", "width", "height", "ssim"}
    expected = imgsim.compare(spot_files)
    assert output["ssim"] == pytest.approx(expected.ssim[0, 1], abs=1e-9)
    assert output["mse"] == expected.mse[0, 1]
    assert 0 < output["changed_fraction"] < 0.1
    assert Image.open(map_path).size == (512, 512)
    assert Image.open(boxes_path).size == (512 * 2 + 8, 512)


@pytest.fixture(scope="module")
def equal_mse_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("equal-mse")
    for name, data in imgsim.data._samples.load_sample(imgsim.data._samples.EQUAL_MSE):
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("convention", ["skimage", "gaussian"])
def test_diff_json_terms_are_the_pairs_terms(equal_mse_files, convention):
    pair = (equal_mse_files / "reference.png", equal_mse_files / "blur.png")
    args = ("--format", "json", "--size", "128", "--ssim", convention)
    output = strict_json(run_cli("diff", *pair, *args).stdout)
    assert list(output["terms"]) == ["luminance", "contrast", "structure"]
    settings = imgsim.Settings(size=(128, 128), ssim_convention=convention)
    expected = imgsim.compare(pair, settings, terms=True).pairs()[0].terms
    assert output["terms"] == pytest.approx(expected.to_dict(), abs=1e-12)
    # Blur: the means stay, the detail goes.
    assert output["terms"]["luminance"] > 0.98 > output["terms"]["contrast"]


def test_diff_table_names_the_kind_of_difference_with_the_terms(equal_mse_files):
    pair = (equal_mse_files / "reference.png", equal_mse_files / "mean-shift.png")
    lines = run_cli("diff", *pair).stdout.splitlines()
    assert lines[1] == (
        "Mostly a difference of brightness: the local mean brightness differs "
        "(luminance 0.95, contrast 1.00, structure 1.00)."
    )


@pytest.fixture(scope="module")
def terms_expected(equal_mse_files):
    files = sorted(path for path in equal_mse_files.iterdir())[:3]
    result = imgsim.compare(files, size=(64, 64), terms=True)
    return files, {(pair.a, pair.b): pair.terms.to_dict() for pair in result.pairs()}


def test_compare_terms_json_adds_terms_to_each_pair_only(terms_expected):
    files, expected = terms_expected
    output = strict_json(
        run_cli("compare", *files, "--terms", "--size", "64", "--format", "json").stdout
    )
    assert list(output) == ["settings", "images", "errors", "pairs", "provenance"]
    assert len(output["pairs"]) == 3
    for pair in output["pairs"]:
        assert list(pair) == ["a", "b", "mse", "ssim", "psnr", "terms", "flags"]
        assert pair["terms"] == pytest.approx(expected[pair["a"], pair["b"]], abs=1e-15)


def test_compare_terms_csv_has_the_three_columns_after_the_scores(terms_expected):
    files, expected = terms_expected
    completed = run_cli("compare", *files, "--terms", "--size", "64", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(completed.stdout)))
    assert list(rows[0])[:8] == [
        "a",
        "b",
        "ssim",
        "mse",
        "psnr",
        "luminance",
        "contrast",
        "structure",
    ]
    assert "a_sha256" in rows[0]
    for row in rows:
        terms = {name: float(row[name]) for name in ("luminance", "contrast", "structure")}
        assert terms == expected[row["a"], row["b"]]


def test_compare_terms_table_shows_the_three_columns_after_ssim(terms_expected):
    files, expected = terms_expected
    lines = run_cli("compare", *files, "--terms", "--size", "64").stdout.splitlines()
    assert lines[2].split()[:11] == [
        "image",
        "A",
        "image",
        "B",
        "SSIM",
        "luminance",
        "contrast",
        "structure",
        "MSE",
        "PSNR",
        "dB",
    ]
    for line in lines[3:6]:
        a, b, _, luminance, contrast, structure, *_ = line.split()
        shown = [float(luminance), float(contrast), float(structure)]
        assert shown == pytest.approx(list(expected[a, b].values()), abs=5e-5)


def test_compare_without_terms_has_no_terms_anywhere(terms_expected):
    files, _ = terms_expected
    output = strict_json(run_cli("compare", *files, "--size", "64", "--format", "json").stdout)
    assert all("terms" not in pair for pair in output["pairs"])
    header = run_cli("compare", *files, "--size", "64", "--format", "csv").stdout.splitlines()[0]
    assert "luminance" not in header


def test_diff_coordinates_are_in_the_resized_images_pixels(spot_files):
    full = strict_json(run_cli("diff", *spot_files, "--format", "json").stdout)
    half = strict_json(run_cli("diff", *spot_files, "--format", "json", "--size", "256").stdout)
    first_full = min(full["regions"], key=lambda region: (region["x"], region["y"]))
    first_half = min(half["regions"], key=lambda region: (region["x"], region["y"]))
    assert first_half["x"] == pytest.approx(first_full["x"] / 2, abs=3)


def test_diff_of_an_unreadable_file_exits_with_one(spot_files, broken):
    completed = run_cli("diff", spot_files[0], broken)
    assert completed.returncode == 1
    assert completed.stderr.startswith("imgsim: broken.png: ")
    assert "Traceback" not in completed.stderr


def test_diff_needs_exactly_two_images(spot_files):
    completed = run_cli("diff", spot_files[0])
    assert completed.returncode == 2


@pytest.fixture(scope="module")
def shape_folders(tmp_path_factory):
    from tests.helpers.shapes import shape

    root = tmp_path_factory.mktemp("shapes")
    for index, kind in enumerate(("circle", "square")):
        (root / kind).mkdir()
        for number in range(3):
            pixels = shape(kind, seed=10 * index + number)
            (root / kind / f"img{index}{number}.png").write_bytes(encode(pixels, "PNG"))
    return root


def test_classify_json_follows_the_contract(shape_folders):
    completed = run_cli(
        "classify",
        shape_folders / "circle",
        shape_folders / "square",
        "--labels",
        "folders",
        "--size",
        "64",
        "--format",
        "json",
    )
    assert completed.returncode == 0, completed.stderr
    output = strict_json(completed.stdout)
    assert list(output) == [
        "settings",
        "images",
        "errors",
        "loo",
        "predictions",
        "clustering",
        "clusters",
        "provenance",
    ]
    assert output["clustering"] == "complete-linkage"  # not neighbours' chained groups
    assert output["settings"]["k"] == 1 and output["settings"]["labels"] == "folders"
    assert [image["label"] for image in output["images"]] == ["circle"] * 3 + ["square"] * 3
    assert output["loo"]["accuracy"] == 1.0
    assert output["loo"]["confusion"] == {
        "labels": ["circle", "square"],
        "matrix": [[3, 0], [0, 3]],
    }
    assert output["loo"]["per_class"] == {"circle": 1.0, "square": 1.0}
    assert output["loo"]["baseline_accuracy"] == 0.5
    first = output["predictions"][0]
    assert set(first) == {"name", "label", "predicted", "neighbours", "margin"}
    assert set(first["neighbours"][0]) == {"name", "label", "score", "flags"}
    files = sorted((shape_folders / "circle").iterdir()) + sorted(
        (shape_folders / "square").iterdir()
    )
    expected = imgsim.compare(files, size=(64, 64))
    j = expected.names.index(first["neighbours"][0]["name"])
    assert first["neighbours"][0]["score"] == expected.ssim[0, j]  # same numbers as compare
    assert sorted(name for group in output["clusters"] for name in group) == sorted(expected.names)


def test_classify_takes_labels_from_a_csv_and_names_unknown_ones(shape_folders, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("name,label\nimg00.png,round\nimg10.png,boxy\nghost.png,x\n")
    completed = run_cli(
        "classify",
        shape_folders / "circle",
        shape_folders / "square",
        "--labels",
        labels,
        "--format",
        "json",
        "--size",
        "64",
    )
    output = strict_json(completed.stdout)
    assert output["settings"]["labels"] == "csv"
    by_name = {image["name"]: image["label"] for image in output["images"]}
    assert by_name["img00.png"] == "round" and by_name["img10.png"] == "boxy"
    assert by_name["img01.png"] == "img"  # not in the CSV: the leading word of its name
    assert "no image is named ghost.png" in completed.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--k", "0"], "at least 1"), (["--labels", "missing.csv"], "--labels")],
)
def test_classify_usage_errors_exit_with_two(shape_folders, args, message):
    completed = run_cli("classify", shape_folders / "circle", *args)
    assert completed.returncode == 2
    assert message in completed.stderr and "Traceback" not in completed.stderr


def screen_line(written: str) -> str:
    """What a terminal shows after ``written``: each ``\\r`` overwrites from column 0."""
    screen: list[str] = []
    for segment in written.split("\r"):
        screen[: len(segment)] = segment
    return "".join(screen)


class FakeTerminal(io.StringIO):
    """What a terminal receives: a text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_progress_bar_never_leaves_stale_text():
    from imgsim.cli._progress import TerminalProgress
    from imgsim.timing._progress import Progress

    stream = FakeTerminal()
    ticks = iter(range(100))
    bar = TerminalProgress(stream, columns=60, clock=lambda: next(ticks))
    bar(Progress(1.0, 40.0, "comparing 28 pairs of rather long-named images", elapsed=4.0))
    bar(Progress(30.0, 40.0, "done soon", elapsed=34.0))
    shown = screen_line(stream.getvalue())
    assert len(shown) <= 59  # never wraps: a wrapped line cannot be overwritten
    assert shown.rstrip().endswith("done soon, 11 s left")
    assert "pairs" not in shown and "s left          s left" not in shown
    bar.finish()
    assert screen_line(stream.getvalue()).strip() == ""


def test_the_progress_bar_is_redrawn_at_most_ten_times_a_second_and_always_when_done():
    from imgsim.cli._progress import TerminalProgress
    from imgsim.timing._progress import Progress

    stream = FakeTerminal()
    now = [0.0]
    bar = TerminalProgress(stream, columns=60, clock=lambda: now[0])
    bar(Progress(1.0, 4.0, "first", elapsed=1.0))
    now[0] = 0.05
    bar(Progress(2.0, 4.0, "too soon", elapsed=2.0))
    assert "too soon" not in stream.getvalue()
    bar(Progress(4.0, 4.0, "done", elapsed=3.0))
    assert screen_line(stream.getvalue()).rstrip().endswith("100% done")
    bar.finish()


def test_no_progress_is_drawn_when_stderr_is_not_a_terminal(monkeypatch):
    from imgsim.cli._progress import TerminalProgress, terminal_progress
    from imgsim.timing._progress import Progress

    piped = io.StringIO()
    bar = TerminalProgress(piped, columns=60)
    assert not bar.enabled
    bar(Progress(1.0, 4.0, "comparing", elapsed=1.0))
    bar.finish()
    assert piped.getvalue() == ""
    monkeypatch.setattr(sys, "stderr", piped)
    with terminal_progress() as progress:
        assert progress is None  # nobody watches: no time model, no drawing
    assert piped.getvalue() == ""


def test_classify_says_when_its_numbers_mean_nothing(shape_folders):
    # Two classes (by folder): the note on k is made only when there are classes to tell apart.
    many = run_cli(
        "classify",
        shape_folders / "circle",
        shape_folders / "square",
        "--labels",
        "folders",
        "--k",
        "20",
    )
    assert many.returncode == 0
    assert "imgsim: note: k = 20 is not below the 5 other labelled image(s)" in many.stderr
    one_class = run_cli("classify", shape_folders / "circle", "--labels", "folders")
    assert "every labelled image has the label 'circle'" in one_class.stderr
    fine = run_cli(
        "classify", shape_folders / "circle", shape_folders / "square", "--labels", "folders"
    )
    assert "note" not in fine.stderr


@pytest.mark.parametrize(("command", "extra"), [("compare", []), ("sweep", ["--sizes", "16,32"])])
def test_csv_numbers_are_plain_python_floats(folder, tmp_path, command, extra):
    output = tmp_path / "out.csv"
    completed = run_cli(command, folder, *extra, "-o", str(output))
    assert completed.returncode == 0, completed.stderr
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert rows
    for row in rows:
        for column in ("ssim", "mse"):
            # repr of a Python float reads back exactly; np.float64(...) does not parse.
            assert repr(float(row[column])) == row[column]


def test_sweep_reads_space_separated_sizes_and_runs_each_once(folder):
    completed = run_cli("sweep", folder, "--sizes", "16 32 16", "--format", "json")
    assert completed.returncode == 0, completed.stderr
    sizes = strict_json(completed.stdout)["sizes"]
    assert sizes == [{"width": 16, "height": 16}, {"width": 32, "height": 32}]


@pytest.mark.parametrize(("command", "formats"), [("diff", ".json"), ("classify", ".json")])
def test_help_names_exactly_the_extensions_that_imply_a_format(command, formats):
    text = " ".join(run_cli(command, "--help").stdout.split())
    format_help = text[text.index("output format") : text.index("-o FILE, --output")]
    assert f"from -o's extension: {formats}, else table" in format_help
    # Each command's help names only what its check accepts.
    assert ".csv" not in format_help


def test_help_of_compare_names_both_extensions_that_imply_a_format():
    text = " ".join(run_cli("compare", "--help").stdout.split())
    assert "from -o's extension: .json or .csv, else table" in text


def test_help_names_the_image_extensions_that_map_and_boxes_accept():
    text = " ".join(run_cli("diff", "--help").stdout.split())
    assert ".png, .jpg, .webp" in text
    assert "as a colour PNG" not in text


@pytest.mark.parametrize(
    "args",
    [
        ["diff", "a.png", "b.png", "c.png"],
        ["compare", "x.png", "--no-such-option"],
        ["sweep", "x.png", "--sizes", "16", "--bogus"],
    ],
)
def test_unrecognized_arguments_show_the_commands_usage(args):
    completed = run_cli(*args)
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"usage: python -m imgsim {args[0]} ")
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith(f"python -m imgsim {args[0]}: error: unrecognized arguments")


@pytest.mark.parametrize("size", ["99999x1", "1x99999", "20000"])
def test_a_size_over_the_bound_is_refused_as_such_before_the_window(size):
    completed = run_cli("compare", "x.png", "y.png", "--size", size)
    assert completed.returncode == 2
    assert "larger than 10000 on a side" in completed.stderr
    assert "window" not in completed.stderr and "Traceback" not in completed.stderr


def run_cli_with(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imgsim", *map(str, args)],
        capture_output=True,
        check=False,
        text=True,
        cwd=ROOT,
        env={**os.environ, **environment},
        timeout=120,
    )


def test_sweep_takes_the_size_bound_in_force_as_compare_does(two_tiny):
    # Over the default bound of 10000 on one side only: 80,000 pixels, compared at once.
    raised = {"IMGSIM_MAX_SIDE": "12000"}
    compared = run_cli_with(raised, "compare", *two_tiny, "--size", "10008x8")
    assert compared.returncode == 0, compared.stderr
    swept = run_cli_with(raised, "sweep", *two_tiny, "--sizes", "64,10008x8", "--format", "json")
    assert swept.returncode == 0, swept.stderr
    sizes = strict_json(swept.stdout)["sizes"]
    assert sizes == [{"width": 64, "height": 64}, {"width": 10008, "height": 8}]
    refused = run_cli("sweep", *two_tiny, "--sizes", "64,10008x8")
    assert refused.returncode == 2
    assert "size 10008x8 is larger than 10000 on a side" in refused.stderr


def test_table_numbers_have_fixed_decimals_per_column(folder):
    # A column of 29.9 next to 30.72 is hard to read: each column keeps its decimals.
    lines = run_cli("compare", folder).stdout.strip().splitlines()[3:9]
    for column, decimals in ((2, 4), (3, 2), (4, 2)):
        for line in lines:
            cell = line.split()[column]
            if cell != "inf":
                assert len(cell.split(".")[1]) == decimals, line


INTERRUPT_TIMEOUT = 120  # seconds; generous, the machine is shared


def run_interrupted(*args: str, stop_at: str) -> tuple[int, str]:
    """Run the CLI with stderr on a terminal (so it draws its progress), interrupt it
    (SIGINT) once it reports progress starting with ``stop_at``; return its exit
    status and what reached the terminal."""
    controller, terminal = pty.openpty()
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent / "interrupted_run"), str(ROOT)]),
        "IMGSIM_TEST_STOP_AT": stop_at,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "imgsim", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        env=environment,
        cwd=ROOT,
    )
    os.close(terminal)
    screen = bytearray()

    def read_screen() -> None:  # drained as it comes, so the command never blocks on it
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the command closed the terminal
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=read_screen)
    reader.start()
    # Bounded: should the run neither stop nor end, it is killed, and waitpid returns.
    watchdog = threading.Timer(INTERRUPT_TIMEOUT, process.kill)
    watchdog.start()
    try:
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), f"the run did not reach {stop_at!r} (status {status})"
        process.send_signal(signal.SIGINT)  # delivered as it continues
        process.send_signal(signal.SIGCONT)
        code = process.wait(INTERRUPT_TIMEOUT)
    finally:
        watchdog.cancel()
        process.kill()
        reader.join(INTERRUPT_TIMEOUT)
        os.close(controller)
    return code, screen.decode()


def screen_text(written: str) -> list[str]:
    """The lines left on a terminal, each as its last redraw after a carriage return."""
    lines = [screen_line(line) for line in written.replace("\r\n", "\n").split("\n")]
    return [line.rstrip() for line in lines if line.strip()]


def test_ctrl_c_during_compare_is_one_line_and_exit_130(tmp_path):
    for index in range(12):
        (tmp_path / f"{index:02}.png").write_bytes(encode(noise_image((48, 48), index), "PNG"))
    code, written = run_interrupted(
        "compare", tmp_path, "--size", "48", "--terms", stop_at="comparing"
    )
    assert "Traceback" not in written
    assert screen_text(written) == ["imgsim: interrupted"]
    assert code == 130


@pytest.fixture(scope="module")
def three_large(tmp_path_factory) -> list[Path]:
    """Three noise images, large enough for MS-SSIM."""
    folder = tmp_path_factory.mktemp("large")
    paths = [folder / f"{index}.png" for index in range(3)]
    for index, path in enumerate(paths):
        path.write_bytes(encode(noise_image((200, 200), index), "PNG"))
    return paths


def test_sweep_leaves_out_the_default_sizes_below_the_conventions_minimum(three_large):
    done = run_cli("sweep", "--ssim", "ms-ssim", *three_large, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "imgsim: default sizes 32x32, 64x64, 128x128 left out: below the ms-ssim "
        "convention's smallest side, 161\n"
    )
    swept = [size["width"] for size in strict_json(done.stdout)["sizes"]]
    assert swept == [256, 512, 1024, 2048]


def test_sweep_names_every_typed_size_below_the_conventions_minimum(three_large):
    done = run_cli("sweep", "--ssim", "ms-ssim", "--sizes", "32,200,64x300,300x100", *three_large)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith(
        "error: --sizes: 32x32, 64x300, 300x100 are below the ms-ssim convention's smallest "
        "side, 161; give sizes of at least 161x161"
    )


@pytest.mark.parametrize("size", ["100", "99999"])
def test_sweep_does_not_check_a_size_it_does_not_use(three_large, size):
    args = ["sweep", "--ssim", "ms-ssim", "--sizes", "200,300", *three_large, "--format", "json"]
    done = run_cli(*args, "--size", size)
    assert done.returncode == 0, done.stderr
    assert [s["width"] for s in strict_json(done.stdout)["sizes"]] == [200, 300]
    # With --keep-aspect --size is used, and checked.
    assert run_cli(*args, "--size", size, "--keep-aspect").returncode == 2


def test_compare_of_a_folder_with_images_only_in_subfolders_names_them(tmp_path):
    for index, folder in enumerate(["a", "b", "b/c"]):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / f"{index}.png").write_bytes(
            encode(noise_image((16, 16), index), "PNG")
        )
    done = run_cli("compare", tmp_path, "--size", "16")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"imgsim: 0 of 0 images could be read; at least two are needed to compare; {tmp_path} "
        "has 3 images in its subfolders: give those subfolders as PATHs"
    )


def progress_shown(columns: int) -> str:
    from imgsim.cli._progress import TerminalProgress
    from imgsim.timing._progress import Progress

    stream = FakeTerminal()
    bar = TerminalProgress(stream, columns=columns)
    bar(Progress(21.0, 100.0, "compared 9,000 of 44,850 pairs", elapsed=2.5))
    return screen_line(stream.getvalue()).rstrip()


@pytest.mark.parametrize("columns", [80, 60, 40, 30, 26, 12, 3])
def test_the_progress_line_fits_the_terminal_without_cutting_a_word(columns):
    whole = progress_shown(1000)
    assert whole.endswith(" s left")
    shown = progress_shown(columns)
    assert len(shown) <= columns - 1  # never wraps: a wrapped line cannot be overwritten
    tokens = {token.strip(",") for token in whole.split()[1:]}  # all but the bar
    for token in shown.replace("…", "").split():
        assert token.startswith("[") or token.strip(",") in tokens, f"{token!r} was cut"
    if columns >= 30:  # the time left stays whole while it fits
        assert shown.endswith(" ".join(whole.split()[-3:]).lstrip(","))


def test_the_progress_line_fits_a_real_terminal_of_its_own_width():
    import fcntl
    import struct
    import termios

    from imgsim.cli._progress import TerminalProgress
    from imgsim.timing._progress import Progress

    controller, terminal = pty.openpty()
    try:
        # 24 rows of 50 columns: the width is read from the terminal, as tqdm reads it.
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
        with open(terminal, "w", encoding="utf-8", closefd=True) as stream:
            bar = TerminalProgress(stream)
            assert bar.enabled
            bar(Progress(21.0, 100.0, "compared 9,000 of 44,850 pairs", elapsed=2.5))
            bar.finish()
        # The terminal side is closed: everything written is read, in however many
        # chunks the pty delivers it, until it reports the end (EIO on Linux).
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        written = b"".join(chunks).decode()
    finally:
        os.close(controller)
    drawn = [screen_line(part) for part in written.split("\r") if part.strip()]
    # The bar fills the line up to the last column, which stays free.
    assert drawn and drawn[0].endswith("…, 11 s left") and len(drawn[0]) == 49
    assert screen_line(written).strip() == ""


@pytest.mark.parametrize(
    ("address", "host", "port"),
    [
        ("tcp://10.0.0.5:8786", "10.0.0.5", 8786),
        ("10.0.0.5:8786", "10.0.0.5", 8786),  # Dask's default protocol
        ("tls://[::1]:8786", "::1", 8786),
        (" tcp://scheduler:1 ", "scheduler", 1),
    ],
)
def test_a_scheduler_address_is_read_as_dask_reads_it(address, host, port):
    from imgsim.collection import scheduler_address

    scheduler = scheduler_address(address)
    assert (scheduler.address, scheduler.host, scheduler.port) == (address.strip(), host, port)
    assert scheduler.source == "--scheduler"


@pytest.mark.parametrize(
    "address", ["nonsense", "tcp://h:65536", "tcp://:8786", "h:0", "h:x", "[::1]", "foo://h:1"]
)
def test_an_address_dask_would_refuse_is_refused_naming_its_source(monkeypatch, address):
    from imgsim.collection import SchedulerAddressError, scheduler_address

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    with pytest.raises(SchedulerAddressError) as refused:
        scheduler_address(None)
    assert str(refused.value) == (
        "$DASK_SCHEDULER_ADDRESS: expected a Dask scheduler address such as "
        f"tcp://10.0.0.5:8786 (host and a port from 1 to 65535), got {address!r}"
    )


def hide_modules(monkeypatch, *names: str) -> None:
    """Make ``import NAME`` fail as if the package were not installed."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_a_scheduler_without_distributed_installed_names_the_extra(monkeypatch, capsys):
    from imgsim.cli import main

    hide_modules(monkeypatch, "distributed", "distributed.comm", "distributed.comm.addressing")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    monkeypatch.setattr(sys, "argv", ["imgsim"])
    with pytest.raises(SystemExit) as exited:
        main(["neighbours", "a.png", "b.png", "--scheduler", "tcp://127.0.0.1:8786"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "imgsim neighbours: error: --scheduler: running on a Dask scheduler needs "
        'distributed: pip install "imgsim[dask]"'
    )


@pytest.fixture
def streamlit_main(monkeypatch):
    """Streamlit's command line, replaced: the arguments it would start the server with."""
    from streamlit.web import cli as streamlit_cli

    calls: list[tuple[list[str], dict]] = []

    def fake_main(args, **options):
        calls.append((list(args), options))
        raise SystemExit(0)  # as click ends a command

    monkeypatch.setattr(streamlit_cli, "main", fake_main)
    return calls


def server_options(arguments: list[str]) -> dict[str, str]:
    """``{"server.address": "127.0.0.1", ...}`` from ``--server.address 127.0.0.1 ...``."""
    names, values = arguments[2::2], arguments[3::2]
    assert all(name.startswith("--") for name in names)
    return {name.removeprefix("--"): value for name, value in zip(names, values, strict=True)}


def test_the_dashboard_starts_streamlit_locally_with_the_safe_settings(streamlit_main):
    from imgsim.cli import main
    from imgsim.dashboard import PAGE

    assert main(["dashboard"]) == 0
    ((arguments, options),) = streamlit_main
    assert arguments[:2] == ["run", str(PAGE)] and options == {"prog_name": "streamlit"}
    given = server_options(arguments)
    assert given["server.address"] == "127.0.0.1" and given["server.port"] == "8501"
    assert given["server.enableXsrfProtection"] == "true"
    assert given["client.showErrorDetails"] == "none"
    assert given["browser.gatherUsageStats"] == "false"


def test_the_dashboard_listens_where_it_is_told(streamlit_main):
    from imgsim.cli import main

    assert main(["dashboard", "--port", "8642", "--address", "0.0.0.0"]) == 0
    given = server_options(streamlit_main[0][0])
    assert given["server.address"] == "0.0.0.0" and given["server.port"] == "8642"
    assert given["server.enableXsrfProtection"] == "true"  # the other settings stay
    assert given["client.showErrorDetails"] == "none"


def test_the_dashboard_serves_the_collection_it_is_given(streamlit_main, monkeypatch, walked):
    from imgsim.cli import main

    monkeypatch.setenv("IMGSIM_COLLECTION", "")  # restored after the test
    monkeypatch.chdir(walked.parent)
    assert main(["dashboard", "--collection", walked.name]) == 0
    assert os.environ["IMGSIM_COLLECTION"] == str(walked.resolve())
    assert len(streamlit_main) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "expected a port from 1 to 65535, got '0'"),
        (["--port", "http"], "expected a port from 1 to 65535, got 'http'"),
        (["--collection", "missing-folder"], "--collection: missing-folder is not a folder"),
        (["--size", "64"], "unrecognized arguments: --size 64"),
    ],
)
def test_dashboard_usage_errors_exit_with_two(args, message):
    completed = run_cli("dashboard", *args)
    assert completed.returncode == 2
    assert completed.stderr.startswith("usage: python -m imgsim dashboard ")
    assert completed.stderr.strip().splitlines()[-1].endswith(message)


def test_the_dashboard_without_streamlit_says_how_to_install_it(monkeypatch, capsys):
    from imgsim.cli import main

    hide_modules(monkeypatch, "streamlit", "streamlit.web", "streamlit.web.cli")
    assert main(["dashboard"]) == 2
    assert capsys.readouterr().err == (
        'imgsim: the dashboard needs Streamlit: pip install "imgsim[app]"\n'
    )


def test_the_cli_imports_neither_streamlit_nor_distributed_until_a_command_needs_them():
    code = (
        "import sys\n"
        "from imgsim.cli._main import build_parser\n"
        "build_parser().parse_args(['dashboard', '--port', '8600'])\n"
        "loaded = {name.split('.')[0] for name in sys.modules}\n"
        "print(sorted(loaded & {'streamlit', 'distributed', 'tqdm'}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        check=False,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "['tqdm']"


def test_a_real_python_m_process_gives_the_exit_statuses_and_reads_the_limits(folder):
    """The few things only a real ``python -m imgsim`` shows; the rest run in process."""
    assert run_process("--version").returncode == 0
    ok = run_process("compare", folder / "a-cat.png", folder / "d-copy.png", "--size", "32")
    assert ok.returncode == 0, ok.stderr
    missing = run_process("compare", folder / "a-cat.png", folder / "nowhere.png")
    assert missing.returncode == 1
    assert "nowhere.png" in missing.stderr
    assert run_process("compare", "--no-such-option").returncode == 2
    limited = run_process(
        "compare", folder / "a-cat.png", folder / "d-copy.png", env={"IMGSIM_MAX_IMAGES": "1"}
    )
    assert limited.returncode == 2
    assert "IMGSIM_MAX_IMAGES" in limited.stderr
