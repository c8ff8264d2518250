"""The one settings object that travels through the pipeline.

`Settings` is frozen and hashable so that callers (the page's caches, the CLI)
can key on it; its defaults are the CLI's defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

Fit = Literal["stretch", "pad", "crop"]
Interp = Literal["linear", "area", "cubic", "nearest", "lanczos"]
AlphaMode = Literal["white", "black", "ignore"]
SsimConvention = Literal["skimage", "gaussian", "ms-ssim"]

FITS: tuple[Fit, ...] = get_args(Fit)
INTERPS: tuple[Interp, ...] = get_args(Interp)
ALPHA_MODES: tuple[AlphaMode, ...] = get_args(AlphaMode)
SSIM_CONVENTIONS: tuple[SsimConvention, ...] = get_args(SsimConvention)

# Side of the square SSIM window of each convention, as scikit-image derives it:
# 7 by default; for Gaussian weights 2 * int(3.5 * sigma + 0.5) + 1 = 11 (which
# MS-SSIM uses at each of its scales).
SSIM_WINDOW: dict[str, int] = {"skimage": 7, "gaussian": 11, "ms-ssim": 11}
# MS-SSIM halves the image four times (five scales) and its coarsest scale must
# still hold the 11 x 11 window: a side above (11 - 1) * 2**4 = 160 pixels, as
# pytorch-msssim requires (161 gives 81, 41, 21, 11 with TensorFlow's padding).
MS_SSIM_SCALES = 5
MS_SSIM_MIN_SIDE = (SSIM_WINDOW["ms-ssim"] - 1) * 2 ** (MS_SSIM_SCALES - 1) + 1
# The smallest side each convention accepts.
MIN_SIDE: dict[str, int] = {**SSIM_WINDOW, "ms-ssim": MS_SSIM_MIN_SIDE}

DEFAULT_SIZE = (512, 512)


@dataclass(frozen=True)
class Settings:
    """How images are prepared and compared.

    Parameters
    ----------
    size : (int, int)
        Target ``(width, height)`` in pixels, in ``cv2.resize`` order.
    grayscale : bool
        Compare OpenCV's luma of the resized image (True) or all three colour
        channels (False).
    fit : {"stretch", "pad", "crop"}
        How an image whose aspect differs from the target's is fitted: stretched
        (aspect ignored), padded (letterboxed on the background colour) or
        centre-cropped to the target aspect before resizing.
    interp : {"linear", "area", "cubic", "nearest", "lanczos"}
        OpenCV interpolation used for resizing.
    alpha : {"white", "black", "ignore"}
        What transparent pixels become: composited on white or black, or
        ``"ignore"`` to drop alpha and keep the stored colours (like
        ``cv2.imread``).
    ssim_convention : {"skimage", "gaussian", "ms-ssim"}
        SSIM convention: scikit-image's defaults (7x7 uniform window, sample
        covariance), Wang et al. 2004 (11x11 Gaussian window with
        sigma 1.5, population covariance), or multi-scale SSIM (Wang,
        Simoncelli and Bovik 2003) as ``tf.image.ssim_multiscale`` computes
        it, which needs both sides above 160 pixels (see `imgsim.metrics._msssim`).
    """

    size: tuple[int, int] = DEFAULT_SIZE
    grayscale: bool = True
    fit: Fit = "stretch"
    interp: Interp = "linear"
    alpha: AlphaMode = "white"
    ssim_convention: SsimConvention = "skimage"

    def __post_init__(self) -> None:
        _check_choice("fit", self.fit, FITS)
        _check_choice("interp", self.interp, INTERPS)
        _check_choice("alpha", self.alpha, ALPHA_MODES)
        _check_choice("ssim_convention", self.ssim_convention, SSIM_CONVENTIONS)
        try:
            width, height = (int(v) for v in self.size)
        except (TypeError, ValueError):
            raise ValueError(
                f"size must be a pair of integers (width, height), got {self.size!r}"
            ) from None
        check_side(width, height, self.ssim_convention)
        object.__setattr__(self, "size", (width, height))
        object.__setattr__(self, "grayscale", bool(self.grayscale))

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def window(self) -> int:
        """Side of the SSIM window, in pixels."""
        return SSIM_WINDOW[self.ssim_convention]

    @property
    def score_name(self) -> str:
        """What the score of this convention is called in labels: "MS-SSIM" or "SSIM"."""
        return score_name(self.ssim_convention)

    @property
    def score_key(self) -> str:
        """The score's key in JSON and CSV: ``"ms_ssim"`` for MS-SSIM, else ``"ssim"``."""
        return score_key(self.ssim_convention)

    def metric_name(self, metric: str) -> str:
        """How a metric key (``"ssim"``, ``"mse"``, ``"psnr"``, any case) is named in labels.

        ``"ssim"`` is the convention's score, `score_name`; the others are upper-cased.
        """
        return self.score_name if metric.lower() == "ssim" else metric.upper()

    @property
    def min_side(self) -> int:
        """The smallest width and height this convention accepts, in pixels."""
        return MIN_SIDE[self.ssim_convention]

    @property
    def background(self) -> tuple[int, int, int]:
        """RGB colour of transparent pixels and of the letterbox in ``pad``."""
        return (0, 0, 0) if self.alpha == "black" else (255, 255, 255)

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain JSON-ready values (the CLI's ``"settings"``)."""
        values = asdict(self)
        values.pop("size")
        # The JSON contract names the convention "ssim", as the CLI option does.
        values["ssim"] = values.pop("ssim_convention")
        return {"width": self.width, "height": self.height, **values}


def score_name(convention: str) -> str:
    """The name of the score a SSIM convention gives: "MS-SSIM" for ``"ms-ssim"``, else "SSIM".

    Parameters
    ----------
    convention : {"skimage", "gaussian", "ms-ssim"}

    Returns
    -------
    str
    """
    _check_choice("ssim_convention", convention, SSIM_CONVENTIONS)
    return "MS-SSIM" if convention == "ms-ssim" else "SSIM"


def score_key(convention: str) -> str:
    """The key of a convention's score in JSON and CSV: ``"ms_ssim"`` or ``"ssim"``.

    MS-SSIM values are never written under ``ssim``: a script reading ``ssim``
    gets SSIM or a missing key, never another metric's number.

    Parameters
    ----------
    convention : {"skimage", "gaussian", "ms-ssim"}

    Returns
    -------
    str
    """
    _check_choice("ssim_convention", convention, SSIM_CONVENTIONS)
    return "ms_ssim" if convention == "ms-ssim" else "ssim"


# What an MS-SSIM of exactly 0 means, said once wherever MS-SSIM scores are shown.
MS_SSIM_ZERO_NOTE = (
    "An MS-SSIM of 0 means that at some scale the images' local patterns are "
    "anti-correlated on average (a negative contrast-structure, or SSIM at the "
    "coarsest scale), which MS-SSIM clips at 0 as TensorFlow does: the images are "
    "unrelated there; 0 does not rank how different they are."
)


def check_side(width: int, height: int, convention: str, subject: str = "size") -> None:
    """Raise unless ``width`` x ``height`` holds ``convention``'s SSIM window.

    The one check of the window's size, for settings and for prepared images.

    Parameters
    ----------
    width, height : int
    convention : {"skimage", "gaussian", "ms-ssim"}
        MS-SSIM needs its coarsest scale (the size halved four times) to hold
        the window, so both sides at least `MS_SSIM_MIN_SIDE`.
    subject : {"size", "images"}
        Whether a size was asked for or images were given: the message says
        what is too small and how to fix it.

    Raises
    ------
    ValueError
    """
    minimum = MIN_SIDE[convention]
    if min(width, height) >= minimum:
        return
    what = f"size {width}x{height}" if subject == "size" else f"images of {width}x{height} pixels"
    remedy = "use" if subject == "size" else "resize them to"
    if convention == "ms-ssim":
        window = SSIM_WINDOW[convention]
        raise ValueError(
            f"{what} is too small for MS-SSIM: its coarsest of {MS_SSIM_SCALES} scales "
            f"(the size halved {MS_SSIM_SCALES - 1} times) must still hold the "
            f"{window}x{window} window, so both sides must be at least {minimum}; "
            f"{remedy} at least {minimum}x{minimum}, or another SSIM convention for "
            "smaller sizes"
        )
    raise ValueError(
        f"{what} is smaller than the {minimum}x{minimum} SSIM window of the "
        f"{convention!r} convention; {remedy} at least {minimum}x{minimum}"
    )


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
