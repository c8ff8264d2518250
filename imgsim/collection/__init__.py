"""Collections: each image's nearest matches, cross-set search and chained groups.

`neighbours` scores every pair in tiles (never an N x N matrix), on this
machine's cores or a Dask cluster, with a cache that lets a rerun score only
what is new. The page's collections (`Collection`, `list_images`) are folders
the server names; `CollectionIndex` indexes one in the background.
"""

from imgsim.collection._dask import (
    SCHEDULER_VARIABLE,
    Scheduler,
    SchedulerAddressError,
    dask_client,
    scheduler_address,
)
from imgsim.collection._groups import chained_groups, component_labels
from imgsim.collection._index import (
    CANCELLED,
    DEFAULT_GROUP_SSIM,
    FLOOR_SSIM,
    INDEX_TOP,
    WAITING,
    CollectionIndex,
    IndexCancelled,
    IndexStatus,
    Match,
    groups_at,
    index_seconds,
    matches_of,
    prepared_bytes,
    query,
)
from imgsim.collection._inputs import content_digest, entries_from_inputs, input_set_key
from imgsim.collection._search import neighbours
from imgsim.collection._source import (
    CACHE_VARIABLE,
    COLLECTION_VARIABLE,
    Collection,
    CollectionPathError,
    Listing,
    cache_folder,
    collections_from_environment,
    list_images,
    parse_collections,
    parse_collections_apart,
    read_image_bytes,
    resolve,
    thumbnail_png,
)
from imgsim.collection._store import settings_key
from imgsim.collection._top import TopLists, best, name_ranks
from imgsim.collection._types import DEFAULT_TOP, TIE_DECIMALS, Candidates, Group, Neighbours

__all__ = [
    "CACHE_VARIABLE",
    "CANCELLED",
    "COLLECTION_VARIABLE",
    "DEFAULT_GROUP_SSIM",
    "DEFAULT_TOP",
    "FLOOR_SSIM",
    "INDEX_TOP",
    "SCHEDULER_VARIABLE",
    "TIE_DECIMALS",
    "WAITING",
    "Candidates",
    "Collection",
    "CollectionIndex",
    "CollectionPathError",
    "Group",
    "IndexCancelled",
    "IndexStatus",
    "Listing",
    "Match",
    "Neighbours",
    "Scheduler",
    "SchedulerAddressError",
    "TopLists",
    "best",
    "cache_folder",
    "chained_groups",
    "collections_from_environment",
    "component_labels",
    "content_digest",
    "dask_client",
    "entries_from_inputs",
    "groups_at",
    "index_seconds",
    "input_set_key",
    "list_images",
    "matches_of",
    "name_ranks",
    "neighbours",
    "parse_collections",
    "parse_collections_apart",
    "prepared_bytes",
    "query",
    "read_image_bytes",
    "resolve",
    "scheduler_address",
    "settings_key",
    "thumbnail_png",
]
