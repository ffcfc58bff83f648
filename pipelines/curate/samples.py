"""A small folder of real photos with known problems, built from scikit-image's bundled photos:
the input of ``make demo`` and of the curate tests. Each file's name says what it should become."""

from __future__ import annotations

import io
import os

import numpy as np
from PIL import Image

from synth.sources import PhotoPool

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def _save(img: Image.Image, path: str, fmt: str, **kw) -> None:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def write_sample_photos(folder: str) -> dict[str, str]:
    """Write the sample set; returns {relative path: expected outcome}: "kept", a reason code, or
    "group:<photo>" for the copies of one photo, of which exactly one is kept (the smallest sample
    id when no aesthetic score is computed) and the others are duplicates of it."""
    os.makedirs(os.path.join(folder, "copies"), exist_ok=True)
    expected: dict[str, str] = {}
    for name in PHOTOS:
        pixels = PhotoPool._skimage_pixels(name)
        img = Image.fromarray(pixels)
        _save(img, os.path.join(folder, f"{name}.png"), "PNG")
        expected[f"{name}.png"] = f"group:{name}"
        w, h = img.size
        # near duplicates: 1.5x size, JPEG at quality 70, a 1% crop (2% crops move pHash 4 to 8 bits)
        _save(
            img.resize((w * 3 // 2, h * 3 // 2), Image.LANCZOS),
            os.path.join(folder, "copies", f"{name}_big.png"),
            "PNG",
        )
        _save(img, os.path.join(folder, "copies", f"{name}_q70.jpg"), "JPEG", quality=70)
        dx, dy = w // 200, h // 200
        _save(img.crop((dx, dy, w - dx, h - dy)), os.path.join(folder, "copies", f"{name}_crop.png"), "PNG")
        expected.update(
            {
                f"copies/{name}_big.png": f"group:{name}",
                f"copies/{name}_q70.jpg": f"group:{name}",
                f"copies/{name}_crop.png": f"group:{name}",
            }
        )
    # an exact duplicate in another format (lossless WebP of the same pixels)
    _save(
        Image.fromarray(PhotoPool._skimage_pixels("coffee")),
        os.path.join(folder, "copies", "coffee_lossless.webp"),
        "WEBP",
        lossless=True,
    )
    expected["copies/coffee_lossless.webp"] = "group:coffee"  # same pixels as coffee.png
    small = Image.fromarray(PhotoPool._skimage_pixels("chelsea")).resize((120, 90))
    _save(small, os.path.join(folder, "thumbnail.jpg"), "JPEG", quality=90)
    expected["thumbnail.jpg"] = "too_small"
    banner = Image.fromarray(PhotoPool._skimage_pixels("rocket")).crop((0, 0, 427, 100)).resize((1200, 280))
    _save(banner, os.path.join(folder, "banner.png"), "PNG")
    expected["banner.png"] = "bad_aspect"
    with open(os.path.join(folder, "notes.jpg"), "wb") as f:
        f.write(b"this is a text file, not a photo\n")
    expected["notes.jpg"] = "decode_error"
    data = io.BytesIO()
    Image.fromarray(PhotoPool._skimage_pixels("astronaut")).save(data, format="JPEG", quality=90)
    with open(os.path.join(folder, "truncated.jpg"), "wb") as f:
        f.write(data.getvalue()[: len(data.getvalue()) // 3])
    expected["truncated.jpg"] = "decode_error"
    gradient = np.tile(np.linspace(0, 255, 640, dtype=np.uint8), (480, 1))
    _save(
        Image.fromarray(np.stack([gradient, gradient[::-1], np.full_like(gradient, 90)], -1)),
        os.path.join(folder, "gradient.png"),
        "PNG",
    )
    expected["gradient.png"] = "kept"
    return expected
