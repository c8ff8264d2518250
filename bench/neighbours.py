"""Benchmark `neighbours` on a generated collection, in process and on a local Dask cluster.

    python bench/neighbours.py                          # 2,000 images (minutes: both runs)
    python bench/neighbours.py --count 10000 --no-dask  # the issue's large case
    python bench/neighbours.py --write BENCHMARKS.md    # also replace its section there
    python bench/neighbours.py --window-stats           # what caching window statistics would save
    python bench/neighbours.py --killed-run             # a run killed halfway, and its rerun

The collection: random crops of the photos that scikit-image installs (random
place, scale and mirror; flat ones such as a patch of sky are drawn again),
128 x 128, saved as JPEG; one image in ten is a near-duplicate of another
(shifted by up to a pixel, rescaled down and up, recompressed at JPEG quality
70 to 90 and noised), and which ones is known. Each run is a fresh process
(`python -m imgsim neighbours`, top 10, groups at --min-ssim) timed from
outside, its peak memory from the kernel (ru_maxrss);
for Dask, the same command against a scheduler and two worker processes with
one thread each, on the same machine, and the workers' own peaks (VmHWM).
Recall and precision compare the pairs at --min-ssim with the injected ones.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Imports from the checkout (imgsim, tests.dask_cluster) without installing it.
sys.path[0] = str(ROOT)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import skimage.data  # noqa: E402
from PIL import Image  # noqa: E402

import imgsim.collection  # noqa: E402
from imgsim.collection import neighbours  # noqa: E402
from imgsim.collection._tiles import block_size_for  # noqa: E402
from imgsim.metrics import score_all_pairs, score_block_pairs, warm_up  # noqa: E402
from imgsim.metrics._windows import WINDOWS, Workspace  # noqa: E402
from imgsim.settings import Settings  # noqa: E402
from imgsim.timing import FALLBACK_RATES  # noqa: E402
from tests.e2e.dask_cluster import dask_client, dask_cluster  # noqa: E402

SIDE = 128
TOP = 10
MIN_SSIM = 0.5
DUPLICATE_SHARE = 0.1
MIN_CONTRAST = 40  # grey levels of standard deviation
SECTION = "## Collections"
TARGET_SECONDS_10K = 15 * 60
TARGET_BYTES = 2 * 2**30
TARGET_DASK_RATIO = 1.3


# Photos with detail everywhere: crops of smooth ones (the moon, the night sky,
# a page) look alike to any measure and are not what near-duplicates are about.
PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
    "grass.png", "gravel.png", "ihc.png", "motorcycle_left.png", "rocket.jpg",
)  # fmt: skip


def photos() -> list[np.ndarray]:
    images = []
    for name in PHOTOS:
        with Image.open(Path(skimage.data.data_dir) / name) as image:
            images.append(np.asarray(image.convert("RGB")))
    return images


def textured_crop(sources: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """A random crop (place, scale) of a random photo, with detail (not a patch of sky)."""
    while True:
        photo = sources[rng.integers(len(sources))]
        height, width = photo.shape[:2]
        side = int(rng.uniform(0.3, 1.0) * min(height, width))
        y, x = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        canvas = cv2.resize(photo[y : y + side, x : x + side], (SIDE + 4, SIDE + 4), cv2.INTER_AREA)
        if cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY).std() >= MIN_CONTRAST:
            return canvas


def generate(folder: Path, count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Write ``count`` JPEGs; return the injected near-duplicate pairs (names)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sources = photos()
    originals = count - round(count * DUPLICATE_SHARE)
    canvases, images, family = [], [], []
    for index in range(originals):
        canvas = textured_crop(sources, rng)
        if rng.random() < 0.5:
            canvas = canvas[:, ::-1]
        canvases.append(canvas)
        images.append((canvas[2 : 2 + SIDE, 2 : 2 + SIDE], 95))
        family.append(index)
    for _ in range(count - originals):
        index = int(rng.integers(originals))
        dy, dx = rng.integers(-1, 2, size=2)
        variant = canvases[index][2 + dy : 2 + dy + SIDE, 2 + dx : 2 + dx + SIDE]
        small = round(SIDE * rng.uniform(0.75, 0.95))
        variant = cv2.resize(cv2.resize(variant, (small, small), cv2.INTER_AREA), (SIDE, SIDE))
        noisy = variant + rng.normal(0, rng.uniform(0.5, 2), variant.shape)
        images.append((np.clip(noisy, 0, 255).astype(np.uint8), int(rng.integers(70, 91))))
        family.append(index)
    order = rng.permutation(count)
    names = [""] * count
    for slot, index in enumerate(order):
        image, quality = images[index]
        names[index] = f"img-{slot:05d}.jpg"
        Image.fromarray(np.ascontiguousarray(image)).save(folder / names[index], quality=quality)
    members: dict[int, list[str]] = {}
    for index, origin in enumerate(family):
        members.setdefault(origin, []).append(names[index])
    truth = [pair for group in members.values() for pair in combinations(sorted(group), 2)]
    (folder / "truth.json").write_text(json.dumps(truth))
    return truth


def run(folder: Path, output: Path, scheduler: str | None = None) -> dict:
    """One `neighbours` run in a fresh process: wall time and peak memory."""
    command = [
        sys.executable, "-m", "imgsim", "neighbours", str(folder), "--size", str(SIDE),
        "--top", str(TOP), "--min-ssim", str(MIN_SSIM), "--format", "json", "-o", str(output),
    ]  # fmt: skip
    if scheduler:
        command += ["--scheduler", scheduler]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"neighbours failed ({process.returncode}):\n{errors}")
    return {"seconds": seconds, "peak_bytes": usage.ru_maxrss * 1024}


def accuracy(output: Path, truth: list[tuple[str, str]]) -> tuple[float, float, int]:
    document = json.loads(output.read_text())
    found = {tuple(sorted((pair["a"], pair["b"]))) for pair in document["pairs"]}
    expected = {tuple(pair) for pair in truth}
    hits = len(found & expected)
    return hits / max(1, len(expected)), hits / max(1, len(found)), len(document["groups"])


def cross_tile_cost() -> float:
    """Time of a cross tile (block x block) over a triangle tile (within a block).

    It has twice the pairs, so 2 is ideal; an engine that scores a cross tile
    as all pairs of both blocks together costs about 4.
    """
    block = block_size_for(Settings(size=(SIDE, SIDE)))
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (SIDE, SIDE), dtype=np.uint8) for _ in range(2 * block)]
    start = time.perf_counter()
    score_all_pairs(images[:block], "skimage")
    triangle = time.perf_counter() - start
    start = time.perf_counter()
    score_block_pairs(images[:block], images[block:], "skimage")
    return (time.perf_counter() - start) / triangle


def worker_peaks(client) -> int:
    def peak() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    return sum(client.run(peak).values())


def window_statistics(folder: Path, scratch: Path) -> str:
    """What keeping each image's window statistics in the cache could save.

    The engine computes every image's statistics (window sums, mu^2 + C1/2,
    sigma^2 + C2/2) afresh in each tile, then scores the tile's pairs with
    them. Here one in-process run of the whole job counts the CPU time spent
    in the statistics kernel (summed over the engine's threads) against the
    run's CPU time; then the statistics of every image are computed once,
    whole, and written to disk one file an image, and read back (from the
    page cache: a lower bound on reading them from disk).
    """
    window = WINDOWS["skimage"]
    real_stats = window.stats
    spent = [0.0, 0]
    lock = threading.Lock()

    def timed_stats(planes, owned, workspace):
        start = time.thread_time()  # CPU time of this thread: the load of others does not count
        stats = real_stats(planes, owned, workspace)
        with lock:
            spent[0] += time.thread_time() - start
            spent[1] += len(planes)
        return stats

    paths = sorted(folder.glob("*.jpg"))
    settings = Settings(size=(SIDE, SIDE))
    warm_up()  # the kernels compiled or loaded first: their first-call latency is not the job's
    window.stats = timed_stats
    try:
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        neighbours(paths, top=TOP, min_ssim=MIN_SSIM, settings=settings)
        job_cpu, job_wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    finally:
        del window.stats  # the class's method again
    stats_cpu, computed = spent
    # Every image's statistics once, whole (one strip of the full height).
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (len(paths), SIDE, SIDE), dtype=np.uint8)
    owned = (slice(0, SIDE), slice(0, SIDE))
    start = time.thread_time()
    for image in images:
        stats = window.stats(image[None], owned, Workspace())
    once = (time.thread_time() - start) / len(images)
    stored = scratch / "window-stats"
    stored.mkdir()
    for index in range(len(images)):
        np.savez(stored / f"{index}.npz", mean=stats.mean, mean_sq=stats.mean_sq, var=stats.var)
    start = time.perf_counter()
    for index in range(len(images)):
        with np.load(stored / f"{index}.npz") as loaded:
            for name in ("mean", "mean_sq", "var"):
                loaded[name]
    loading = (time.perf_counter() - start) / len(images)
    per_image = stats.mean.nbytes + stats.mean_sq.nbytes + stats.var.nbytes
    block = block_size_for(settings)
    return (
        f"Window statistics, {len(paths)} images of {SIDE} x {SIDE}, top {TOP}, groups at "
        f"--min-ssim {MIN_SSIM}, in process (block {block}); load average "
        f"{os.getloadavg()[0]:.1f}:\n"
        f"- the job: {job_wall:.1f} s wall, {job_cpu:.1f} s CPU;\n"
        f"- the statistics kernel, in every tile: {stats_cpu:.2f} s CPU "
        f"({stats_cpu / job_cpu:.1%} of the job's CPU time), {computed:,} image-strips;\n"
        f"- each image's statistics once, whole: {once * 1e6:.0f} us CPU an image "
        f"({once * len(paths):.3f} s for all {len(paths)});\n"
        f"- stored, {per_image / 1024:.0f} KB an image ({per_image * len(paths) / 2**20:.0f} MB "
        f"for all): read back from the page cache in {loading * 1e6:.0f} us an image "
        f"({loading / once:.1f}x computing them).\n"
    )


def killed_run(folder: Path, scratch: Path) -> str:
    """A run with --cache killed halfway through its tiles, and its rerun.

    In process: the run is stopped (an exception, as a kill would) once half
    its tiles are in the cache's journal; the rerun's time and pairs scored
    are set beside a run without a cache and one with a fresh cache (which
    also writes every prepared image and tile).
    """
    paths = sorted(folder.glob("*.jpg"))
    options = {"top": TOP, "min_ssim": MIN_SSIM, "settings": Settings(size=(SIDE, SIDE))}
    warm_up()
    timings = {}  # wall and CPU seconds (CPU time: what other processes' load does not inflate)

    def timed(label: str, run: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return run()
        finally:
            timings[label] = (time.perf_counter() - wall, time.process_time() - cpu)

    plain = timed("no cache", lambda: neighbours(paths, **options))
    timed("fresh cache", lambda: neighbours(paths, cache=scratch / "fresh-cache", **options))
    journal = imgsim.collection._store.Journal
    real_store = journal.store
    stored, spent = [0], [0.0]
    blocks = len(range(0, len(paths), block_size_for(options["settings"])))
    tiles = blocks * (blocks + 1) // 2
    half = max(1, tiles // 2)

    def store_then_die(self, *tile):
        begin = time.perf_counter()
        real_store(self, *tile)
        spent[0] += time.perf_counter() - begin
        stored[0] += 1
        if stored[0] == half:
            raise KeyboardInterrupt

    cache = scratch / "killed-cache"
    journal.store = store_then_die
    try:
        timed("killed halfway", lambda: neighbours(paths, cache=cache, **options))
    except KeyboardInterrupt:
        pass
    finally:
        journal.store = real_store
    size = sum(path.stat().st_size for path in (cache / "tiles").rglob("*") if path.is_file())
    rerun = timed("its rerun", lambda: neighbours(paths, cache=cache, **options))
    same = np.array_equal(rerun.index, plain.index) and np.array_equal(rerun.ssim, plain.ssim)
    pairs = len(paths) * (len(paths) - 1) // 2
    lines = [
        f"A run killed halfway, {len(paths)} images of {SIDE} x {SIDE}, top {TOP}, groups at "
        f"--min-ssim {MIN_SSIM}, in process; load average {os.getloadavg()[0]:.1f}:",
        *(f"- {label}: {wall:.1f} s ({cpu:.1f} s CPU)" for label, (wall, cpu) in timings.items()),
        f"- killed once {half} of {tiles} tiles were in the journal "
        f"({size / 2**20:.1f} MB; writing them took {spent[0]:.2f} s); the rerun scored "
        f"{rerun.pairs_computed:,} of {pairs:,} pairs; its results equal the run's without "
        f"a cache: {'yes' if same else 'NO'}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask run")
    parser.add_argument("--write", metavar="FILE", help="replace the Collections section there")
    parser.add_argument(
        "--window-stats",
        action="store_true",
        help="only measure what caching the window statistics would save",
    )
    parser.add_argument(
        "--killed-run",
        action="store_true",
        help="only measure a run with --cache killed halfway, and its rerun",
    )
    args = parser.parse_args()
    if args.window_stats or args.killed_run:
        measure = window_statistics if args.window_stats else killed_run
        with tempfile.TemporaryDirectory(prefix="imgsim-bench-") as scratch:
            generate(Path(scratch) / "collection", args.count)
            print(measure(Path(scratch) / "collection", Path(scratch)))
        return
    with tempfile.TemporaryDirectory(prefix="imgsim-bench-") as scratch:
        folder = Path(scratch) / "collection"
        truth = generate(folder, args.count)
        pairs = args.count * (args.count - 1) // 2
        rows = []
        load = os.getloadavg()
        cost = cross_tile_cost()
        print(f"running {args.count} images in process...", file=sys.stderr, flush=True)
        local = run(folder, Path(scratch) / "local.json")
        recall, precision, groups = accuracy(Path(scratch) / "local.json", truth)
        rows.append(("in process", local, None))
        if not args.no_dask:
            print("running on a local Dask cluster...", file=sys.stderr, flush=True)
            cluster = dask_cluster(Path(scratch) / "cluster", workers=2)
            with cluster as scheduler_file, dask_client(scheduler_file, workers=2) as client:
                address = client.scheduler.address
                distributed = run(folder, Path(scratch) / "dask.json", address)
                workers = worker_peaks(client)
            same = json.loads((Path(scratch) / "dask.json").read_text()) == json.loads(
                (Path(scratch) / "local.json").read_text()
            )
            rows.append(("Dask, 2 worker processes", distributed, workers))
    values = SIDE * SIDE
    lines = [
        f"{args.count} images of {SIDE} x {SIDE} (grayscale), top {TOP}, groups at "
        f"--min-ssim {MIN_SSIM}; {pairs:,} pairs; {len(truth)} injected near-duplicate pairs. "
        f"Load average (other processes on this machine) {load[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after.",
        "",
        "| run | time | peak memory | pairs per second | ns per pixel-pair |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, result, workers in rows:
        memory = f"{result['peak_bytes'] / 2**20:.0f} MB"
        if workers is not None:
            memory += f" (client) + {workers / 2**20:.0f} MB (workers)"
        seconds = result["seconds"]
        lines.append(
            f"| {label} | {seconds:.1f} s | {memory} | {pairs / seconds:,.0f} | "
            f"{seconds / (pairs * values) * 1e9:.2f} |"
        )
    lines += [
        "",
        f"Near-duplicates at --min-ssim {MIN_SSIM}: recall {recall:.1%}, precision "
        f"{precision:.1%} ({groups} groups).",
    ]
    if len(rows) > 1:
        ratio = rows[1][1]["seconds"] / rows[0][1]["seconds"]
        verdict = "met" if ratio <= TARGET_DASK_RATIO else "MISSED"
        lines.append(
            f"Dask against in process: {ratio:.2f}x ({verdict}: target at most "
            f"{TARGET_DASK_RATIO}x); results identical: {'yes' if same else 'NO'}."
        )
    lines.append(
        f"A cross tile (block x block) costs {cost:.1f}x a tile within one block "
        "(2 is ideal: twice the pairs; about 4 when the engine scores it as all pairs "
        "of both blocks)."
    )
    seconds_per_pair = local["seconds"] / pairs
    projected = seconds_per_pair * 10_000 * 9_999 / 2
    large = "measured" if args.count == 10_000 else "projected from this run's pair rate"
    verdict = "met" if projected <= TARGET_SECONDS_10K else "MISSED"
    lines.append(
        f"10,000 images ({large}): {projected / 60:.0f} min ({verdict}: target at most "
        f"{TARGET_SECONDS_10K // 60} min; the engine's own estimate is "
        f"{FALLBACK_RATES.pair_value * values * 10_000 * 9_999 / 2 / 60:.0f} min)."
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        write_section(Path(args.write), text, args.count)


def write_section(path: Path, text: str, count: int) -> None:
    """Replace (or add) the Collections section of BENCHMARKS.md, leaving the rest."""
    method = __doc__.split("\n\n", 2)[2].strip()
    section = (
        f"{SECTION}\n\nMeasured by `python bench/neighbours.py --count {count} --write "
        f"{path.name}` on {time.strftime('%Y-%m-%d')}.\n\n{method}\n\n{text}"
    )
    existing = path.read_text() if path.exists() else ""
    before = existing.split(SECTION, 1)[0].rstrip()
    path.write_text((before + "\n\n" if before else "") + section)


if __name__ == "__main__":
    main()
