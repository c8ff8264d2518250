"""The cache: prepared images, finished results, and the journal of finished tiles.

Every file is written whole (`imgsim.images.write_atomically`): a killed run
leaves the old file or the new one, and a damaged file is computed afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgsim.analyses import ImageFlags
from imgsim.collection._types import CACHE_FORMAT, BlockMeta, Candidates, Part, TileResult
from imgsim.images import ImageInfo, write_atomically
from imgsim.settings import Settings

# The format of a prepared image's file: 2 adds its `ImageFlags`. Only the
# prepared files changed, so the results (scores, keyed with `CACHE_FORMAT`)
# stay valid and a rerun over an older cache prepares again but scores nothing.
PREPARED_FORMAT = 2


def settings_key(settings: Settings) -> str:
    """A short digest of the settings: data prepared under others is never reused."""
    text = json.dumps({"format": CACHE_FORMAT, **settings.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prepared_path(cache: Path, settings: Settings, digest: str) -> Path:
    return cache / "prepared" / settings_key(settings) / digest[:2] / f"{digest}.npz"


def read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None when it is absent or damaged.

    A damaged file (only possible if something outside imgsim changed it:
    imgsim replaces files whole) is computed afresh and rewritten.
    """
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def load_prepared(path: Path, name: str) -> tuple[np.ndarray, ImageInfo, ImageFlags] | None:
    """A cached prepared image and its flags, or None when it is not there, damaged
    or of an older format (then prepared again and rewritten)."""
    stored = read_arrays(path)
    if stored is None or not {"image", "info"} <= stored.keys():
        return None
    try:
        info = json.loads(bytes(stored["info"]).decode())
        width, height, log = info["width"], info["height"], info["log"]
        # Files written before the flags have no format (1): prepared again, never
        # read as an image without flags.
        if info.get("format") != PREPARED_FORMAT:
            return None
        upsampled, smooth, tiny = info["upsampled"], info["smooth"], info["tiny"]
    except (ValueError, KeyError, TypeError):  # damaged: not JSON, not an object, a key missing
        return None
    numbers = (type(upsampled) is float, type(smooth) is float, type(tiny) is bool)
    if not (type(width) is int and type(height) is int and isinstance(log, list) and all(numbers)):
        return None
    image_info = ImageInfo(name, width, height, tuple(str(line) for line in log))
    return stored["image"], image_info, ImageFlags(width, height, upsampled, smooth, tiny)


def store_prepared(path: Path, image: np.ndarray, info: ImageInfo, flags: ImageFlags) -> None:
    text = json.dumps(
        {
            "format": PREPARED_FORMAT,
            "width": info.width,
            "height": info.height,
            "log": list(info.log),
            # The flags are made from the prepared image once, and kept with it.
            "upsampled": flags.upsampled,
            "smooth": flags.smooth,
            "tiny": flags.tiny,
        }
    )
    info_bytes = np.frombuffer(text.encode(), dtype=np.uint8)
    write_atomically(path, lambda stream: np.savez(stream, image=image, info=info_bytes))


def content_keys(metas: Sequence[BlockMeta], count: int) -> list[str | None]:
    """Each input position's cache key: content digest and its occurrence number,
    so that two files with the same content are still two images."""
    keys: list[str | None] = [None] * count
    seen: Counter[str] = Counter()
    for meta in metas:
        for position, digest in zip(meta.positions, meta.digests, strict=True):
            seen[digest] += 1
            keys[position] = f"{digest}#{seen[digest]}"
    return keys


def _run_name(settings: Settings, within: bool, input_set: str) -> str:
    return f"{settings_key(settings)}-{input_set}-{'within' if within else 'against'}"


def results_path(cache: Path, settings: Settings, within: bool, input_set: str) -> Path:
    return cache / "results" / f"{_run_name(settings, within, input_set)}.npz"


def tiles_folder(cache: Path, settings: Settings, within: bool, input_set: str) -> Path:
    return cache / "tiles" / _run_name(settings, within, input_set)


def _pack(
    rows: np.ndarray,
    cols: np.ndarray,
    top: int,
    min_ssim: float | None,
    tops: Candidates,
    pairs: Candidates,
) -> dict[str, np.ndarray]:
    """Results as indices into ``rows`` and ``cols``, the positions in this run
    of the images they cover (every query and match is among them)."""
    arrays = {
        "format": np.array(CACHE_FORMAT),
        "top": np.array(top),
        "min_ssim": np.array(np.nan if min_ssim is None else min_ssim),
    }
    row_order, col_order = np.argsort(rows), np.argsort(cols)
    for prefix, found in (("top", tops), ("pair", pairs)):
        arrays[f"{prefix}_query"] = row_order[np.searchsorted(rows, found.query, sorter=row_order)]
        arrays[f"{prefix}_match"] = col_order[np.searchsorted(cols, found.match, sorter=col_order)]
        arrays[f"{prefix}_ssim"] = found.ssim
        arrays[f"{prefix}_mse"] = found.mse
        arrays[f"{prefix}_psnr"] = found.psnr
    return arrays


def _unpack(
    saved: dict[str, np.ndarray],
    rows: np.ndarray,
    cols: np.ndarray,
    top: int,
    min_ssim: float | None,
) -> TileResult | None:
    """Results packed by `_pack`, by position in this run (``rows`` and ``cols``
    are the positions of the images they cover, in the order packed); None
    unless they kept at least ``top`` matches and pairs down to ``min_ssim``."""
    saved_min = float(saved["min_ssim"])
    if int(saved["format"]) != CACHE_FORMAT or int(saved["top"]) < top:
        return None
    if min_ssim is not None and (math.isnan(saved_min) or saved_min > min_ssim):
        return None

    def candidates(prefix: str) -> Candidates:
        return Candidates(
            rows[saved[f"{prefix}_query"]],
            cols[saved[f"{prefix}_match"]],
            saved[f"{prefix}_ssim"],
            saved[f"{prefix}_mse"],
            saved[f"{prefix}_psnr"],
        )

    pairs = candidates("pair")
    if min_ssim is not None:
        pairs = pairs.take(pairs.ssim >= min_ssim)
    return TileResult(candidates("top"), pairs, 0)


def _key_positions(keys: Sequence[str | None]) -> dict[str, int]:
    return {key: position for position, key in enumerate(keys) if key is not None}


@dataclass(frozen=True, eq=False)
class Reuse:
    known_rows: np.ndarray
    known_cols: np.ndarray
    result: TileResult


def load_results(
    path: Path,
    row_keys: list[str | None],
    col_keys: list[str | None],
    top: int,
    min_ssim: float | None,
) -> Reuse | None:
    """What a previous run computed, by position in this run, when it can be reused.

    It can when it kept at least ``top`` matches and pairs down to ``min_ssim``,
    and every image it knew is still here (otherwise a top list may name a
    removed image, and the next best is unknown): then this run scores only the
    pairs that involve a new image.
    """
    saved = read_arrays(path)
    if saved is None or "row_keys" not in saved:
        return None
    row_at, col_at = _key_positions(row_keys), _key_positions(col_keys)
    saved_rows, saved_cols = saved["row_keys"].tolist(), saved["col_keys"].tolist()
    if not (set(saved_rows) <= row_at.keys() and set(saved_cols) <= col_at.keys()):
        return None
    rows = np.array([row_at[key] for key in saved_rows], dtype=np.int64)
    cols = np.array([col_at[key] for key in saved_cols], dtype=np.int64)
    result = _unpack(saved, rows, cols, top, min_ssim)
    if result is None:
        return None
    known_rows = np.zeros(len(row_keys), dtype=bool)
    known_rows[rows] = True
    known_cols = np.zeros(len(col_keys), dtype=bool)
    known_cols[cols] = True
    return Reuse(known_rows, known_cols, result)


def save_results(
    path: Path,
    row_keys: list[str | None],
    col_keys: list[str | None],
    top: int,
    min_ssim: float | None,
    tops: Candidates,
    pairs: Candidates,
) -> None:
    rows = np.array([p for p, key in enumerate(row_keys) if key is not None], dtype=np.int64)
    cols = np.array([p for p, key in enumerate(col_keys) if key is not None], dtype=np.int64)
    arrays = _pack(rows, cols, top, min_ssim, tops, pairs)
    # By content key, so that the next run finds its images wherever they are.
    arrays["row_keys"] = np.array([row_keys[p] for p in rows], dtype=str)
    arrays["col_keys"] = np.array([col_keys[p] for p in cols], dtype=str)
    # allow_pickle is savez's default, named so that mypy does not match **arrays to it.
    write_atomically(path, lambda stream: np.savez(stream, allow_pickle=True, **arrays))


class Journal:
    """The tiles a run has finished, one file each, so that when the run is
    killed its rerun scores only the tiles it had not finished.

    A tile is named by what decides its result: the content keys and names
    (names break ties) of the images of each of its parts, in order; so a tile
    of the same name covers the same images in the same order, and its file
    holds only scores and indices into them. The file also says the ``top``
    and ``min_ssim`` the tile was reduced with. The run that completes writes
    the whole results and then removes the journal.
    """

    def __init__(
        self,
        folder: Path,
        keys: tuple[list[str | None], list[str | None]],
        names: tuple[list[str], list[str]],
        within: bool,
        top: int,
        min_ssim: float | None,
    ) -> None:
        self.folder = folder
        self.keys, self.names, self.within = keys, names, within
        self.top, self.min_ssim = top, min_ssim

    def describe(
        self, row_meta: BlockMeta, col_meta: BlockMeta, parts: Sequence[Part]
    ) -> tuple[str, np.ndarray, np.ndarray]:
        """A tile's name, and the positions of its images (queries, matches)."""
        (row_keys, col_keys), (row_names, col_names) = self.keys, self.names
        rows, cols = {}, {}  # insertion-ordered sets of positions
        described = []
        for kind, row_indices, col_indices in parts:
            part_rows = [row_meta.positions[i] for i in row_indices]
            part_cols = [col_meta.positions[j] for j in col_indices]
            rows.update(dict.fromkeys(part_rows))
            cols.update(dict.fromkeys(part_cols))
            described.append(
                [
                    kind,
                    [(row_keys[p], row_names[p]) for p in part_rows],
                    [(col_keys[p], col_names[p]) for p in part_cols],
                ]
            )
        if self.within:  # either image of a pair can be the query
            rows = cols = {**rows, **cols}
        key = hashlib.sha256(json.dumps(described).encode()).hexdigest()
        return key, np.array(list(rows), dtype=np.int64), np.array(list(cols), dtype=np.int64)

    def load(self, key: str, rows: np.ndarray, cols: np.ndarray) -> TileResult | None:
        saved = read_arrays(self.folder / f"{key}.npz")
        return None if saved is None else _unpack(saved, rows, cols, self.top, self.min_ssim)

    def store(self, key: str, rows: np.ndarray, cols: np.ndarray, result: TileResult) -> None:
        arrays = _pack(rows, cols, self.top, self.min_ssim, result.tops, result.pairs)
        # allow_pickle is savez's default, named so that mypy does not match **arrays to it.
        write_atomically(
            self.folder / f"{key}.npz", lambda stream: np.savez(stream, allow_pickle=True, **arrays)
        )

    def remove(self) -> None:
        """Forget every tile (and what a killed write left): the results are whole."""
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                path.unlink(missing_ok=True)
            self.folder.rmdir()
            # tiles/ itself, unless another settings' run is keeping tiles there.
            with contextlib.suppress(OSError):
                self.folder.parent.rmdir()
