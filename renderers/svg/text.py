"""Where the ``<text>`` of an SVG lands in pixels: the boxes OCR reads labels back from.

Works for the SVG of Graphviz, of matplotlib (with ``svg.fonttype: none``) and of our physics
figures: position, anchor and size from attributes or inline style, transforms of the element and
its ancestors (translate, scale, matrix; rotated text is skipped, OCR reads horizontal lines), and
the advance width measured with the font the renderer uses (DejaVu Sans, or 1 em per CJK glyph).
"""

from __future__ import annotations

import functools
import re
from xml.etree.ElementTree import Element

import numpy as np
from PIL import ImageFont

from renderers.svg.safe import _local, intrinsic_size, parse

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TRANSFORM = re.compile(r"(matrix|translate|scale|rotate)\s*\(([^)]*)\)")


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return None


def advance(text: str, size: float) -> float:
    """Width of ``text`` at ``size`` px: DejaVu Sans metrics, 1 em per wide (CJK) glyph."""
    font = _font(max(1, round(size)))
    total = 0.0
    for ch in text:
        if ord(ch) >= 0x2E80:
            total += size
        elif font is not None:
            total += font.getlength(ch)
        else:
            total += 0.6 * size
    return total


def _matrix(transform: str | None) -> np.ndarray | None:
    """The 3x3 affine of an SVG transform list; None when it rotates or skews."""
    m = np.eye(3)
    for name, args in _TRANSFORM.findall(transform or ""):
        v = [float(a) for a in re.findall(_NUM, args)]
        if name == "translate":
            t = np.array([[1, 0, v[0]], [0, 1, v[1] if len(v) > 1 else 0], [0, 0, 1]])
        elif name == "scale":
            t = np.diag([v[0], v[1] if len(v) > 1 else v[0], 1])
        elif name == "rotate":
            if v[0] % 360:
                return None
            continue
        else:
            a, b, c, d, e, f = v
            if abs(b) > 1e-9 or abs(c) > 1e-9:
                return None
            t = np.array([[a, c, e], [b, d, f], [0, 0, 1]])
        m = m @ t
    return m


def _style(el: Element, key: str) -> str | None:
    if el.get(key) is not None:
        return el.get(key)
    style = el.get("style") or ""
    m = re.search(rf"(?:^|;)\s*{key}\s*:\s*([^;]+)", style)
    if m:
        return m.group(1).strip()
    if key == "font-size":
        m = re.search(rf"(?:^|;)\s*font\s*:\s*(?:[a-z]+\s+)*({_NUM})px", style)
        return m.group(1) if m else None
    return None


def text_boxes(svg: str | bytes, width: int | None = None, height: int | None = None) -> list[dict]:
    """``[{"text", "bbox": [x0, y0, x1, y1]}]`` in pixels of the SVG rendered at width x height
    (default: its intrinsic size), in document order."""
    root = parse(svg)
    w, h = intrinsic_size(root)
    box = [float(p) for p in re.split(r"[\s,]+", (root.get("viewBox") or f"0 0 {w} {h}").strip()) if p]
    sx, sy = (width or w) / box[2], (height or h) / box[3]
    out: list[dict] = []

    def walk(el: Element, m: np.ndarray | None) -> None:
        if m is None:
            return
        local = _matrix(el.get("transform"))
        m = None if local is None else m @ local
        if m is None:
            return
        if _local(el.tag) == "text":
            text = "".join(el.itertext()).strip()
            size = float(re.findall(_NUM, _style(el, "font-size") or "14")[0])
            if text:
                x, y = float(el.get("x", 0)), float(el.get("y", 0))
                adv = advance(text, size)
                anchor = _style(el, "text-anchor") or "start"
                x0 = x - adv / 2 if anchor == "middle" else x - adv if anchor == "end" else x
                corners = m @ np.array([[x0, x0 + adv], [y - 0.8 * size, y + 0.25 * size], [1, 1]])
                xs = (corners[0] - box[0]) * sx
                ys = (corners[1] - box[1]) * sy
                out.append(
                    {
                        "text": text,
                        "bbox": [float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())],
                    }
                )
            return
        for child in el:
            walk(child, m)

    walk(root, np.eye(3))
    return out
