"""imgsim: how similar are these images, and why?

>>> import imgsim
>>> result = imgsim.compare(["a.png", "b.jpg"], size=(256, 256))  # doctest: +SKIP
>>> result.ssim  # N x N  # doctest: +SKIP

The subpackages, in the order data flows through them: `imgsim.settings`,
`imgsim.images` (decode, prepare), `imgsim.metrics`, `imgsim.timing`,
`imgsim.analyses`, `imgsim.collection`, `imgsim.outputs`; then the CLI
(`imgsim.cli`) and the page (`imgsim.dashboard`).
"""

from imgsim._version import __version__
from imgsim.analyses import Comparison, Pair, compare
from imgsim.collection import Group, Neighbours, neighbours
from imgsim.images import (
    DecodedImage,
    ImageError,
    ImageInfo,
    ImageReadError,
    ImageSource,
    decode,
    from_array,
    load_image,
    prepare,
)
from imgsim.metrics import TermMaps, Terms, mse, pair_terms, psnr, ssim, ssim_map, term_maps
from imgsim.settings import LimitError, Limits, Settings
from imgsim.timing import Progress

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
    "__version__",
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
