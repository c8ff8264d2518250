"""imgsim: how similar are these images, and why?

>>> import imgsim
>>> result = imgsim.compare(["a.png", "b.jpg"], size=(256, 256))  # doctest: +SKIP
>>> result.ssim  # N x N  # doctest: +SKIP
"""

from imgsim.collection import Group, Neighbours, neighbours
from imgsim.comparison import (
    Comparison,
    ImageError,
    ImageInfo,
    ImageSource,
    Pair,
    compare,
    load_image,
)
from imgsim.decoding import DecodedImage, ImageReadError, decode, from_array
from imgsim.limits import LimitError, Limits
from imgsim.metrics import mse, psnr, ssim, ssim_map
from imgsim.preparation import prepare
from imgsim.progress import Progress
from imgsim.settings import Settings
from imgsim.terms import TermMaps, Terms, pair_terms, term_maps

__version__ = "0.1.0"

__all__ = [
    "Comparison",
    "DecodedImage",
    "Group",
    "ImageError",
    "ImageInfo",
    "ImageReadError",
    "ImageSource",
    "LimitError",
    "Limits",
    "Neighbours",
    "Pair",
    "Progress",
    "Settings",
    "TermMaps",
    "Terms",
    "compare",
    "decode",
    "from_array",
    "load_image",
    "mse",
    "neighbours",
    "pair_terms",
    "prepare",
    "psnr",
    "ssim",
    "ssim_map",
    "term_maps",
]
