"""Information flags: when a score is exact but may mislead.

Nothing here changes a score. Each image gets two numbers at the compared
settings (how much it was enlarged and how much of it is too smooth for SSIM's
structure term), and each pair gets a list of flags from `FLAGS`, a small
vocabulary that the CLI, the outputs and the page all show the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from imgsim.images import enlargement
from imgsim.metrics import smooth_share
from imgsim.settings import SSIM_WINDOW, Settings

# A 4x enlargement spreads each source pixel over 16 compared pixels: the
# windows see interpolation, not the image, and unrelated 25-px photos score
# 0.93 at 512 x 512.
UPSAMPLED_FACTOR = 4.0
# Four windows in five below C2: the mean is then dominated by windows whose
# structure term is near 1 whatever they hold. Ordinary photos sit well below
# it: at 512 x 512 gray, scikit-image's photos (the Photos sample) have 0.38-0.77
# of their windows below C2, a blurred camera 0.85, the 25-px faces upsampled
# 20x 0.90-1.00.
SMOOTH_SHARE = 0.8
# Aspect ratios further apart than this are fitted differently (one stretched
# more than the other, or padded or cropped in other places).
ASPECT_TOLERANCE = 1.1

# The vocabulary, in the order flags are listed; each is explained, with a
# picture, in docs/flags.md.
FLAGS: dict[str, str] = {
    "tiny": "an image has a side shorter than the SSIM window: it holds less than one window",
    "upsampled": f"an image was enlarged {UPSAMPLED_FACTOR:g}x or more: the windows see "
    "interpolation, and unrelated images score high",
    "smooth": f"both images are mostly smooth (over {SMOOTH_SHARE:.0%} of windows below C2): "
    "SSIM's structure term is near 1 whatever they show",
    "size-mismatch": "the images' aspect ratios differ by more than "
    f"{ASPECT_TOLERANCE - 1:.0%}: the fit stretches, pads or crops them differently",
}


@dataclass(frozen=True)
class ImageFlags:
    """What an image is at the compared settings.

    Attributes
    ----------
    width, height : int
        The decoded image's size.
    upsampled : float
        How many times the fit enlarged it (`imgsim.images.enlargement`);
        below 1 it was shrunk.
    smooth : float
        The share of its SSIM windows whose variance is below C2
        (`imgsim.metrics.smooth_share`), in [0, 1].
    tiny : bool
        A side is shorter than the convention's SSIM window.
    """

    width: int
    height: int
    upsampled: float
    smooth: float
    tiny: bool

    @property
    def aspect(self) -> float:
        return self.width / self.height

    @property
    def flags(self) -> tuple[str, ...]:
        """The flags this image raises in any pair it is part of."""
        raised = {
            "tiny": self.tiny,
            "upsampled": self.upsampled >= UPSAMPLED_FACTOR,
        }
        return tuple(flag for flag, on in raised.items() if on)


def image_flags(size: tuple[int, int], prepared: np.ndarray, settings: Settings) -> ImageFlags:
    """The flags of one image.

    Parameters
    ----------
    size : (int, int)
        The decoded image's ``(width, height)``.
    prepared : ndarray of uint8, shape (H, W) or (H, W, C)
        The image as `imgsim.images.prepare` made it under ``settings``.
    settings : Settings

    Returns
    -------
    ImageFlags
    """
    width, height = size
    return ImageFlags(
        width=width,
        height=height,
        upsampled=enlargement(size, settings),
        smooth=smooth_share(prepared, settings.ssim_convention),
        tiny=min(width, height) < SSIM_WINDOW[settings.ssim_convention],
    )


def pair_flags(a: ImageFlags, b: ImageFlags) -> tuple[str, ...]:
    """The flags of a pair, in `FLAGS` order; empty when the score can be read as is."""
    # Plain tests, no intermediate dict: collections call this once per kept pair.
    flags = []
    if a.tiny or b.tiny:
        flags.append("tiny")
    if a.upsampled >= UPSAMPLED_FACTOR or b.upsampled >= UPSAMPLED_FACTOR:
        flags.append("upsampled")
    if a.smooth > SMOOTH_SHARE and b.smooth > SMOOTH_SHARE:
        flags.append("smooth")
    if max(a.aspect, b.aspect) / min(a.aspect, b.aspect) > ASPECT_TOLERANCE:
        flags.append("size-mismatch")
    return tuple(flags)


def group_flags(members: Sequence[ImageFlags]) -> tuple[str, ...]:
    """The flags of a group of images that were matched together.

    ``smooth`` when every member is mostly smooth (a group of smooth images is
    labelled so; a photo group holding one smooth image is not); ``upsampled``
    and ``tiny`` when any member is, since every link to that member may
    mislead; ``size-mismatch`` when the members' aspects spread wider than the
    tolerance.
    """
    if not members:
        return ()
    aspects = [member.aspect for member in members]
    raised = {
        "tiny": any(member.tiny for member in members),
        "upsampled": any("upsampled" in member.flags for member in members),
        "smooth": min(member.smooth for member in members) > SMOOTH_SHARE,
        "size-mismatch": max(aspects) / min(aspects) > ASPECT_TOLERANCE,
    }
    return tuple(flag for flag in FLAGS if raised[flag])


def flags_text(flags: Sequence[str]) -> str:
    """Flags as one short cell: ``"upsampled, smooth"``, or ``""`` for none."""
    return ", ".join(flags)
