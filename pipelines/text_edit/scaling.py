"""Scaling a pinned block in place (the ``size`` edit): the box that draws the block's text at a new
size with the same lines, its alignment edge fixed, and its text inside the page margins. A
left-aligned block grows to the right, a right-aligned one to the left, a centred one both ways;
a top-aligned block grows downwards, a vertically centred one both ways."""

from __future__ import annotations

import numpy as np

from renderers.text.render import RenderError, layout
from synth.sampling import NotApplicable

PAGE_MARGIN = 0.06  # of the canvas side: the narrowest margin of the text-render layouts

# what a size edit keeps in place, by (align, valign): what the instruction says of the drawing
KEEPS = {
    ("left", "top"): ("keeping its top-left corner where it is", "左上角位置不变"),
    ("center", "top"): ("keeping it centred, its top edge where it is", "保持水平居中，顶边位置不变"),
    ("right", "top"): ("keeping its top-right corner where it is", "右上角位置不变"),
    ("left", "center"): ("keeping its left edge where it is", "左边缘位置不变"),
    ("center", "center"): ("keeping it centred where it is", "位置保持居中不变"),
    ("right", "center"): ("keeping its right edge where it is", "右边缘位置不变"),
}


def page_area(ink: list[float], width: int, height: int) -> tuple[float, float, float, float]:
    """Where an edited block's text may reach: inside the page margin (:data:`PAGE_MARGIN` of each
    side), or, on a side where the text already came closer to the edge, no closer than it was."""
    mx, my = PAGE_MARGIN * width, PAGE_MARGIN * height
    return min(ink[0], mx), min(ink[1], my), max(ink[2], width - mx), max(ink[3], height - my)


def _span(lo: int, hi: int, length: int, anchor: str, limit: tuple[int, int]) -> tuple[int, int]:
    """``[lo, hi]`` resized to ``length`` from its anchored edge (``start``/``end``) or around its
    centre, never past ``limit``: a centred span loses as much on both sides, so its centre stays."""
    if anchor == "start":
        return lo, max(lo + 1, min(lo + length, limit[1]))
    if anchor == "end":
        return min(hi - 1, max(hi - length, limit[0])), hi
    d = (length - (hi - lo)) // 2
    d = min(d, lo - limit[0], limit[1] - hi) if d > 0 else max(d, -((hi - lo - 1) // 2))
    return lo - d, hi + d


def scaled_box(
    block: dict, drawn: dict, ink: list[float], new_size: int, width: int, height: int
) -> list[int]:
    """The box of ``block`` redrawn at ``new_size``: its alignment edges kept (left-aligned text grows
    to the right, right-aligned to the left, centred both ways; top-aligned downwards), breaking
    into the lines it was drawn in (``drawn``, its plan block), its text inside :func:`page_area` of
    its drawn ``ink``. Raises NotApplicable when no such box exists, so the scene is redrawn."""
    x0, y0, x1, y1 = block["box"]
    ratio = new_size / drawn["size"]
    area = page_area(ink, width, height)
    h_anchor = {"left": "start", "right": "end"}.get(block.get("align", "left"), "center")
    v_anchor = "start" if block.get("valign", "top") == "top" else "center"
    top, bottom = _span(y0, y1, int(np.ceil((y1 - y0) * max(1.0, ratio))), v_anchor, (0, height))
    lines = [ln["text"] for ln in drawn["lines"]]
    blank = np.zeros((height, width, 3), np.uint8)
    for box_w in dict.fromkeys((x1 - x0, int(np.ceil((x1 - x0) * ratio)) + 2)):  # as it was, or scaled
        left, right = _span(x0, x1, box_w, h_anchor, (0, width))
        box = [left, top, right, bottom]
        alone = {"background": {"kind": "solid", "colors": ["#000000"]},
                 "blocks": [{**block, "box": box, "sizes": [new_size, new_size]}]}  # fmt: skip
        try:
            plan, texts, *_ = layout(alone, blank)
        except RenderError:
            continue
        inks = [t["bbox"] for t in texts]
        inside = all(
            area[0] <= b[0] and area[1] <= b[1] and b[2] <= area[2] and b[3] <= area[3] for b in inks
        )
        if inside and [ln["text"] for ln in plan["blocks"][0]["lines"]] == lines:
            return box
    raise NotApplicable(f"at {new_size} px the {block['role']} would not keep its lines inside the margins")
