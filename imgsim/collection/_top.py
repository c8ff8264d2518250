"""Top lists: each query's best matches, merged tile by tile in N x top memory."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imgsim.collection._types import TIE_DECIMALS, Candidates


def best(found: Candidates, top: int, ranks: np.ndarray) -> Candidates:
    """The ``top`` best candidates of each query: highest SSIM, ties by match name.

    Scores equal to `TIE_DECIMALS` decimals are ties.
    """
    if not len(found):
        return found
    order = np.lexsort((ranks[found.match], -np.round(found.ssim, TIE_DECIMALS), found.query))
    ordered = found.take(order)
    starts = np.flatnonzero(np.r_[True, ordered.query[1:] != ordered.query[:-1]])
    lengths = np.diff(np.r_[starts, len(ordered)])
    within = np.arange(len(ordered)) - np.repeat(starts, lengths)
    return ordered.take(within < top)


class TopLists:
    """Each query's best candidates so far, merged tile by tile (N x top)."""

    def __init__(self, queries: int, top: int, ranks: np.ndarray) -> None:
        self.top = top
        self.ranks = ranks
        self.match = np.full((queries, top), -1, dtype=np.int64)
        self.ssim = np.full((queries, top), np.nan)
        self.mse = np.full((queries, top), np.nan)
        self.psnr = np.full((queries, top), np.nan)

    def rows(self, queries: np.ndarray) -> Candidates:
        match = self.match[queries]
        q, k = np.nonzero(match >= 0)
        return Candidates(
            queries[q],
            match[q, k],
            self.ssim[queries][q, k],
            self.mse[queries][q, k],
            self.psnr[queries][q, k],
        )

    def merge(self, found: Candidates) -> None:
        if not len(found):
            return
        queries = np.unique(found.query)
        merged = best(Candidates.concat([self.rows(queries), found]), self.top, self.ranks)
        for array, fill in (
            (self.match, -1),
            (self.ssim, np.nan),
            (self.mse, np.nan),
            (self.psnr, np.nan),
        ):
            array[queries] = fill
        starts = np.flatnonzero(np.r_[True, merged.query[1:] != merged.query[:-1]])
        slot = np.arange(len(merged)) - np.repeat(starts, np.diff(np.r_[starts, len(merged)]))
        self.match[merged.query, slot] = merged.match
        self.ssim[merged.query, slot] = merged.ssim
        self.mse[merged.query, slot] = merged.mse
        self.psnr[merged.query, slot] = merged.psnr

    def all(self) -> Candidates:
        return self.rows(np.arange(len(self.match)))


def name_ranks(names: Sequence[str]) -> np.ndarray:
    """Rank of each name in sorted order: ties between equal scores go to the first name."""
    ranks = np.empty(len(names), dtype=np.int64)
    ranks[np.argsort(np.asarray(names, dtype=object), kind="stable")] = np.arange(len(names))
    return ranks
