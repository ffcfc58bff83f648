"""Labels of physics figures moved clear of the other elements' strokes.

A kind puts each label at a nominal place (beside an arrow's tip, above a block). Here every
label of all figures of an edit pair is tried at that place and then at growing offsets around
it, and keeps the first place whose box holds no stroke of any figure of the pair (their union,
so an unchanged label sits at the same place in both images) and no other label. A label with a
white plate (``box``) is meant to sit over field lines and stays where it is.

A label that names a point (``at``: the point's pixel, as solid-geometry figures have) tries each
ring's directions away from its point first, and takes no place whose box centre is farther than
``reach`` from its point or nearer to another label's point than to its own, so it cannot read as
another vertex's name.
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


def _offsets(away: np.ndarray | None = None) -> list[tuple[float, float]]:
    """Ring after ring of offsets; within a ring, those nearest to ``away`` first if given."""
    out = [(0.0, 0.0)]
    for r in RINGS[1:]:
        ring = []
        for k in range(DIRECTIONS):
            a = 2 * np.pi * k / DIRECTIONS
            ring.append((round(r * float(np.cos(a)), 2), round(-r * float(np.sin(a)), 2)))
        if away is not None:
            ring.sort(key=lambda o: -(o[0] * away[0] + o[1] * away[1]))
        out += ring
    return out


def _centre(box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _names_its_point(e: dict[str, Any], box, others: np.ndarray) -> bool:
    """A label with ``at`` stays within ``reach`` of its point, and nearer to it than to any
    other label's point."""
    if "at" not in e:
        return True
    c = _centre(box)
    own = float(np.hypot(*(c - e["at"])))
    nearest = float(np.hypot(*(others - c).T).min()) if len(others) else np.inf
    return own <= e.get("reach", np.inf) and own < nearest


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
    points = {
        (e["id"], tuple(e["at"])) for s in scenes for e in s["elements"] if e["type"] == "label" and "at" in e
    }
    for eid in ids:
        versions = [e for s in scenes for e in s["elements"] if e["id"] == eid]
        others = np.array([p for i, p in sorted(points) if i != eid]).reshape(-1, 2)
        away = None
        if "at" in versions[0]:
            v = _centre(label_box(versions[0])) - versions[0]["at"]
            away = v / (np.hypot(*v) or 1.0)
        for dx, dy in _offsets(away):
            boxes = [label_box({**e, "x": e["x"] + dx, "y": e["y"] + dy}) for e in versions]
            if all(
                _free(ink | taken, b) and _names_its_point(e, b, others)
                for e, b in zip(versions, boxes, strict=True)
            ):
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
