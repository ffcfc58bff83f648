"""A folder of photos with text on them, for the real-scene path in tests and ``make demo``:
scikit-image's photos with signs drawn by the text renderer (their ground truth is not used: OCR
has to find the text), plus inputs that must be rejected with their reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from renderers.text.render import render
from synth.fonts import FontRegistry
from synth.sources import PhotoPool

SIGNS = ["Grand Opening", "Coffee Shop", "Fresh Bread", "City Library", "Open Daily", "Book Fair",
         "Summer Sale", "Night Market", "Exit Only", "Main Street", "Farmers Market", "Art Gallery"]  # fmt: skip
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field"]


def _scene(
    photo_ref: str, digest: str, texts: list[tuple[str, list[int], tuple[int, int]]], face, size
) -> dict:
    blocks = [
        {"role": "title", "text": t, "language": "en", "font": {"path": face.path, "index": face.index,
         "name": face.name, "kind": face.kind, "bold": face.bold}, "color": "#ffffff", "align": "center",
         "valign": "center", "box": box, "sizes": list(sizes), "max_lines": 1, "outline": True, "shadow": False,
         "warp": None}
        for t, box, sizes in texts
    ]  # fmt: skip
    return {"width": size[0], "height": size[1], "language": "en", "layout": "photo",
            "background": {"kind": "photo", "ref": photo_ref, "digest": digest, "crop": [0.5, 0.5]},
            "blocks": blocks, "min_contrast": 4.5}  # fmt: skip


def write_sample_scenes(folder: str | Path, n: int = 6) -> dict[str, str]:
    """Write ``n`` photos with signs plus the bad cases; returns {file name: expected outcome}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pool = PhotoPool(None)
    by_name = {ref.split(":")[-1]: pool.load(ref) for ref in pool}
    faces = [
        f for f in FontRegistry(exclude=["Math", "Mono", "Italic", "Oblique"]).require("latin") if f.bold
    ]
    face = faces[0]
    expected = {}
    for i in range(n):
        name = PHOTOS[i % len(PHOTOS)]
        photo = by_name[name]
        w, h = 768, 576
        texts = [(SIGNS[(2 * i) % len(SIGNS)], [120, 90, 650, 190], (48, 64))]
        if i % 2:
            texts.append((SIGNS[(2 * i + 1) % len(SIGNS)], [160, 380, 610, 460], (36, 48)))
        image = render(_scene(photo.ref, photo.digest, texts, face, (w, h)), photo.pixels).image
        file = f"sign_{i:02d}.{'jpg' if i % 2 else 'png'}"
        Image.fromarray(image).save(folder / file, quality=92)
        expected[file] = "kept"
    rng = np.random.default_rng(0)
    plain = np.clip(np.linspace(40, 200, 640)[None, :, None] + rng.normal(0, 2, (480, 640, 3)), 0, 255)
    Image.fromarray(plain.astype(np.uint8)).save(folder / "no_text.png")
    expected["no_text.png"] = "no_text_found"
    coffee = by_name["coffee"]
    tiny = render(_scene(coffee.ref, coffee.digest, [("tiny print here", [300, 250, 420, 262], (8, 9))], face,
                         (768, 576)), coffee.pixels).image  # fmt: skip
    Image.fromarray(tiny).save(folder / "tiny_text.png")
    expected["tiny_text.png"] = "text_too_small"
    edge = render(_scene(coffee.ref, coffee.digest, [("Edge Sign", [0, 0, 300, 70], (48, 56))], face, (768, 576)),
                  coffee.pixels).image  # fmt: skip
    Image.fromarray(edge).save(folder / "text_at_edge.png")
    expected["text_at_edge.png"] = "text_at_border"
    data = (folder / "sign_01.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    expected["truncated.jpg"] = "decode_error"
    return expected
