"""Benchmark imgsim against the tutorial's method, side by side, in one run.

    python bench/run.py                        # prints the table (about 5 minutes)
    python bench/run.py --write BENCHMARKS.md  # adds this machine's run above the earlier ones

The tutorial's method is ``skimage.metrics.structural_similarity`` called for
each pair, after the same decoding and resizing. Each case runs in a fresh
process, so that its peak memory (VmHWM, reset before the timed part) is its own.
Times are the best of several runs (the same number on both sides, taken in
turns); where the tutorial's method would take minutes, it is timed on a sample
of pairs (or one pair) and scaled, marked "est.". imgsim's kernels are warmed first (their
first-call latency, compiling and loading from Numba's cache, is its own row).
"ns/pixel-pair" is imgsim's time per pair per pixel (per channel for colour);
"floor" divides it by one float32 pass over two images of that size (read two,
write one) on one core: a memory floor per pair. "CPU ns/pixel-pair" is the
same from CPU time summed over imgsim's threads (2 cores: about twice the wall
figure on a quiet machine); other processes on a shared machine inflate wall
times much more than it, so it is the figure to compare across loaded runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
import skimage  # noqa: E402
import skimage.data  # noqa: E402
from imgsim.engine import score_all_pairs, score_block_pairs, warm_up  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

import imgsim  # noqa: E402

MB = 2**20


def reset_peak_memory() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def memory(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


class Measured(NamedTuple):
    result: object
    seconds: float  # best wall time
    peak_mb: float  # peak memory above what was in use before
    cpu_seconds: float  # best CPU time of all threads: the work, which load disturbs less


def measure(function, repeats: int = 1, warm: bool = False) -> Measured:
    """Best wall and CPU time over ``repeats`` runs, and the peak memory.

    With ``warm``, one more run comes first: its memory counts (it is the cold
    run, which maps the memory) but its time does not, so that first-call
    costs do not decide a sub-second timing.
    """
    times, cpu_times, peak = [], [], 0.0
    for _ in range(repeats + warm):
        base = memory("VmRSS")
        reset_peak_memory()
        start, cpu_start = time.perf_counter(), time.process_time()
        result = function()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        peak = max(peak, (memory("VmHWM") - base) / MB)
    return Measured(result, min(times[warm:]), peak, min(cpu_times[warm:]))


def alternate(fast, slow, repeats: int) -> tuple[Measured, Measured]:
    """Both sides measured in turns (fast, slow, fast, slow...), best of ``repeats`` each.

    On a shared machine the load changes from second to second; taking turns
    gives both sides the same chances, so their ratio means more than two
    series measured one after the other. The fast side is warmed first.
    """
    fast_runs = [measure(fast, 1, warm=True)]
    slow_runs = [measure(slow, 1)]
    for _ in range(repeats - 1):
        fast_runs.append(measure(fast, 1))
        slow_runs.append(measure(slow, 1))

    def best(runs: list[Measured]) -> Measured:
        return Measured(
            runs[-1].result,
            min(run.seconds for run in runs),
            max(run.peak_mb for run in runs),
            min(run.cpu_seconds for run in runs),
        )

    return best(fast_runs), best(slow_runs)


def sample_files(count: int) -> list[Path]:
    """Real files that scikit-image installs, decoded by imgsim like uploads."""
    folder = Path(skimage.data.data_dir)
    files = sorted(
        path
        for path in folder.iterdir()
        if imgsim.decoding.is_image_filename(path.name) and "multipage" not in path.name
    )
    return (files * (count // len(files) + 1))[:count]


def prepared(count: int, size: int, grayscale: bool = True) -> list[np.ndarray]:
    settings = imgsim.Settings(size=(size, size), grayscale=grayscale)
    images = []
    for path in sample_files(count):
        images.append(imgsim.prepare(imgsim.decode(path), settings))
    return images


def reference_ssim(a: np.ndarray, b: np.ndarray, convention: str) -> float:
    """The tutorial's call, with the options that select the convention.

    scikit-image has no MS-SSIM: its reference is the tests' direct float64
    implementation of TF's formula (`tests/unit/metrics/reference_msssim.py`).
    """
    if convention == "ms-ssim":
        from tests.unit.metrics.reference_msssim import reference_ms_ssim

        return reference_ms_ssim(a, b)
    options = {"channel_axis": 2} if a.ndim == 3 else {}
    if convention == "gaussian":
        options |= {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}
    return structural_similarity(a, b, data_range=255, **options)


def skimage_pairs(images, pairs, convention="skimage"):
    return [reference_ssim(images[i], images[j], convention) for i, j in pairs]


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


def case_all_pairs(
    count: int,
    size: int,
    reference_pairs: int | None,
    repeats: int,
    convention: str = "skimage",
    grayscale: bool = True,
    beside: str | None = None,
) -> dict:
    """All pairs against the reference; with ``beside``, also against that convention.

    The two conventions are timed in turns in one run, so that their ratio
    holds on a loaded machine.
    """
    images = prepared(count, size, grayscale)
    pairs = [(i, j) for i in range(count) for j in range(i + 1, count)]
    warm_up()
    sampled = pairs if reference_pairs is None else pairs[:: max(1, len(pairs) // reference_pairs)]
    (scores, fast, fast_memory, fast_cpu), (reference, slow, slow_memory, _) = alternate(
        lambda: score_all_pairs(images, convention),
        lambda: skimage_pairs(images, sampled, convention),
        repeats,
    )
    difference = max(
        abs(scores.ssim[i, j] - r) for (i, j), r in zip(sampled, reference, strict=True)
    )
    ratios = {}
    if beside is not None:
        this, other = alternate(
            lambda: score_all_pairs(images, convention),
            lambda: score_all_pairs(images, beside),
            repeats,
        )
        ratios = {
            "beside": beside,
            "beside_ratio": this.seconds / other.seconds,
            "beside_cpu_ratio": this.cpu_seconds / other.cpu_seconds,
        }
    return ratios | {
        "imgsim_s": fast,
        "imgsim_cpu_s": fast_cpu,
        "imgsim_mb": fast_memory,
        "reference_s": slow * len(pairs) / len(sampled),
        "reference_measured_pairs": len(sampled),
        "reference_mb": slow_memory,
        "pairs": len(pairs),
        "values": images[0].size,
        "channels": 1 if grayscale else 3,
        "max_ssim_difference": difference,
        "floor_s_per_pair": floor_seconds(size),
    }


def case_block_pairs(count: int, size: int, repeats: int) -> dict:
    """Block A x block B (the collections' form) against all pairs, per pair, in one run.

    The ratio is of CPU time per pair. A block of n x n pairs has 2n images, all
    pairs of 2n images 2n(2n - 1)/2 pairs: the per-image statistics are shared by
    about half as many pairs, so a few percent more per pair is expected.
    """
    images = prepared(2 * count, size)
    first, second = images[:count], images[count:]
    warm_up()
    block, fast, fast_memory, block_cpu = measure(
        lambda: score_block_pairs(first, second, "skimage"), repeats, warm=True
    )
    whole_cpu = measure(lambda: score_all_pairs(images, "skimage"), repeats, warm=True).cpu_seconds
    whole_pairs = len(images) * (len(images) - 1) // 2
    sampled = [(i, j) for i in range(0, count, 4) for j in range(0, count, 4)]
    difference = max(
        abs(block.ssim[i, j] - reference_ssim(first[i], second[j], "skimage")) for i, j in sampled
    )
    return {
        "imgsim_s": fast,
        "imgsim_cpu_s": block_cpu,
        "imgsim_mb": fast_memory,
        "pairs": count * count,
        "values": images[0].size,
        "channels": 1,
        "max_ssim_difference": difference,
        "cpu_per_pair_ratio": (block_cpu / count**2) / (whole_cpu / whole_pairs),
        "floor_s_per_pair": floor_seconds(size),
    }


FIRST_CALL = """
import time
start = time.perf_counter()
import numpy as np
from imgsim.engine import score_all_pairs
imported = time.perf_counter()
images = [np.zeros((64, 64), np.uint8), np.full((64, 64), 9, np.uint8)]
score_all_pairs(images, "skimage")
score_all_pairs(images, "gaussian")
score_all_pairs([np.zeros((161, 161), np.uint8), np.ones((161, 161), np.uint8)], "ms-ssim")
print(imported - start, time.perf_counter() - imported)
"""


def case_first_call() -> dict:
    """The first scores in a fresh process: compiling (empty cache), then loading the cache."""
    with tempfile.TemporaryDirectory(prefix="imgsim-bench-") as folder:
        env = {**os.environ, "NUMBA_CACHE_DIR": folder}

        def run() -> tuple[float, float]:
            completed = subprocess.run(
                [sys.executable, "-c", FIRST_CALL],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
                env=env,
            )
            imported, first = map(float, completed.stdout.split())
            return imported, first

        _, compiled = run()
        imported, cached = run()
    return {"import_s": imported, "compile_s": compiled, "cached_s": cached}


def big_pair() -> list[np.ndarray]:
    """Two different photos resized to 10000 x 10000, as the tutorial did."""
    settings = imgsim.Settings(size=(10000, 10000))
    return [imgsim.prepare(imgsim.decode(path), settings) for path in sample_files(2)]


def case_big_pair(reference: bool) -> dict:
    a, b = big_pair()
    warm_up()
    scores, fast, fast_memory, fast_cpu = measure(
        lambda: score_all_pairs([a, b], "skimage"), 3, warm=True
    )
    result = {
        "imgsim_s": fast,
        "imgsim_cpu_s": fast_cpu,
        "imgsim_mb": fast_memory,
        "ssim": scores.ssim[0, 1],
        "values": a.size,
    }
    if reference:
        value, slow, slow_memory, _ = measure(lambda: structural_similarity(a, b))
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

        _, slow, slow_memory, _ = measure(tutorial_pair)
        result |= {"reference_s": slow * len(pairs), "reference_mb": slow_memory}
    return result


CASES = {
    "20 images 512x512": lambda quick: case_all_pairs(20, 512, None, 5),
    "300 images 128x128": lambda quick: case_all_pairs(300, 128, 200, 3),
    "20 images 512x512, gaussian": lambda quick: case_all_pairs(20, 512, 20, 5, "gaussian"),
    "20 images 512x512, colour": lambda quick: case_all_pairs(20, 512, 20, 5, grayscale=False),
    "20 images 512x512, ms-ssim": lambda quick: case_all_pairs(
        20, 512, 5, 5, "ms-ssim", beside="gaussian"
    ),
    "20 x 20 block 512x512": lambda quick: case_block_pairs(20, 512, 5),
    "one pair 10000x10000": lambda quick: case_big_pair(not quick),
    "6 images 10000x10000 via CLI": lambda quick: case_cli(not quick),
    "20 images 2048x2048": lambda quick: case_all_pairs(20, 2048, 10, 3),
    "first call": lambda quick: case_first_call(),
}


def run_case(name: str, quick: bool) -> dict:
    """Run one case in a fresh process (so its memory peak is its own)."""
    command = [sys.executable, __file__, "--case", name] + (["--quick"] if quick else [])
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"case {name!r} failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def cache_sizes() -> str:
    sizes = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        level, kind = (index / "level").read_text().strip(), (index / "type").read_text().strip()
        if kind != "Instruction":
            sizes[f"L{level}"] = (index / "size").read_text().strip()
    return ", ".join(f"{level} {size}" for level, size in sizes.items())


def machine() -> str:
    model, flags = "unknown CPU", set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and model == "unknown CPU":
            model = line.split(":", 1)[1].strip()
        if line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    cores = len(os.sched_getaffinity(0))
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{model} ({vectors}; {cache_sizes()} per core/shared), {cores} cores, "
        f"{memory_gb:.0f} GiB; load average at start {load}; Python "
        f"{platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}, "
        f"OpenCV {cv2.__version__}, scikit-image {skimage.__version__}"
    )


def ns_per_pixel_pair(result: dict) -> float | None:
    if "values" not in result:
        return None
    return result["imgsim_s"] / result.get("pairs", 1) / result["values"] * 1e9


def table(results: dict[str, dict]) -> str:
    header = (
        "| case | imgsim | tutorial's method | speed-up | max abs SSIM difference "
        "| imgsim peak memory | tutorial's peak memory | ns/pixel-pair | vs float32 floor "
        "| CPU ns/pixel-pair |"
    )
    lines = [header, "|" + " --- |" * 10]
    for name, result in results.items():
        if "imgsim_s" not in result:
            continue
        fast, slow = result["imgsim_s"], result.get("reference_s")
        pairs = result.get("pairs", 1)
        floor = result.get("floor_s_per_pair")
        nanoseconds = ns_per_pixel_pair(result)
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
            "" if nanoseconds is None else f"{nanoseconds:.2f}",
            # The floor's pass is over one value per pixel, as a gray pair.
            f"{nanoseconds / (floor / result['values'] * result['channels'] * 1e9):.1f}× floor"
            if floor
            else "",
            f"{result['imgsim_cpu_s'] / pairs / result['values'] * 1e9:.2f}"
            if "imgsim_cpu_s" in result
            else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    multiscale = results.get("20 images 512x512, ms-ssim")
    if multiscale is not None:
        lines.append(
            f"\nMS-SSIM (20 images 512 × 512, gray) takes "
            f"{multiscale['beside_ratio']:.2f}× the Gaussian convention's time (CPU time "
            f"{multiscale['beside_cpu_ratio']:.2f}×), the two timed in turns in the same run; "
            'its "tutorial\'s method" column is a direct float64 NumPy/SciPy MS-SSIM '
            "(`tests/unit/metrics/reference_msssim.py`; scikit-image has none), "
            "on a sample of pairs."
        )
    first = results["first call"]
    lines.append(
        f"\nFirst call in a fresh process (gray and Gaussian, 64 × 64, then MS-SSIM 161 × 161): "
        f"{first['compile_s']:.1f} s with an empty Numba cache (compiling), "
        f"{first['cached_s']:.2f} s with the cache (loading), after "
        f"{first['import_s']:.2f} s to import imgsim.engine."
    )
    return "\n".join(lines)


def targets(results: dict[str, dict]) -> str:
    """The issue's targets, each with the figure measured in this run."""
    small = results["20 images 512x512"]
    many = results["300 images 128x128"]
    gaussian = results["20 images 512x512, gaussian"]
    colour = results["20 images 512x512, colour"]
    multiscale = results["20 images 512x512, ms-ssim"]
    block = results["20 x 20 block 512x512"]
    big = results["one pair 10000x10000"]
    cli = results["6 images 10000x10000 via CLI"]
    speed_up = small["reference_s"] / small["imgsim_s"]
    default_ns = ns_per_pixel_pair(small)
    block_ratio = block["cpu_per_pair_ratio"]
    # (label, met, measured, why when missed)
    checks = [
        ("20 images 512x512: at least 100x the tutorial's speed", speed_up >= 100,
         f"{speed_up:.0f}x", ""),
        ("20 images 512x512: every SSIM within 5e-7 of scikit-image",
         small["max_ssim_difference"] <= 5e-7, f"{small['max_ssim_difference']:.1e}", ""),
        ("gray all pairs, 300 images 128x128: at most 1 ns per pixel-pair",
         ns_per_pixel_pair(many) <= 1, f"{ns_per_pixel_pair(many):.2f} ns", ""),
        ("gray all pairs, 20 images 512x512: at most 1 ns per pixel-pair",
         default_ns <= 1, f"{default_ns:.2f} ns", ""),
        ("Gaussian convention within 2x of the default's ns per pixel-pair (512x512)",
         ns_per_pixel_pair(gaussian) <= 2 * default_ns,
         f"{ns_per_pixel_pair(gaussian) / default_ns:.1f}x",
         "its 11 x 11 weights are not integers, so its window sums are filtered in float64 "
         "(float32 is 7e-6 off on flat regions): about 30 float64 operations per pixel-pair "
         "against 7 integer additions"),
        ("MS-SSIM: every value within 1e-6 of the direct reference (512x512)",
         multiscale["max_ssim_difference"] <= 1e-6,
         f"{multiscale['max_ssim_difference']:.1e}", ""),
        ("colour within 2x of gray per channel (512x512)",
         ns_per_pixel_pair(colour) <= 2 * default_ns,
         f"{ns_per_pixel_pair(colour) / default_ns:.1f}x", ""),
        ("block 20 x 20 at the speed per pair of all pairs of its 40 images (within 15%)",
         block_ratio <= 1.15, f"{block_ratio:.2f}x the CPU time per pair", ""),
        ("one pair 10000x10000: at most 0.4 s", big["imgsim_s"] <= 0.4,
         f"{big['imgsim_s']:.2f} s", ""),
        ("one pair 10000x10000: at most 100 MB beyond the inputs", big["imgsim_mb"] <= 100,
         f"{big['imgsim_mb']:.0f} MB", ""),
        ("6 images 10000x10000 via CLI: at most 5 s", cli["imgsim_s"] <= 5,
         f"{cli['imgsim_s']:.1f} s", "it includes starting Python and decoding and "
         "resizing six photos to 10000 x 10000 (OpenCV), besides the engine's 15 pairs"),
        ("6 images 10000x10000 via CLI: at most 2 GB peak", cli["imgsim_mb"] <= 2048,
         f"{cli['imgsim_mb']:.0f} MB", ""),
    ]  # fmt: skip
    return "\n".join(
        f"- {'met' if passed else 'MISSED'}: {label} (measured {figure})"
        + ("" if passed or not why else f"; why: {why}")
        for label, passed, figure, why in checks
    )


def write(path: Path, text: str) -> None:
    """Add this run above the earlier ones (other machines' rows are kept)."""
    marker = "<!-- runs, newest first -->"
    method = __doc__.split("\n\n", 2)[2].strip()
    earlier = ""
    if path.exists() and marker in path.read_text():
        earlier = path.read_text().split(marker, 1)[1].strip()
    run = f"## {time.strftime('%Y-%m-%d')}\n\n{text.strip()}"
    path.write_text(
        f"# Benchmarks\n\nMeasured by `python bench/run.py --write {path.name}`, one section "
        f"per run and machine, newest first.\n\n{method}\n\n{marker}\n\n{run}\n\n{earlier}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="skip the slow 10000² references")
    parser.add_argument("--write", metavar="FILE", help="also add the run to FILE as Markdown")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=CASES,
        metavar="CASE",
        help="run only these cases (raw figures)",
    )
    args = parser.parse_args()
    if args.case:
        print(json.dumps(CASES[args.case](args.quick)))
        return
    results = {}
    for name in args.only or CASES:
        print(f"running {name}...", file=sys.stderr, flush=True)
        results[name] = run_case(name, args.quick)
        print(json.dumps(results[name]), file=sys.stderr, flush=True)
    if args.only:
        return
    text = f"Machine: {machine()}\n\n{table(results)}\n\nTargets:\n\n{targets(results)}\n"
    print(text)
    if args.write:
        write(Path(args.write), text)


if __name__ == "__main__":
    main()
