"""What a collection search passes around: inputs, blocks, candidates, results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from imgsim.analyses import ImageFlags, pair_flags
from imgsim.images import ImageError, ImageInfo
from imgsim.settings import Settings

DEFAULT_TOP = 5
# Scores equal to this many decimals are ties, broken by the match's name: the
# engine's sums may differ in the last bits with the tiling (about 1e-15), and
# that must not reorder a top list.
TIE_DECIMALS = 12
# A tile is about a second of engine work (at about 2 ns per pair-value): coarse
# enough for a Dask task, small enough that progress moves.
TILE_PAIR_VALUES = 4e8
MIN_BLOCK, MAX_BLOCK = 8, 1024
CACHE_FORMAT = 1


@dataclass(frozen=True)
class Entry:
    """One input: its name and its source (path, bytes, array, decoded image)."""

    name: str
    source: Any


@dataclass(frozen=True)
class BlockMeta:
    """What the client needs of a prepared block: everything but the pixels."""

    positions: tuple[int, ...]  # input positions of the images that could be read
    infos: tuple[ImageInfo, ...]
    digests: tuple[str, ...]  # SHA-256 of each input's content
    prepared: tuple[str, ...]  # SHA-256 of each prepared image (equal: exact duplicates)
    errors: tuple[tuple[int, ImageError], ...]
    flags: tuple[ImageFlags, ...]  # each image's enlargement and smooth share at the settings


@dataclass(frozen=True, eq=False)
class Block:
    """Prepared images of a block of inputs (only those that could be read)."""

    meta: BlockMeta
    images: tuple[np.ndarray, ...]


@dataclass(frozen=True, eq=False)
class Candidates:
    """Rows (query, match, scores), flat; a top list keeps at most ``top`` per query."""

    query: np.ndarray
    match: np.ndarray
    ssim: np.ndarray
    mse: np.ndarray
    psnr: np.ndarray

    @staticmethod
    def empty() -> Candidates:
        ints, floats = np.empty(0, np.int64), np.empty(0)
        return Candidates(ints, ints, floats, floats, floats)

    @staticmethod
    def concat(parts: Sequence[Candidates]) -> Candidates:
        if not parts:
            return Candidates.empty()
        return Candidates(
            *(
                np.concatenate([getattr(part, name) for part in parts])
                for name in ("query", "match", "ssim", "mse", "psnr")
            )
        )

    def take(self, index: np.ndarray) -> Candidates:
        return Candidates(
            self.query[index],
            self.match[index],
            self.ssim[index],
            self.mse[index],
            self.psnr[index],
        )

    def __len__(self) -> int:
        return len(self.query)


@dataclass(frozen=True, eq=False)
class TileResult:
    """What a tile sends back: top candidates, pairs at or above the threshold."""

    tops: Candidates
    pairs: Candidates  # query and match are the pair's two input positions
    pairs_computed: int


@dataclass(frozen=True)
class Group:
    """Images connected by pairs at or above ``min_ssim``.

    Attributes
    ----------
    members : tuple of int
        Indices into ``Neighbours.images``, in input order.
    min_ssim : float
        The smallest score among the pairs that connect the group.
    exact : bool
        Whether every member is the same prepared image (exact duplicates).
    flags : tuple of str
        `imgsim.analyses.group_flags` of the members (``("smooth",)`` for a
        group of smooth images), ``()`` for none.
    """

    members: tuple[int, ...]
    min_ssim: float
    exact: bool
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Result of `neighbours`.

    Attributes
    ----------
    settings : Settings
    images : tuple of ImageInfo
        The queries that could be read, in input order.
    references : tuple of ImageInfo or None
        The second set (``against``), in input order; None within one set.
    image_flags : tuple of ImageFlags
        Each query's enlargement and smooth share at the settings, in the order
        of ``images``; `flags` gives a pair's flags from them.
    reference_flags : tuple of ImageFlags or None
        The same for ``references``; None within one set.
    errors : tuple of ImageError
        Inputs that could not be used (queries first, then references).
    top : int
    min_ssim : float or None
    index : ndarray of int64, shape (N, top)
        Each query's best matches, most similar first, as indices into
        ``references`` (or ``images``); -1 where there are fewer matches.
    ssim, mse, psnr : ndarray of float64, shape (N, top)
        Their scores (NaN where ``index`` is -1).
    pairs : (a, b, ssim, mse, psnr) arrays, or None
        With ``min_ssim``: every pair at or above it, by index (``a`` into
        ``images``, ``b`` into ``references`` or ``images`` with ``a < b``).
    groups : tuple of Group, or None
        With ``min_ssim`` within one set: connected components of those pairs.
    digests : tuple of str
        SHA-256 of each image's content (queries, then references).
    pairs_computed : int
        Pairs scored by this call (fewer than all when a cache held the rest).
    """

    settings: Settings
    images: tuple[ImageInfo, ...]
    references: tuple[ImageInfo, ...] | None
    image_flags: tuple[ImageFlags, ...]
    reference_flags: tuple[ImageFlags, ...] | None
    errors: tuple[ImageError, ...]
    top: int
    min_ssim: float | None
    index: np.ndarray
    ssim: np.ndarray
    mse: np.ndarray
    psnr: np.ndarray
    pairs: Candidates | None
    groups: tuple[Group, ...] | None
    digests: tuple[str, ...]
    pairs_computed: int

    @property
    def names(self) -> list[str]:
        return [image.name for image in self.images]

    @property
    def match_names(self) -> list[str]:
        """Names that ``index`` and ``pairs.match`` refer to."""
        return [image.name for image in (self.references or self.images)]

    @property
    def match_flags(self) -> tuple[ImageFlags, ...]:
        """The `ImageFlags` of the images that ``index`` and ``pairs.match`` refer to."""
        return self.image_flags if self.reference_flags is None else self.reference_flags

    def flags(self, query: int, match: int) -> tuple[str, ...]:
        """The flags (`imgsim.analyses.FLAGS`) of query ``query`` and match ``match``
        (indices as in ``index`` and ``pairs``), ``()`` for none."""
        return pair_flags(self.image_flags[query], self.match_flags[match])


# A part of a tile: ("triangle", rows, ()) scores every pair within rows of the
# row block; ("cross", rows, cols) scores rows of the row block against cols of
# the column block. rows and cols are indices into the blocks' images.
Part = tuple[str, tuple[int, ...], tuple[int, ...]]
