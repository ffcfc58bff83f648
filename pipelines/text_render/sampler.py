"""Seeded scene specs for text rendering: canvas, background, layout template, texts, fonts, colours.

A spec is plain JSON. Everything random is drawn here from the sample's own RNG; the renderer is
a pure function of the spec (plus the photo's pixels).
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipelines.text_render.config import TextRenderConfig
from pipelines.text_render.texts import TextSource
from renderers.text.color import NAMED, hex_color
from synth.fonts import FontFace, FontRegistry
from synth.sampling import choice

# role, box (fractions x0, y0, x1, y1), font sizes (fractions of height), align, max lines
TEMPLATES: dict[str, list[tuple]] = {
    "title": [
        ("title", (0.08, 0.26, 0.92, 0.56), (0.04, 0.15), "center", 3),
        ("subtitle", (0.12, 0.60, 0.88, 0.74), (0.025, 0.06), "center", 2),
    ],
    "poster": [
        ("title", (0.07, 0.06, 0.93, 0.28), (0.04, 0.13), "center", 2),
        ("subtitle", (0.10, 0.31, 0.90, 0.41), (0.025, 0.055), "center", 2),
        ("body", (0.10, 0.45, 0.90, 0.81), (0.022, 0.045), "align", None),
        ("footer", (0.10, 0.86, 0.90, 0.94), (0.02, 0.035), "center", 1),
    ],
    "slide": [
        ("title", (0.06, 0.06, 0.94, 0.21), (0.035, 0.09), "left", 2),
        ("bullets", (0.08, 0.27, 0.92, 0.92), (0.024, 0.05), "left", None),
    ],
    "list": [
        ("title", (0.08, 0.07, 0.92, 0.22), (0.035, 0.09), "center", 2),
        ("numbered", (0.12, 0.28, 0.88, 0.93), (0.024, 0.05), "left", None),
    ],
    "paragraph": [
        ("title", (0.08, 0.08, 0.92, 0.24), (0.035, 0.09), "left", 2),
        ("body", (0.08, 0.29, 0.92, 0.88), (0.024, 0.05), "left", None),
    ],
    "columns": [
        ("title", (0.06, 0.06, 0.94, 0.22), (0.035, 0.09), "center", 2),
        ("body", (0.06, 0.28, 0.48, 0.90), (0.022, 0.045), "left", None),
        ("body", (0.52, 0.28, 0.94, 0.90), (0.022, 0.045), "left", None),
    ],
}
PHOTO_BLOCKS = [
    ("title", (0.45, 0.85), (0.10, 0.18)),
    ("subtitle", (0.35, 0.7), (0.06, 0.10)),
    ("footer", (0.3, 0.55), (0.05, 0.08)),
]
TEXTURES = ["noise", "paper", "stripes", "dots"]


def _random_color(rng: np.random.Generator, light: bool | None = None) -> tuple[int, int, int]:
    """A random colour in HSV, light or dark when asked."""
    h, s = rng.random(), rng.uniform(0.2, 0.9)
    v = (
        rng.uniform(0.82, 1.0)
        if light
        else rng.uniform(0.1, 0.45)
        if light is False
        else rng.uniform(0.2, 1.0)
    )
    return tuple(int(c * 255) for c in colorsys.hsv_to_rgb(h, s, v))


def sample_background(
    rng: np.random.Generator, kind: str, photos: Sequence[str]
) -> tuple[dict[str, Any], bool]:
    """A background spec and whether it is light (to pick text colours that tend to contrast).
    ``photos`` are the refs of the photo pool; a photo spec gets its ``digest`` from the stage that
    reads the picked photo (the pool is never read whole)."""
    light = bool(rng.random() < 0.6)
    c0 = _random_color(rng, light)
    c1 = tuple(int(np.clip(v + rng.integers(-50, 51), 0, 255)) for v in c0)
    if kind == "solid":
        return {"kind": "solid", "colors": [hex_color(c0)]}, light
    if kind == "gradient":
        style = "radial" if rng.random() < 0.3 else "linear"
        return {
            "kind": "gradient",
            "style": style,
            "angle": float(rng.integers(0, 360)),
            "colors": [hex_color(c0), hex_color(c1)],
        }, light
    if kind == "texture":
        c1 = tuple(int(np.clip(v + rng.integers(-35, 36), 0, 255)) for v in c0)
        return {
            "kind": "texture",
            "pattern": TEXTURES[int(rng.integers(len(TEXTURES)))],
            "seed": int(rng.integers(2**31)),
            "period": int(rng.integers(16, 48)),
            "colors": [hex_color(c0), hex_color(c1)],
        }, light
    ref = photos[int(rng.integers(len(photos)))]
    crop = [round(float(rng.random()), 3), round(float(rng.random()), 3)]
    return {"kind": "photo", "ref": ref, "crop": crop}, light


def _font_for(rng: np.random.Generator, fonts: FontRegistry, text: str, language: str, role: str) -> FontFace:
    faces = fonts.for_text(text, "han" if language == "zh" else "latin")
    if role in ("body", "bullets", "numbered", "footer"):
        plain = [f for f in faces if not f.bold and not f.italic]
        faces = plain or faces
    if not faces:
        raise ValueError(f"no font covers {text!r}")
    return faces[int(rng.integers(len(faces)))]


def _block_text(rng: np.random.Generator, texts: TextSource, role: str, language: str) -> str:
    if role in ("bullets", "numbered"):
        items = [texts.draw(rng, "item", language) for _ in range(int(rng.integers(3, 6)))]
        if role == "numbered":
            items = [f"{i}. {t}" for i, t in enumerate(items, 1)]
        return "\n".join(items)
    return texts.draw(rng, role, language)


def _text_color(rng: np.random.Generator, light_bg: bool) -> str:
    if rng.random() < 0.5:
        named = [c for _, _, c in NAMED if (sum(c) < 300) == light_bg]
        return hex_color(named[int(rng.integers(len(named)))])
    return hex_color(_random_color(rng, light=not light_bg))


def sample_spec(
    rng: np.random.Generator,
    cfg: TextRenderConfig,
    fonts: FontRegistry,
    texts: TextSource,
    photos: Sequence[str],
) -> dict[str, Any]:
    r = cfg.render
    width, height = r.sizes[int(rng.integers(len(r.sizes)))]
    language = choice(rng, r.languages)
    kind = choice(rng, r.backgrounds)
    background, light = sample_background(rng, kind, photos)

    def block_language(i: int) -> str:
        return language if language != "mixed" else ("zh", "en")[(i + int(rng.integers(2))) % 2]

    blocks = []
    if kind == "photo":
        n = int(rng.integers(1, len(PHOTO_BLOCKS) + 1))
        layout = "photo"
        for i, (role, fw, fh) in enumerate(PHOTO_BLOCKS[:n]):
            lang = block_language(i)
            text = texts.draw(rng, role, lang)
            blocks.append(
                {
                    "role": role,
                    "text": text,
                    "language": lang,
                    "font": font_ref(_font_for(rng, fonts, text, lang, role)),
                    "color": _text_color(rng, bool(rng.random() < 0.5)),
                    "align": "center",
                    "valign": "center",
                    "place": _photo_place(rng, text, lang, (fw, fh), width, height),
                    "sizes": [max(14, int(0.03 * height)), int(0.16 * height)],
                    "max_lines": 2,
                    "outline": bool(rng.random() < r.outline_prob),
                    "shadow": bool(rng.random() < r.shadow_prob),
                    "warp": [round(float(v), 4) for v in rng.uniform(-r.warp_max, r.warp_max, 8)]
                    if r.warp_max
                    else None,
                }
            )
    else:
        layout = choice(rng, r.layouts)
        body_align = ["left", "center", "right"][int(rng.integers(3))]
        for i, (role, box, sizes, align, max_lines) in enumerate(TEMPLATES[layout]):
            lang = block_language(i)
            text = _block_text(rng, texts, role, lang)
            blocks.append(
                {
                    "role": "list" if role in ("bullets", "numbered") else role,
                    "text": text,
                    "language": lang,
                    "font": font_ref(_font_for(rng, fonts, text, lang, role)),
                    "color": _text_color(rng, light),
                    "align": body_align if align == "align" else align,
                    "valign": "center" if layout == "title" else "top",
                    "box": [
                        int(box[0] * width),
                        int(box[1] * height),
                        int(box[2] * width),
                        int(box[3] * height),
                    ],
                    "sizes": [max(14, int(sizes[0] * height)), max(16, int(sizes[1] * height))],
                    "max_lines": max_lines,
                    "bullet": "dot" if role == "bullets" else None,
                }
            )
    return {
        "width": width,
        "height": height,
        "language": language,
        "layout": layout,
        "background": background,
        "blocks": blocks,
        "min_contrast": r.min_contrast,
    }


def _photo_place(
    rng: np.random.Generator, text: str, language: str, fractions: tuple, width: int, height: int
) -> dict[str, list[float]]:
    """Where a photo block goes: a random anchor and size, widened to what its text needs in the
    lines the box's height holds at the smallest size (CJK faces' lines are ~1.7 em apart)."""
    anchor = [round(float(rng.uniform(0.2, 0.8)), 3), round(float(rng.uniform(0.15, 0.85)), 3)]
    (fw, fh), em = fractions, max(14, 0.03 * height)
    w, h = float(rng.uniform(*fw)), float(rng.uniform(*fh))
    lines = max(1, min(2, int(h * height // (1.7 * em))))
    return {
        "anchor": anchor,
        "size": [round(max(w, _min_width(text, language, width, height, lines)), 3), round(h, 3)],
    }


def _min_width(text: str, language: str, width: int, height: int, lines: int = 2) -> float:
    """Box width (fraction of the canvas) that holds ``text`` in ``lines`` lines at the smallest
    allowed size, estimated from average advance widths (CJK ~1 em, Latin ~0.6 em: wide and bold
    faces included) with room for what greedy line breaking wastes."""
    em = max(14, 0.03 * height)
    advance = sum(1.0 if ord(c) > 0x2E80 else 0.6 for c in text) * em
    return min(0.92, 1.3 * advance / lines / width)


def font_ref(face: FontFace) -> dict[str, Any]:
    return {"path": face.path, "index": face.index, "name": face.name, "kind": face.kind, "bold": face.bold}
