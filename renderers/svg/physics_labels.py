"""Labels of physics figures moved clear of the other elements' strokes.

A kind puts each label at a nominal place (beside an arrow's tip, above a block). Here every
label of all figures of an edit pair is tried at that place and then at growing offsets around
it, and keeps the first place whose box holds no stroke of any figure of the pair (their union,
so an unchanged label sits at the same place in both images) and no other label. A label with a
white plate (``box``) is meant to sit over field lines and stays where it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.diagrams.graph import LabelClash
from renderers.svg.physics import scene_svg
from renderers.svg.safe import SvgRenderer
from renderers.svg.text import advance

INK = 200  # a pixel whose darkest channel is below this is a stroke (light fills are not)
PAD = 3  # pixels of white a label keeps around its box
RINGS = (0, 6, 12, 18, 26, 34, 44, 56, 70)  # offsets tried, pixels
DIRECTIONS = 16


def label_box(e: dict[str, Any], text: str | None = None) -> tuple[float, float, float, float]:
    """The box of a label element's text, as :func:`renderers.svg.text.text_boxes` measures it."""
    size, anchor = e.get("size", 18), e.get("anchor", "middle")
    adv = advance(text or e["text"], size)
    x0 = e["x"] - adv / 2 if anchor == "middle" else e["x"] - adv if anchor == "end" else e["x"]
    return x0, e["y"] - 0.8 * size, x0 + adv, e["y"] + 0.25 * size


def _offsets() -> list[tuple[float, float]]:
    out = [(0.0, 0.0)]
    for r in RINGS[1:]:
        for k in range(DIRECTIONS):
            a = 2 * np.pi * k / DIRECTIONS
            out.append((round(r * float(np.cos(a)), 2), round(-r * float(np.sin(a)), 2)))
    return out


def place_labels(scenes: list[dict[str, Any]], renderer: SvgRenderer) -> list[dict[str, Any]]:
    """The scenes with every plain label moved to its first clear place (the same in all)."""
    w, h = scenes[0]["canvas"]
    ink = np.zeros((h, w), dtype=bool)
    for s in scenes:
        bare = {**s, "elements": [e for e in s["elements"] if e["type"] != "label"]}
        ink |= renderer.rgb(scene_svg(bare), w, h).min(axis=2) < INK
    taken = np.zeros_like(ink)
    for s in scenes:  # plated labels stay, and others keep clear of them
        for e in s["elements"]:
            if e["type"] == "label" and e.get("box"):
                _mark(taken, label_box(e))
    moved: dict[str, tuple[float, float]] = {}
    ids = sorted(
        {e["id"] for s in scenes for e in s["elements"] if e["type"] == "label" and not e.get("box")}
    )
    for eid in ids:
        versions = [e for s in scenes for e in s["elements"] if e["id"] == eid]
        for dx, dy in _offsets():
            boxes = [label_box({**e, "x": e["x"] + dx, "y": e["y"] + dy}) for e in versions]
            if all(_free(ink | taken, b) for b in boxes):
                moved[eid] = (dx, dy)
                for b in boxes:
                    _mark(taken, b)
                break
        else:
            raise LabelClash(f"label {versions[0]['text']!r} finds no place clear of the figure")
    return [
        {
            **s,
            "elements": [
                {**e, "x": round(e["x"] + moved[e["id"]][0], 2), "y": round(e["y"] + moved[e["id"]][1], 2)}
                if e["id"] in moved
                else e
                for e in s["elements"]
            ],
        }
        for s in scenes
    ]


def _span(box, pad: int, limit: tuple[int, int]) -> tuple[int, int, int, int] | None:
    x0, y0 = int(np.floor(box[0])) - pad, int(np.floor(box[1])) - pad
    x1, y1 = int(np.ceil(box[2])) + pad, int(np.ceil(box[3])) + pad
    if x0 < 0 or y0 < 0 or x1 > limit[1] or y1 > limit[0]:
        return None
    return x0, y0, x1, y1


def _free(blocked: np.ndarray, box) -> bool:
    s = _span(box, PAD, blocked.shape)
    return s is not None and not blocked[s[1] : s[3], s[0] : s[2]].any()


def _mark(taken: np.ndarray, box) -> None:
    x0, y0 = max(0, int(box[0]) - PAD), max(0, int(box[1]) - PAD)
    taken[y0 : int(np.ceil(box[3])) + PAD, x0 : int(np.ceil(box[2])) + PAD] = True
