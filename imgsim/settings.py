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
SsimConvention = Literal["skimage", "gaussian"]

FITS: tuple[str, ...] = get_args(Fit)
INTERPS: tuple[str, ...] = get_args(Interp)
ALPHA_MODES: tuple[str, ...] = get_args(AlphaMode)
SSIM_CONVENTIONS: tuple[str, ...] = get_args(SsimConvention)

# Side of the square SSIM window of each convention, as scikit-image derives it:
# 7 by default; for Gaussian weights 2 * int(3.5 * sigma + 0.5) + 1 = 11.
SSIM_WINDOW: dict[str, int] = {"skimage": 7, "gaussian": 11}

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
    ssim_convention : {"skimage", "gaussian"}
        SSIM convention: scikit-image's defaults (7x7 uniform window, sample
        covariance) or Wang et al. 2004 (11x11 Gaussian window with
        sigma 1.5, population covariance).
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
        window = SSIM_WINDOW[self.ssim_convention]
        if width < window or height < window:
            raise ValueError(
                f"size {width}x{height} is smaller than the {window}x{window} SSIM "
                f"window of the {self.ssim_convention!r} convention; use at least "
                f"{window}x{window}"
            )
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


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
