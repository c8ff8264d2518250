"""Benchmark imgsim against the tutorial's method, side by side, in one run.

    python bench/run.py                      # prints the table (takes about 3 minutes)
    python bench/run.py --write BENCHMARKS.md

The tutorial's method is ``skimage.metrics.structural_similarity`` called for
each pair, after the same decoding and resizing. Each case runs in a fresh
process, so that its peak memory (VmHWM, reset before the timed part) is its own.
Times are the best of several runs (the same number on both sides); where the
tutorial's method would take minutes, it is timed on a sample of pairs (or one
pair) and scaled, marked "est.".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import skimage  # noqa: E402
import skimage.data  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

import imgsim  # noqa: E402
from imgsim.engine import score_all_pairs  # noqa: E402

MB = 2**20


def reset_peak_memory() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def memory(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(function, repeats: int = 1, warm: bool = False):
    """Best wall time over ``repeats`` runs, and peak memory above what was in use before.

    With ``warm``, one more run comes first: its memory counts (it is the cold
    run, which maps the memory) but its time does not, so that first-call
    costs do not decide a sub-second timing.
    """
    times, peak = [], 0.0
    for _ in range(repeats + warm):
        base = memory("VmRSS")
        reset_peak_memory()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        peak = max(peak, (memory("VmHWM") - base) / MB)
    return result, min(times[warm:]), peak


def sample_files(count: int) -> list[Path]:
    """Real files that scikit-image installs, decoded by imgsim like uploads."""
    folder = Path(skimage.data.data_dir)
    files = sorted(
        path
        for path in folder.iterdir()
        if imgsim.decoding.is_image_filename(path.name) and "multipage" not in path.name
    )
    return (files * (count // len(files) + 1))[:count]


def prepared(count: int, size: int) -> list[np.ndarray]:
    settings = imgsim.Settings(size=(size, size))
    images = []
    for path in sample_files(count):
        images.append(imgsim.prepare(imgsim.decode(path), settings))
    return images


def skimage_pairs(images, pairs):
    return [structural_similarity(images[i], images[j]) for i, j in pairs]


def floor_seconds(size: int, repeats: int = 5) -> float:
    """One float32 pass over two images (read two, write one): a memory floor per pair."""
    a, b = (np.ones((size, size), np.float32) for _ in range(2))
    out = np.empty_like(a)
    np.add(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.add(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return best


def case_all_pairs(count: int, size: int, reference_pairs: int | None, repeats: int) -> dict:
    images = prepared(count, size)
    pairs = [(i, j) for i in range(count) for j in range(i + 1, count)]
    # Both sides: best of the same number of runs, on the same prepared arrays.
    scores, fast, fast_memory = measure(
        lambda: score_all_pairs(images, "skimage"), repeats, warm=True
    )
    sampled = pairs if reference_pairs is None else pairs[:: max(1, len(pairs) // reference_pairs)]
    reference, slow, slow_memory = measure(lambda: skimage_pairs(images, sampled), repeats)
    difference = max(
        abs(scores.ssim[i, j] - r) for (i, j), r in zip(sampled, reference, strict=True)
    )
    return {
        "imgsim_s": fast,
        "imgsim_mb": fast_memory,
        "reference_s": slow * len(pairs) / len(sampled),
        "reference_measured_pairs": len(sampled),
        "reference_mb": slow_memory,
        "pairs": len(pairs),
        "max_ssim_difference": difference,
        "floor_s_per_pair": floor_seconds(size),
    }


def big_pair() -> list[np.ndarray]:
    """Two different photos resized to 10000 x 10000, as the tutorial did."""
    settings = imgsim.Settings(size=(10000, 10000))
    return [imgsim.prepare(imgsim.decode(path), settings) for path in sample_files(2)]


def case_big_pair(reference: bool) -> dict:
    a, b = big_pair()
    scores, fast, fast_memory = measure(lambda: score_all_pairs([a, b], "skimage"), 3, warm=True)
    result = {"imgsim_s": fast, "imgsim_mb": fast_memory, "ssim": scores.ssim[0, 1]}
    if reference:
        value, slow, slow_memory = measure(lambda: structural_similarity(a, b))
        result |= {
            "reference_s": slow,
            "reference_mb": slow_memory,
            "max_ssim_difference": abs(value - scores.ssim[0, 1]),
        }
    return result


def case_cli(reference: bool) -> dict:
    files = [str(path) for path in sample_files(6)]
    command = [sys.executable, "-m", "imgsim", "compare", *files, "--size", "10000x10000"]
    start = time.perf_counter()
    process = subprocess.Popen([*command, "--format", "json"], cwd=ROOT, stdout=subprocess.PIPE)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)  # reaps the child with its own peak memory
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed")
    pairs = json.loads(output)["pairs"]
    result = {"imgsim_s": elapsed, "pairs": len(pairs), "imgsim_mb": usage.ru_maxrss / 1024}
    if reference:
        # The tutorial's way for one pair: cv2.imread, resize, gray, skimage.
        def tutorial_pair():
            grays = [
                cv2.cvtColor(cv2.resize(cv2.imread(path), (10000, 10000)), cv2.COLOR_BGR2GRAY)
                for path in files[:2]
            ]
            return structural_similarity(*grays)

        _, slow, slow_memory = measure(tutorial_pair)
        result |= {"reference_s": slow * len(pairs), "reference_mb": slow_memory}
    return result


CASES = {
    "20 images 512x512": lambda quick: case_all_pairs(20, 512, None, 5),
    "one pair 10000x10000": lambda quick: case_big_pair(not quick),
    "6 images 10000x10000 via CLI": lambda quick: case_cli(not quick),
    "100 images 128x128": lambda quick: case_all_pairs(100, 128, 200, 5),
    "20 images 2048x2048": lambda quick: case_all_pairs(20, 2048, 10, 3),
}


def run_case(name: str, quick: bool) -> dict:
    """Run one case in a fresh process (so its memory peak is its own)."""
    command = [sys.executable, __file__, "--case", name] + (["--quick"] if quick else [])
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"case {name!r} failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    cores = len(os.sched_getaffinity(0))
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model}, {cores} cores, {memory_gb:.0f} GiB; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, OpenCV {cv2.__version__}, scikit-image {skimage.__version__}"
    )


def table(results: dict[str, dict]) -> str:
    header = (
        "| case | imgsim | tutorial's method | speed-up | max abs SSIM difference "
        "| imgsim peak memory | tutorial's peak memory | per pair | vs float32 floor |"
    )
    lines = [header, "|" + " --- |" * 9]
    for name, result in results.items():
        fast, slow = result["imgsim_s"], result.get("reference_s")
        pairs = result.get("pairs", 1)
        floor = result.get("floor_s_per_pair")
        estimated = result.get("reference_measured_pairs", pairs) < pairs or "CLI" in name
        reference = (
            "not run" if slow is None else f"{slow:.2f} s" + (" (est.)" if estimated else "")
        )
        cells = [
            name,
            f"{fast:.3f} s",
            reference,
            "" if slow is None else f"{slow / fast:.0f}×",
            f"{result['max_ssim_difference']:.1e}" if "max_ssim_difference" in result else "",
            f"{result['imgsim_mb']:.0f} MB" if "imgsim_mb" in result else "",
            f"{result['reference_mb']:.0f} MB" if "reference_mb" in result else "",
            f"{fast / pairs * 1e3:.2f} ms",
            f"{fast / pairs / floor:.0f}× floor" if floor else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(results: dict[str, dict]) -> str:
    """The issue's targets, each with the figure measured in this run."""
    small = results["20 images 512x512"]
    big = results["one pair 10000x10000"]
    cli = results["6 images 10000x10000 via CLI"]
    checks = [
        (
            "20 images 512x512: at least 50x the tutorial's speed",
            small["reference_s"] / small["imgsim_s"] >= 50,
            f"{small['reference_s'] / small['imgsim_s']:.0f}x",
        ),
        (
            "20 images 512x512: every SSIM within 1e-6 of scikit-image",
            small["max_ssim_difference"] <= 1e-6,
            f"{small['max_ssim_difference']:.1e}",
        ),
        ("one pair 10000x10000: at most 1 s", big["imgsim_s"] <= 1, f"{big['imgsim_s']:.2f} s"),
        (
            "one pair 10000x10000: at most 100 MB beyond the inputs",
            big["imgsim_mb"] <= 100,
            f"{big['imgsim_mb']:.0f} MB",
        ),
        (
            "6 images 10000x10000 via CLI: at most 30 s",
            cli["imgsim_s"] <= 30,
            f"{cli['imgsim_s']:.1f} s",
        ),
        (
            "6 images 10000x10000 via CLI: at most 2 GB peak",
            cli["imgsim_mb"] <= 2048,
            f"{cli['imgsim_mb']:.0f} MB",
        ),
    ]
    return "\n".join(
        f"- {'met' if passed else 'MISSED'}: {label} (measured {figure})"
        for label, passed, figure in checks
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="skip the slow 10000² references")
    parser.add_argument("--write", metavar="FILE", help="also write the table as Markdown")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(CASES[args.case](args.quick)))
        return
    results = {}
    for name in CASES:
        print(f"running {name}...", file=sys.stderr, flush=True)
        results[name] = run_case(name, args.quick)
    text = f"Machine: {machine()}\n\n{table(results)}\n\nTargets:\n\n{targets(results)}\n"
    print(text)
    if args.write:
        method = __doc__.split("\n\n", 2)[2].strip()
        Path(args.write).write_text(
            f"# Benchmarks\n\nMeasured by `python bench/run.py --write {args.write}` on "
            f"{time.strftime('%Y-%m-%d')}.\n\n{method}\n\n{text}"
        )


if __name__ == "__main__":
    main()
