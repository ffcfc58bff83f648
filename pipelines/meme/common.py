"""What the meme stages share: the per-worker memo, the faces and drawing of a plan, the plan's
language and style draws."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from pipelines.meme.config import MemeConfig
from pipelines.meme.regions import Box
from renderers.meme import Caption, Meme, MemeFonts, draw_meme
from synth.fonts import FontFace, FontRegistry, face_digest
from synth.identity import digest, sample_rng
from synth.sampling import choice
from synth.stage import Row

Group = dict[str, Any]


class Memo:
    """The last ``size`` values by key (a template's detection, a plan's drawing), thread-safe."""

    def __init__(self, size: int = 32):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


def downscale(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, max_side / max(image.shape[:2]))
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image, scale


def face_named(fonts: FontRegistry, names: list[str], what: str) -> FontFace:
    by_name = {f.name: f for f in fonts.faces}
    for name in names:
        if name in by_name:
            return by_name[name]
    raise RuntimeError(
        f"none of the {what} faces {names} is installed (Debian: apt-get install fonts-bebas-neue "
        "fonts-liberation fonts-noto-cjk, or name installed faces in render.*_fonts)"
    )


class Drawer:
    """The faces of each style and the drawing of a plan onto a template (one place for the photo
    templates' own captions and the plans' captions)."""

    def __init__(self, cfg: MemeConfig):
        r = cfg.render
        fonts = cfg.fonts.registry()
        cjk = face_named(fonts, r.cjk_fonts, "Chinese")
        self.fonts = {
            "classic": MemeFonts(face_named(fonts, r.classic_fonts, "classic (Impact-like)"), cjk),
            "modern": MemeFonts(face_named(fonts, r.modern_fonts, "modern"), cjk),
        }
        self.cfg = r

    def draw(
        self, template: np.ndarray, plan: dict, language: str, style: str, named: dict[str, Box]
    ) -> Meme:
        captions = [
            Caption(c[language], c["placement"], named[c["region"]] if c["placement"] == "label" else None)
            for c in plan["captions"]
        ]
        return draw_meme(template, captions, style, self.fonts[style], max_lines=self.cfg.max_lines,
                         size_ratio=self.cfg.size_ratio, min_size_ratio=self.cfg.min_size_ratio)  # fmt: skip

    def digests(self, meme: Meme) -> dict[str, str]:
        """The font files a drawing used, by face name (run.json records them per unit)."""
        faces = {f.name: f for m in self.fonts.values() for f in (m.latin, m.cjk)}
        return {ln.font: face_digest(faces[ln.font].path) for ln in meme.lines}


def plan_draws(row: Row, cfg: MemeConfig) -> tuple[np.random.Generator, str, str]:
    """(the plan's RNG, its language, its style): one per (template, plan index), whatever the row."""
    rng = sample_rng(int(digest(row["_group_seed"], "plan", row["_plan_index"])[:15], 16))
    return rng, choice(rng, cfg.joke.languages), choice(rng, cfg.render.styles)


def drawn_captions(meme: Meme, plan: dict) -> list[dict[str, Any]]:
    """Each caption as drawn: {region, text (its lines joined)}."""
    out = []
    for i, c in enumerate(plan["captions"]):
        lines = [ln.text for ln in meme.lines if ln.caption == i]
        if lines:
            out.append({"region": c["region"], "placement": c["placement"], "text": " ".join(lines)})
    return out
