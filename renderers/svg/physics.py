"""Physics figures as SVG: a scene spec (elements with absolute coordinates) in, SVG text out.

Each element becomes one ``<g id=...>`` drawn only from its own fields, so an element an edit does
not touch produces identical SVG, and so identical pixels, in both images of a pair. Coordinates
are SVG user units (y down) on the scene's canvas. Labels are ``<text>`` in DejaVu Sans, which
the OCR check reads back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Any, ClassVar

from renderers.svg.text import advance

STROKE = "#222222"
FONT = "DejaVu Sans"


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _pts(points) -> str:
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in points)


def line(x1, y1, x2, y2, width=2.0, color=STROKE, dash: str | None = None) -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{color}" stroke-width="{_f(width)}"{d}/>'


def arrow_head(x1, y1, x2, y2, size=12.0, color=STROKE) -> str:
    a = math.atan2(y2 - y1, x2 - x1)
    left = (x2 - size * math.cos(a - 0.4), y2 - size * math.sin(a - 0.4))
    right = (x2 - size * math.cos(a + 0.4), y2 - size * math.sin(a + 0.4))
    return f'<polygon points="{_pts([(x2, y2), left, right])}" fill="{color}"/>'


def arrow(x1, y1, x2, y2, width=2.5, color=STROKE, dash=None) -> str:
    a = math.atan2(y2 - y1, x2 - x1)
    return line(x1, y1, x2 - 8 * math.cos(a), y2 - 8 * math.sin(a), width, color, dash) + arrow_head(
        x1, y1, x2, y2, color=color
    )


def text(x, y, s: str, size=18.0, anchor="middle", color=STROKE, italic=False) -> str:
    style = ' font-style="italic"' if italic else ""
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-family="{FONT}" font-size="{_f(size)}" text-anchor="{anchor}" fill="{color}"{style}>'
        f"{escape(s)}</text>"
    )


def zigzag(x1, y1, x2, y2, n=8, amp=8.0, lead=0.15) -> list[tuple[float, float]]:
    """Points of a zigzag (spring, resistor) from (x1, y1) to (x2, y2) with straight leads."""
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    nx, ny = -uy, ux
    pts = [(x1, y1), (x1 + ux * length * lead, y1 + uy * length * lead)]
    body = length * (1 - 2 * lead)
    for i in range(1, 2 * n):
        t = lead * length + body * i / (2 * n)
        s = amp if i % 2 else -amp
        pts.append((x1 + ux * t + nx * s, y1 + uy * t + ny * s))
    pts += [(x2 - ux * length * lead, y2 - uy * length * lead), (x2, y2)]
    return pts


def polyline(points, width=2.0, color=STROKE, dash=None) -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline points="{_pts(points)}" fill="none" stroke="{color}" stroke-width="{_f(width)}"{d}/>'


# ---------------------------------------------------------------------------------------------
# Element types: each a function of the element's own fields.


def _ground(e):
    x1, x2, y = e["x1"], e["x2"], e["y"]
    hatch = "".join(line(x, y, x - 10, y + 10, 1.2) for x in range(int(x1) + 10, int(x2), 16))
    return line(x1, y, x2, y, 2.5) + hatch


def _incline(e):
    (ax, ay), (bx, by), (cx, cy) = e["points"]
    r = 46
    a0 = math.atan2(cy - ay, cx - ax)
    arc = f'<path d="M {_f(ax + r)} {_f(ay)} A {r} {r} 0 0 0 {_f(ax + r * math.cos(a0))} {_f(ay + r * math.sin(a0))}" fill="none" stroke="{STROKE}" stroke-width="1.5"/>'
    return (
        f'<polygon points="{_pts(e["points"])}" fill="#e8eef5" stroke="{STROKE}" stroke-width="2.5"/>' + arc
    )


def _block(e):
    cx, cy, w, h, ang = e["x"], e["y"], e["w"], e["h"], e.get("angle", 0.0)
    body = f'<rect x="{_f(cx - w / 2)}" y="{_f(cy - h / 2)}" width="{_f(w)}" height="{_f(h)}" fill="{e.get("fill", "#c9d9ef")}" stroke="{STROKE}" stroke-width="2.5" transform="rotate({_f(ang)} {_f(cx)} {_f(cy)})"/>'
    return body


def _force(e):
    return arrow(e["x1"], e["y1"], e["x2"], e["y2"], 3.0, e.get("color", "#c0392b"))


def _label(e):
    size, anchor = e.get("size", 18), e.get("anchor", "middle")
    out = ""
    if e.get("box"):  # a white plate under the text, for labels over field lines
        w = advance(e["text"], size) + 8
        x0 = e["x"] - (w / 2 if anchor == "middle" else w - 4 if anchor == "end" else 4)
        out = f'<rect x="{_f(x0)}" y="{_f(e["y"] - size)}" width="{_f(w)}" height="{_f(size * 1.35)}" fill="white" fill-opacity="0.9"/>'
    return out + text(e["x"], e["y"], e["text"], size, anchor, e.get("color", STROKE))


def _compass(e):
    x, y, ux, uy = e["x"], e["y"], e["ux"], e["uy"]
    nx, ny = -uy * 5, ux * 5
    north = [(x + ux * 20, y + uy * 20), (x + nx, y + ny), (x - nx, y - ny)]
    south = [(x - ux * 20, y - uy * 20), (x + nx, y + ny), (x - nx, y - ny)]
    return (
        f'<circle cx="{_f(x)}" cy="{_f(y)}" r="24" fill="white" stroke="{STROKE}" stroke-width="2"/>'
        + f'<polygon points="{_pts(north)}" fill="#c0392b"/><polygon points="{_pts(south)}" fill="#85929e"/>'
    )


def _spring(e):
    return polyline(zigzag(e["x1"], e["y1"], e["x2"], e["y2"], e.get("coils", 8), 9), 2.0)


def _wall(e):
    x, y1, y2 = e["x"], e["y1"], e["y2"]
    hatch = "".join(line(x, y, x - 10, y + 10, 1.2) for y in range(int(y1), int(y2) - 8, 14))
    return line(x, y1, x, y2, 3) + hatch


def _pulley(e):
    x, y, r = e["x"], e["y"], e["r"]
    return (
        line(x, y, x, y - r - 40, 2.5)
        + f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="#f4f4f4" stroke="{STROKE}" stroke-width="2.5"/>'
        + f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{STROKE}"/>'
    )


def _rope(e):
    return polyline(e["points"], 2.0)


def _path(e):
    return polyline(e["points"], e.get("width", 2.0), e.get("color", STROKE), e.get("dash"))


def _ball(e):
    return f'<circle cx="{_f(e["x"])}" cy="{_f(e["y"])}" r="{_f(e["r"])}" fill="{e.get("fill", "#f5b041")}" stroke="{STROKE}" stroke-width="2"/>'


def _wire(e):
    return polyline(e["points"], 2.5)


def _resistor(e):
    x1, y1, x2, y2 = e["x1"], e["y1"], e["x2"], e["y2"]
    horizontal = abs(y2 - y1) < abs(x2 - x1)
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    w, h = (60, 20) if horizontal else (20, 60)
    leads = line(x1, y1, mx - w / 2 if horizontal else mx, my if horizontal else my - h / 2, 2.5) + line(
        mx + w / 2 if horizontal else mx, my if horizontal else my + h / 2, x2, y2, 2.5
    )
    return (
        leads
        + f'<rect x="{_f(mx - w / 2)}" y="{_f(my - h / 2)}" width="{w}" height="{h}" fill="white" stroke="{STROKE}" stroke-width="2.5"/>'
    )


def _battery(e):
    x1, y1, x2, y2 = e["x1"], e["y1"], e["x2"], e["y2"]
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    if abs(y2 - y1) < abs(x2 - x1):  # horizontal: plates vertical; the long plate is +
        return (
            line(x1, y1, mx - 6, my)
            + line(mx + 6, my, x2, y2)
            + line(mx - 6, my - 22, mx - 6, my + 22, 3)
            + line(mx + 6, my - 11, mx + 6, my + 11, 5)
        )
    return (
        line(x1, y1, mx, my - 6)
        + line(mx, my + 6, x2, y2)
        + line(mx - 22, my - 6, mx + 22, my - 6, 3)
        + line(mx - 11, my + 6, mx + 11, my + 6, 5)
    )


def _bulb(e):
    x1, y1, x2, y2 = e["x1"], e["y1"], e["x2"], e["y2"]
    mx, my, r = (x1 + x2) / 2, (y1 + y2) / 2, 16
    horizontal = abs(y2 - y1) < abs(x2 - x1)
    leads = (
        (line(x1, y1, mx - r, my) + line(mx + r, my, x2, y2))
        if horizontal
        else (line(x1, y1, mx, my - r) + line(mx, my + r, x2, y2))
    )
    d = r * 0.7
    return (
        leads
        + f'<circle cx="{_f(mx)}" cy="{_f(my)}" r="{r}" fill="#fff9c4" stroke="{STROKE}" stroke-width="2.5"/>'
        + line(mx - d, my - d, mx + d, my + d, 2)
        + line(mx - d, my + d, mx + d, my - d, 2)
    )


def _switch(e):
    x1, y1, x2, y2 = e["x1"], e["y1"], e["x2"], e["y2"]
    horizontal = abs(y2 - y1) < abs(x2 - x1)
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    if horizontal:
        a, b = (mx - 24, my), (mx + 24, my)
        lever = (mx + 20, my - 24) if e.get("open", True) else b
    else:
        a, b = (mx, my - 24), (mx, my + 24)
        lever = (mx + 24, my + 20) if e.get("open", True) else b
    dots = "".join(f'<circle cx="{_f(p[0])}" cy="{_f(p[1])}" r="4" fill="{STROKE}"/>' for p in (a, b))
    return line(x1, y1, *a) + line(*b, x2, y2) + line(*a, *lever, 2.5) + dots


def _meter(e):
    x1, y1, x2, y2 = e["x1"], e["y1"], e["x2"], e["y2"]
    mx, my, r = (x1 + x2) / 2, (y1 + y2) / 2, 17
    horizontal = abs(y2 - y1) < abs(x2 - x1)
    leads = (
        (line(x1, y1, mx - r, my) + line(mx + r, my, x2, y2))
        if horizontal
        else (line(x1, y1, mx, my - r) + line(mx, my + r, x2, y2))
    )
    return (
        leads
        + f'<circle cx="{_f(mx)}" cy="{_f(my)}" r="{r}" fill="white" stroke="{STROKE}" stroke-width="2.5"/>'
        + text(mx, my + 7, e["symbol"], 20)
    )


def _dot(e):
    return f'<circle cx="{_f(e["x"])}" cy="{_f(e["y"])}" r="4.5" fill="{STROKE}"/>'


def _axis(e):
    return line(e["x1"], e["y"], e["x2"], e["y"], 1.5, "#555555", "8 5")


def _lens(e):
    x, y, h = e["x"], e["y"], e["h"]
    if e.get("convex", True):
        body = f'<path d="M {_f(x)} {_f(y - h)} Q {_f(x + 22)} {_f(y)} {_f(x)} {_f(y + h)} Q {_f(x - 22)} {_f(y)} {_f(x)} {_f(y - h)} Z" fill="#d6eaf8" stroke="{STROKE}" stroke-width="2"/>'
    else:
        body = f'<path d="M {_f(x - 10)} {_f(y - h)} L {_f(x + 10)} {_f(y - h)} Q {_f(x)} {_f(y)} {_f(x + 10)} {_f(y + h)} L {_f(x - 10)} {_f(y + h)} Q {_f(x)} {_f(y)} {_f(x - 10)} {_f(y - h)} Z" fill="#d6eaf8" stroke="{STROKE}" stroke-width="2"/>'
    return body


def _ray(e):
    pts = e["points"]
    out = polyline(pts, 1.8, e.get("color", "#e67e22"), e.get("dash"))
    if len(pts) >= 2 and not e.get("dash"):
        (ax, ay), (bx, by) = pts[-2], pts[-1]
        mx, my = (ax + bx) / 2, (ay + by) / 2
        out += arrow_head(ax, ay, mx, my, 10, e.get("color", "#e67e22"))
    return out


def _object_arrow(e):
    return arrow(e["x"], e["y0"], e["x"], e["y1"], 3.5, e.get("color", "#1f618d"), e.get("dash"))


def _medium(e):
    return f'<rect x="{_f(e["x"])}" y="{_f(e["y"])}" width="{_f(e["w"])}" height="{_f(e["h"])}" fill="{e["fill"]}" stroke="none"/>'


def _normal(e):
    return line(e["x"], e["y1"], e["x"], e["y2"], 1.5, "#555555", "6 5")


def _charge(e):
    x, y, r = e["x"], e["y"], 18
    color = "#c0392b" if e["sign"] > 0 else "#2e86c1"
    sign = line(x - 9, y, x + 9, y, 3.5, "white")  # drawn, not text: a symbol, not a label
    if e["sign"] > 0:
        sign += line(x, y - 9, x, y + 9, 3.5, "white")
    return (
        f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{r}" fill="{color}" stroke="{STROKE}" stroke-width="2"/>'
        + sign
    )


def _field_line(e):
    pts = e["points"]
    out = polyline(pts, 1.4, "#566573")
    if len(pts) > 6:
        k = len(pts) // 2
        out += arrow_head(*pts[k - 1], *pts[k], 9, "#566573")
    return out


def _magnet(e):
    x, y, w, h = e["x"], e["y"], e["w"], e["h"]
    left, right = ("N", "S") if e.get("north_left", True) else ("S", "N")
    colors = {"N": "#c0392b", "S": "#2e86c1"}
    return (
        f'<rect x="{_f(x - w / 2)}" y="{_f(y - h / 2)}" width="{_f(w / 2)}" height="{_f(h)}" fill="{colors[left]}" stroke="{STROKE}" stroke-width="2"/>'
        + f'<rect x="{_f(x)}" y="{_f(y - h / 2)}" width="{_f(w / 2)}" height="{_f(h)}" fill="{colors[right]}" stroke="{STROKE}" stroke-width="2"/>'
        + text(x - w / 4, y + 9, left, 26, color="white")
        + text(x + w / 4, y + 9, right, 26, color="white")
    )


# Solid-geometry figures (renderers/geometry/scene.py): line colour and width per stroke role.
ROLES = {
    "edge": ("#222222", 2.2),
    "construction": ("#c0392b", 1.8),
    "axis": ("#555555", 1.6),
    "grid": ("#d5d8dc", 1.0),
}
HIDDEN_DASH = "7 5"


def _pieces(e):
    """A stroke split into runs, each solid (visible) or dashed (hidden); an optional arrow head
    ``[x1, y1, x2, y2]`` (an axis)."""
    color, width = ROLES[e["role"]]
    style = f'fill="none" stroke="{color}" stroke-width="{_f(width)}"'
    out = "".join(
        f'<polyline points="{_pts(p["points"])}" {style} stroke-dasharray="{HIDDEN_DASH}"/>'
        if p["dashed"]  # round caps would lengthen the dashes
        else f'<polyline points="{_pts(p["points"])}" {style} stroke-linecap="round" stroke-linejoin="round"/>'
        for p in e["pieces"]
    )
    if e.get("head"):
        out += arrow_head(*e["head"], 11, color)
    return out


def _polygon(e):
    """A filled translucent polygon without outline (a shaded face, a section)."""
    return f'<polygon points="{_pts(e["points"])}" fill="{e["fill"]}" fill-opacity="{_f(e["opacity"])}" stroke="none"/>'


DRAW = {
    "ground": _ground,
    "incline": _incline,
    "block": _block,
    "force": _force,
    "label": _label,
    "spring": _spring,
    "wall": _wall,
    "pulley": _pulley,
    "rope": _rope,
    "path": _path,
    "ball": _ball,
    "wire": _wire,
    "resistor": _resistor,
    "battery": _battery,
    "bulb": _bulb,
    "switch": _switch,
    "meter": _meter,
    "dot": _dot,
    "axis": _axis,
    "lens": _lens,
    "ray": _ray,
    "object": _object_arrow,
    "medium": _medium,
    "normal": _normal,
    "charge": _charge,
    "field_line": _field_line,
    "magnet": _magnet,
    "compass": _compass,
    "pieces": _pieces,
    "polygon": _polygon,
}


Draw = dict[str, Callable[[dict[str, Any]], str]]  # element type -> its SVG


def element_svg(e: dict[str, Any], draw: Draw = DRAW) -> str:
    return f'<g id="{escape(e["id"])}">{draw[e["type"]](e)}</g>'


def scene_svg(scene: dict[str, Any], draw: Draw = DRAW) -> str:
    """The whole figure: a white canvas, then the elements in order (later ones on top). `draw`
    is the table of element types (another domain's figures bring their own, as biology)."""
    w, h = scene["canvas"]
    body = "".join(element_svg(e, draw) for e in scene["elements"])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f'<rect width="{w}" height="{h}" fill="white"/>{body}</svg>'
    )


class Figure:
    """A scene as a drawing for the diagram stages: SVG, its elements by id, its program. A
    subclass with another ``draw`` table draws another domain's element types."""

    draw: ClassVar[Draw] = DRAW

    def __init__(self, scene: dict[str, Any]):
        self.scene = scene

    def elements(self) -> dict[str, tuple]:
        return {e["id"]: tuple(sorted((k, repr(v)) for k, v in e.items())) for e in self.scene["elements"]}

    def svg(self, timeout: float = 20.0) -> str:
        return scene_svg(self.scene, self.draw)

    def program(self) -> tuple[str, str]:
        return "svg", self.svg()
