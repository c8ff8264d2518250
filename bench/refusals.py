"""How fast hostile inputs are refused (the wall-clock checks kept out of unit tests).

    python bench/refusals.py

Decompression bombs (PNG headers claiming 12000 x 12000 and 50000 x 50000
pixels, with almost no data) must be refused from their header within 2 s, and
requests over the size bound before anything is decoded. Prints one line per
case, with the best of five runs, and exits 1 if a target is missed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import imgsim  # noqa: E402
from tests.helpers.images import png_header_only  # noqa: E402

TARGET_SECONDS = 2.0
REPEATS = 5


def best_of(function) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def refuse_bomb(side: int) -> None:
    try:
        imgsim.decode(png_header_only(side, side), "bomb.png")
    except imgsim.ImageReadError:
        return
    raise AssertionError(f"a {side} x {side} bomb was decoded")


def refuse_size() -> None:
    try:
        imgsim.compare([("a.png", b"never decoded")] * 2, size=(60000, 60000))
    except imgsim.LimitError:
        return
    raise AssertionError("--size 60000x60000 was not refused")


def main() -> int:
    cases = {
        "12000 x 12000 bomb refused from its header": lambda: refuse_bomb(12000),
        "50000 x 50000 bomb refused from its header": lambda: refuse_bomb(50000),
        "60000 x 60000 target size refused before decoding": refuse_size,
    }
    missed = 0
    for label, function in cases.items():
        seconds = best_of(function)
        met = seconds <= TARGET_SECONDS
        missed += not met
        print(f"{'met' if met else 'MISSED'}: {label} in {seconds * 1e3:.3f} ms")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
