"""What SSIM's three terms cost for every pair, against plain `compare`, in one run.

    python bench/terms.py                        # prints the table (about a minute)
    python bench/terms.py --write BENCHMARKS.md  # adds it above the earlier runs

For each case, `imgsim.compare` on already decoded images (so preparation and
the engine count, decoding does not) without and with ``terms=True``, taken in
turns, best of several runs each; and the same for the engine alone
(`score_all_pairs`) against the terms alone (`imgsim.terms.all_pair_terms`).
"Ratio" is with-terms time over plain time, both from this run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imgsim.engine import score_all_pairs, warm_up
from imgsim.terms import all_pair_terms
from run import alternate, machine, sample_files

import imgsim

CASES = (
    (20, 512, True, "skimage"),
    (100, 128, True, "skimage"),
    (20, 512, True, "gaussian"),
    (20, 512, False, "skimage"),
)
REPEATS = 3


def case(count: int, side: int, grayscale: bool, convention: str) -> list[str]:
    settings = imgsim.Settings(size=(side, side), grayscale=grayscale, ssim_convention=convention)
    decoded = [imgsim.decode(path) for path in sample_files(count)]
    prepared = [imgsim.prepare(image, settings) for image in decoded]
    plain, with_terms = alternate(
        lambda: imgsim.compare(decoded, settings),
        lambda: imgsim.compare(decoded, settings, terms=True),
        REPEATS,
    )
    engine, terms = alternate(
        lambda: score_all_pairs(prepared, convention),
        lambda: all_pair_terms(prepared, convention),
        REPEATS,
    )
    pairs = count * (count - 1) // 2
    label = f"{count} images {side}x{side}" + ("" if grayscale else ", colour")
    if convention != "skimage":
        label += f", {convention}"
    per_pair = terms.seconds / pairs / (side * side * (1 if grayscale else 3)) * 1e9
    return [
        label,
        f"{plain.seconds:.3f} s",
        f"{with_terms.seconds:.3f} s",
        f"{with_terms.seconds / plain.seconds:.1f}×",
        f"{engine.seconds:.3f} s",
        f"{terms.seconds:.3f} s",
        f"{terms.seconds / engine.seconds:.1f}×",
        f"{per_pair:.1f}",
        f"{terms.cpu_seconds / engine.cpu_seconds:.1f}×",
    ]


HEADER = (
    "case",
    "compare",
    "compare, terms=True",
    "ratio",
    "engine alone",
    "terms alone",
    "ratio",
    "terms ns/pixel-pair",
    "CPU-time ratio, terms/engine",
)


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    """Insert this run as the newest section (below the marker), keeping the rest."""
    marker = "<!-- runs, newest first -->"
    head, rest = path.read_text().split(marker, 1)
    section = f"## {time.strftime('%Y-%m-%d')}: SSIM terms (`bench/terms.py`)\n\n{text.strip()}"
    path.write_text(f"{head}{marker}\n\n{section}\n\n{rest.lstrip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="FILE", help="also add the run to FILE as Markdown")
    args = parser.parse_args()
    about = machine()
    warm_up()
    rows = []
    for count, side, grayscale, convention in CASES:
        print(f"running {count} x {side}², {convention}...", file=sys.stderr, flush=True)
        rows.append(case(count, side, grayscale, convention))
    text = f"Machine: {about}\n\n{table(rows)}\n"
    print(text)
    if args.write:
        write(Path(args.write), text)


if __name__ == "__main__":
    main()
