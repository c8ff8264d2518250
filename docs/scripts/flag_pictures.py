"""Draw docs/flags.png: one real comparison for each flag, as the metrics saw it.

Run from the repository root: ``python docs/scripts/flag_pictures.py``. Every
number drawn comes from `imgsim.compare` at the default settings.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage import data

import imgsim
from imgsim.analyses import FLAGS

SIDE = 200  # each compared image is drawn at this size
OUT = Path(__file__).resolve().parents[1] / "flags.png"


def shrunk(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def cases() -> dict[str, list[tuple[str, np.ndarray]]]:
    coffee = data.coffee()
    ramp = np.tile(np.linspace(90, 140, 512), (512, 1)).astype(np.uint8)
    return {
        "tiny": [
            ("3x3 noise", np.random.default_rng(0).integers(0, 256, (3, 3), np.uint8)),
            ("camera", data.camera()),
        ],
        "upsampled": [
            ("grass, 25 px", shrunk(data.grass(), 25, 25)),
            ("moon, 25 px", shrunk(data.moon(), 25, 25)),
        ],
        "smooth": [("ramp, left to right", ramp), ("ramp, top to bottom", ramp.T.copy())],
        "size-mismatch": [
            ("coffee, landscape", coffee),
            ("coffee, portrait crop", coffee[:, 150:450]),
        ],
    }


def main() -> None:
    font = ImageFont.load_default(size=15)
    rows = []
    for flag, inputs in cases().items():
        result = imgsim.compare(inputs)
        (pair,) = result.pairs()
        prepared = [
            imgsim.prepare(imgsim.from_array(image), result.settings) for _, image in inputs
        ]
        row = Image.new("RGB", (2 * SIDE + 470, SIDE + 30), "white")
        for column, ((name, _), image) in enumerate(zip(inputs, prepared, strict=True)):
            tile = Image.fromarray(image).convert("RGB").resize((SIDE, SIDE), Image.NEAREST)
            row.paste(tile, (column * (SIDE + 10), 0))
            ImageDraw.Draw(row).text(
                (column * (SIDE + 10), SIDE + 6), name, fill="black", font=font
            )
        draw = ImageDraw.Draw(row)
        x = 2 * SIDE + 30
        draw.text((x, 10), f"flag: {flag}", fill="black", font=ImageFont.load_default(size=20))
        draw.text((x, 45), f"SSIM {pair.ssim:.3f}   MSE {pair.mse:.1f}", fill="black", font=font)
        draw.text((x, 70), f"flags: {', '.join(pair.flags)}", fill="firebrick", font=font)
        for line, (image_flags, (name, _)) in enumerate(
            zip(result.image_flags, inputs, strict=True)
        ):
            text = f"{name}: enlarged {image_flags.upsampled:.3g}x, {image_flags.smooth:.0%} smooth"
            draw.text((x, 100 + 22 * line), text, fill="dimgray", font=font)
        words, lines = FLAGS[flag].split(), [""]
        for word in words:
            lines[-1:] = [lines[-1] + " " + word] if len(lines[-1]) < 48 else [lines[-1], word]
        draw.multiline_text(
            (x, 150), "\n".join(line.strip() for line in lines), fill="black", font=font
        )
        rows.append(row)
    figure = Image.new("RGB", (rows[0].width, sum(row.height + 20 for row in rows)), "white")
    for index, row in enumerate(rows):
        figure.paste(row, (0, index * (row.height + 20)))
    figure.save(OUT, optimize=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
