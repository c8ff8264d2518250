"""Pair inspector: where two images differ, from their SSIM map.

The "image difference with OpenCV" recipe: take the local SSIM map, threshold
its dissimilarity (Otsu by default), find the outer contours, and box them.
Then the boxes are made into the regions a person would draw: overlapping or
nested boxes, and boxes separated by a gap much smaller than themselves, are
merged (an upsampled object breaks into many nested contours), and specks
below a minimum area are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from imgsim.images import DecodedImage, ImageError, ImageSource, load_image, prepare
from imgsim.metrics import (
    TERM_NAMES,
    Scales,
    TermMaps,
    Terms,
    ms_ssim_scales,
    mse,
    psnr_from_mse,
    ssim_map,
    term_maps,
)
from imgsim.settings import Limits, Settings, checked_max_pixels

DEFAULT_MIN_AREA = 0.0005  # share of the image; smaller regions are specks
# Two boxes merge when the gap between them is at most this share of the
# smaller box's size (the square root of its area).
MERGE_GAP = 0.25
# The change is "local" when at most FEW_REGIONS boxes hold LOCAL_SHARE of the
# differing pixels and cover at most LOCAL_COVER of the image, and either the
# differing pixels fill the boxes to at least LOCAL_FILL or the rest of the
# image is untouched (its mean dissimilarity at most LOCAL_OUTSIDE of the
# boxes'). Measured on the samples: solid objects fill their boxes to
# 0.72-0.95, an open logo to 0.3-0.5 but leaves the rest below 0.001 of the
# boxes' dissimilarity; a mean shift and a contrast stretch fill theirs to 0.10
# and 0.43 and leave 0.13 and 0.035 outside; noise, blur and JPEG boxes cover
# 0.88-1.0 of the image.
FEW_REGIONS = 6
LOCAL_SHARE = 0.9
LOCAL_COVER = 0.6
LOCAL_FILL = 0.6
LOCAL_OUTSIDE = 0.01
# Otsu splits any map in two, even one where nothing differs to the eye: a
# photo against its own grayscale re-save (SSIM 0.999) has dissimilarities of
# 0 to 0.004, and Otsu put its threshold at 0, so 99.7% of the pixels
# "differed". Otsu's choice is therefore raised to at least this dissimilarity
# (local SSIM 0.98); a threshold the caller gives is used as it is.
OTSU_FLOOR = 0.01


@dataclass(frozen=True)
class Region:
    """A box around one differing region, in the prepared (resized) image's pixels."""

    x: int
    y: int
    width: int
    height: int
    ssim: float  # mean local SSIM inside the box

    @property
    def area(self) -> int:
        return self.width * self.height


@dataclass(frozen=True, eq=False)
class PairInspection:
    """Everything the inspector shows about one pair.

    Attributes
    ----------
    a, b : ndarray of uint8, shape (H, W) or (H, W, 3)
        What the metrics compared.
    ssim_map : ndarray of float64, shape (H, W)
        Local SSIM (the mean over channels for colour), scikit-image's
        ``full=True`` map; its mean without the window's border is ``ssim``.
        For MS-SSIM, which has no single map, the finest scale's SSIM map
        (Gaussian window); its mean is then not ``ssim``.
    threshold : float
        The dissimilarity ``(1 - local SSIM) / 2`` above which a pixel differs.
    changed : ndarray of bool, shape (H, W)
        Pixels above the threshold.
    regions : tuple of Region
        Largest first.
    changed_fraction : float
        Share of the image's pixels that differ.
    terms : Terms
        Luminance, contrast and structure (`imgsim.metrics._terms`): the means of
        ``term_maps`` as ``ssim`` is the mean of ``ssim_map``.
    term_maps : TermMaps
        The local luminance, contrast and structure, each (H, W) (the mean
        over channels for colour).
    scales : Scales or None
        For the ``"ms-ssim"`` convention, its five per-scale values
        (`imgsim.metrics.ms_ssim_scales`); ``ssim`` is then MS-SSIM.
    """

    names: tuple[str, str]
    settings: Settings
    a: np.ndarray
    b: np.ndarray
    ssim: float
    mse: float
    psnr: float
    ssim_map: np.ndarray
    threshold: float
    changed: np.ndarray
    regions: tuple[Region, ...]
    changed_fraction: float
    terms: Terms
    term_maps: TermMaps
    scales: Scales | None = None

    @property
    def pattern(self) -> str:
        """``"none"``, ``"local"`` or ``"spread"``: see `change_pattern`."""
        return change_pattern(self.changed, self.regions, self.ssim_map)

    @property
    def difference(self) -> np.ndarray:
        """|a - b| per value, ``uint8``."""
        return cv2.absdiff(self.a, self.b)


def find_regions(
    local_ssim: np.ndarray, threshold: float | None = None, min_area: float = DEFAULT_MIN_AREA
) -> tuple[float, np.ndarray, list[Region]]:
    """Threshold a local SSIM map's dissimilarity and box the regions above it.

    Parameters
    ----------
    local_ssim : ndarray of float, shape (H, W)
    threshold : float in [0, 1], optional
        Dissimilarity ``(1 - local SSIM) / 2`` above which a pixel differs;
        None picks it with Otsu's method, but never below `OTSU_FLOOR`.
    min_area : float
        Regions whose box covers less than this share of the image are dropped.

    Returns
    -------
    threshold : float
    changed : ndarray of bool, shape (H, W)
    regions : list of Region, largest first
    """
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1] (or None for Otsu); got {threshold}")
    if not 0.0 <= min_area < 1.0:
        raise ValueError(f"min_area must be a share of the image in [0, 1); got {min_area}")
    dissimilarity = np.clip((1.0 - local_ssim) / 2.0, 0.0, 1.0)
    levels = np.rint(dissimilarity * 255).astype(np.uint8)
    if threshold is None:
        if levels.max() == levels.min():  # nothing to separate (identical images)
            threshold = 1.0
        else:
            otsu, _ = cv2.threshold(levels, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            threshold = max(otsu / 255, OTSU_FLOOR)
    changed = dissimilarity > threshold
    contours, _ = cv2.findContours(
        changed.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    smallest = min_area * local_ssim.size
    regions = []
    for x, y, width, height in merge_boxes([cv2.boundingRect(c) for c in contours], changed.shape):
        if width * height < smallest:
            continue
        inside = local_ssim[y : y + height, x : x + width]
        regions.append(Region(x, y, width, height, float(inside.mean())))
    regions.sort(key=lambda region: region.area, reverse=True)
    return float(threshold), changed, regions


Box = tuple[int, int, int, int]  # x, y, width, height


def merge_boxes(
    boxes: Sequence[Sequence[int]], shape: tuple[int, int], gap: float = MERGE_GAP
) -> list[Box]:
    """Merge overlapping and nested boxes, and boxes close for their size.

    Each box is grown on every side by ``gap / 2`` times its size (the square
    root of its area); boxes whose grown versions overlap, directly or through
    others, merge into their bounding box. So two boxes merge when the gap
    between them is at most ``gap`` times their mean size. Merged boxes are
    larger and may reach others, so this repeats until nothing changes. The
    work grows with the image's area, not with the square of the number of
    boxes (noise gives thousands).

    Parameters
    ----------
    boxes : sequence of (x, y, width, height)
    shape : (height, width)
        The image's shape; boxes lie within it.
    gap : float
        At least 0.

    Returns
    -------
    list of (x, y, width, height)
    """
    if gap < 0:
        raise ValueError(f"gap must be at least 0 (a share of a box's size); got {gap}")
    height, width = shape
    current: list[Box] = [(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes]
    while len(current) > 1:
        grown = np.zeros((height, width), np.uint8)
        for x, y, w, h in current:
            margin = int(gap / 2 * (w * h) ** 0.5)
            grown[max(0, y - margin) : y + h + margin, max(0, x - margin) : x + w + margin] = 1
        _, labels = cv2.connectedComponents(grown, connectivity=4)
        groups: dict[int, Box] = {}
        for box in current:
            x, y, w, h = box
            label = int(labels[y, x])
            groups[label] = _union(groups[label], box) if label in groups else box
        if len(groups) == len(current):
            break
        current = list(groups.values())
    return current


def _union(first: Box, second: Box) -> Box:
    (x1, y1, w1, h1), (x2, y2, w2, h2) = first, second
    left, top = min(x1, x2), min(y1, y2)
    return left, top, max(x1 + w1, x2 + w2) - left, max(y1 + h1, y2 + h2) - top


def change_pattern(changed: np.ndarray, regions: Sequence[Region], local_ssim: np.ndarray) -> str:
    """What the map of differing pixels shows.

    Parameters
    ----------
    changed : ndarray of bool, shape (H, W)
    regions : sequence of Region
    local_ssim : ndarray of float, shape (H, W)

    Returns
    -------
    {"none", "local", "spread"}
        ``"local"`` when a few boxes hold nearly all differing pixels, leave much
        of the image out, and are either mostly filled by them or surrounded by
        an untouched image (objects removed, added or pasted, however large);
        ``"spread"`` otherwise (noise, blur, a tone change: differences
        everywhere, scattered thinly, or one box covering most of the image);
        ``"none"`` when no pixel differs.
    """
    total = int(changed.sum())
    if total == 0:
        return "none"
    covered = np.zeros(changed.shape, bool)
    for region in regions:
        covered[region.y : region.y + region.height, region.x : region.x + region.width] = True
    inside = int(changed[covered].sum())
    if len(regions) > FEW_REGIONS or inside < LOCAL_SHARE * total or covered.mean() > LOCAL_COVER:
        return "spread"
    if inside >= LOCAL_FILL * int(covered.sum()):
        return "local"
    dissimilarity = np.clip((1.0 - local_ssim) / 2.0, 0.0, 1.0)
    untouched = dissimilarity[~covered].mean() <= LOCAL_OUTSIDE * dissimilarity[covered].mean()
    return "local" if untouched else "spread"


def inspect_pair(
    a: ImageSource,
    b: ImageSource,
    settings: Settings | None = None,
    *,
    threshold: float | None = None,
    min_area: float = DEFAULT_MIN_AREA,
    limits: Limits | None = None,
) -> PairInspection:
    """Compare one pair and find where it differs.

    Parameters
    ----------
    a, b : as the inputs of `compare`
    settings : Settings, optional
    threshold, min_area : see `find_regions`
    limits : Limits, optional
        Refuse images over its pixel limit and work over its work limit.

    Raises
    ------
    ValueError
        When an input cannot be read (naming it), or for invalid settings.
    """
    settings = settings or Settings()
    max_pixels = checked_max_pixels(limits, 2, settings)
    loaded = [load_image(source, index, max_pixels) for index, source in enumerate((a, b))]
    decoded: list[DecodedImage] = []
    for item in loaded:
        if isinstance(item, ImageError):
            raise ValueError(str(item))
        decoded.append(item)
    first, second = (prepare(item, settings) for item in decoded)
    local = ssim_map(first, second, settings.ssim_convention)
    if local.ndim == 3:
        local = local.mean(axis=2)
    pad = settings.window // 2
    scales = None
    if settings.ssim_convention == "ms-ssim":
        scales = ms_ssim_scales(first, second)
        score = scales.ms_ssim
    else:
        score = float(local[pad:-pad, pad:-pad].mean())
    error = mse(first, second)
    threshold, changed, regions = find_regions(local, threshold, min_area)
    maps = term_maps(first, second, settings.ssim_convention)
    terms = maps.means(settings.window)
    if first.ndim == 3:  # shown per pixel, as the SSIM map: the mean over channels
        maps = TermMaps(*(getattr(maps, name).mean(axis=2) for name in TERM_NAMES))
    return PairInspection(
        names=(loaded[0].name, loaded[1].name),
        settings=settings,
        a=first,
        b=second,
        ssim=score,
        mse=error,
        psnr=psnr_from_mse(error),
        ssim_map=local,
        threshold=threshold,
        changed=changed,
        regions=tuple(regions),
        changed_fraction=float(changed.mean()),
        terms=terms,
        term_maps=maps,
        scales=scales,
    )


BOX_COLOUR = (230, 40, 40)


def draw_boxes(image: np.ndarray, regions: Sequence[Region]) -> np.ndarray:
    """An RGB copy of ``image`` with each region's box drawn on it."""
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    thickness = max(1, round(max(canvas.shape[:2]) / 300))
    for region in regions:
        corner = (region.x + region.width - 1, region.y + region.height - 1)
        cv2.rectangle(canvas, (region.x, region.y), corner, BOX_COLOUR, thickness)
    return canvas


def side_by_side(inspection: PairInspection, gap: int = 8) -> np.ndarray:
    """Both images with their boxes, left and right, on white."""
    left = draw_boxes(inspection.a, inspection.regions)
    right = draw_boxes(inspection.b, inspection.regions)
    spacer = np.full((left.shape[0], gap, 3), 255, np.uint8)
    return np.hstack([left, spacer, right])


def map_image(local_ssim: np.ndarray) -> np.ndarray:
    """The SSIM map as an RGB picture (viridis: dark dissimilar, bright similar)."""
    levels = np.rint(np.clip((local_ssim + 1) / 2, 0, 1) * 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_VIRIDIS), cv2.COLOR_BGR2RGB)


def with_thresholds(
    inspection: PairInspection, threshold: float | None = None, min_area: float = DEFAULT_MIN_AREA
) -> PairInspection:
    """A copy thresholded otherwise (recomputes only the regions, not the map).

    Parameters are those of `find_regions`.
    """
    threshold, changed, regions = find_regions(inspection.ssim_map, threshold, min_area)
    return replace(
        inspection,
        threshold=threshold,
        changed=changed,
        regions=tuple(regions),
        changed_fraction=float(changed.mean()),
    )
