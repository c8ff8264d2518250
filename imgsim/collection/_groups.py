"""Chained groups: the connected components of the pairs at or above a threshold.

A chain a-b, b-c joins a and c even when a-c scores lower: these are
single-linkage groups, unlike `imgsim.analyses.clusters` (complete linkage).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from imgsim.analyses import ImageFlags, group_flags
from imgsim.collection._types import Candidates, Group


def component_labels(pairs: Candidates, count: int) -> np.ndarray:
    """The connected component of each of ``count`` images, joined by ``pairs``.

    Returns
    -------
    ndarray of int32, shape (count,)
        Images with the same label are chained by pairs; an image in no pair
        is a component of its own.
    """
    graph = coo_matrix((np.ones(len(pairs)), (pairs.query, pairs.match)), shape=(count, count))
    return connected_components(graph, directed=False)[1]


def chained_groups(
    pairs: Candidates, prepared: Sequence[str], flags: Sequence[ImageFlags] = ()
) -> tuple[Group, ...]:
    """Connected components of the pairs (images in input order), largest first.

    With ``flags`` (each image's, in the same order as ``prepared``), each group
    carries `imgsim.analyses.group_flags` of its members.
    """
    labels = component_labels(pairs, len(prepared))
    pair_labels = labels[pairs.query]
    groups = []
    for label in np.unique(pair_labels):
        members = tuple(int(i) for i in np.flatnonzero(labels == label))
        weakest = float(pairs.ssim[pair_labels == label].min())
        exact = len({prepared[i] for i in members}) == 1
        labelled = group_flags([flags[i] for i in members]) if flags else ()
        groups.append(Group(members, weakest, exact, labelled))
    groups.sort(key=lambda group: (-len(group.members), group.members[0]))
    return tuple(groups)
