"""Engineering line drawings of a part's views as SVG: one view, or a multi-view sheet.

Conventions (ISO 128 / ASME Y14.3, Y14.2): visible edges thick and solid, hidden edges thin and
dashed, centre lines thin long-dash-dot crossing at a long dash. Touching strokes are chained
first so that a dash pattern runs on round a corner instead of restarting on every short HLR
piece.

A sheet places front, top and right views at ONE scale, aligned (front and top share x, front and
right share z) in third angle (top above front, right view to its right) or first angle (top below
front, right view to its left); the isometric goes in the free quadrant at its own scale. The
layout is computed from the bounds of every drawing of a pair (:func:`sheet_layout` takes them
all), so a part and its edit, or a sheet and the same sheet with a view left out, share every
unchanged pixel.

Each chained stroke is one SVG element whose id is a digest of its role and points, so the
elements two drawings do not share are exactly the changed strokes (the edit mask). Coordinates
are pixels, y down; a view-plane point (u, v) in mm goes to (ox + u * scale, oy - v * scale).
"""

from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass
from html import escape

import numpy as np

from renderers.cad.part import Mark, PartViews
from renderers.cad.views import Stroke
from renderers.svg.text import advance

ORTHO = ("front", "top", "right")
TITLES = {"front": "FRONT", "top": "TOP", "right": "RIGHT", "iso": "ISOMETRIC"}
MARGIN, GAP = 24, 48  # px: sheet border, and the space between neighbouring views
TITLE_H, TITLE_SIZE = 30, 17  # px below a view kept for its title, and the title's font size
ISO_SHARE = 0.35  # the free quadrant gets at least this share of each side when an iso is drawn
# role -> (stroke width px, dash pattern px or None), at a 1024 px sheet; scaled with the sheet
STYLE = {"visible": (2.2, None), "hidden": (1.3, (6.0, 4.0)), "centre": (0.9, (16.0, 3.0, 3.0, 3.0))}
INK, FONT = "#111111", "DejaVu Sans"
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


@dataclass(frozen=True)
class Place:
    """Where a view goes: ``scale`` px per mm, view-plane (0, 0) at pixel (ox, oy), drawn
    inside ``box``."""

    scale: float
    ox: float
    oy: float
    box: Box

    def px(self, pts: np.ndarray) -> np.ndarray:
        """(N, 2) view-plane mm -> (N, 2) pixels."""
        return np.column_stack([self.ox + pts[:, 0] * self.scale, self.oy - pts[:, 1] * self.scale])

    def centre(self, size: tuple[int, int]) -> tuple[float, float]:
        """The view-plane point at the canvas centre (a camera's centre for a shaded render)."""
        return (size[0] / 2 - self.ox) / self.scale, (self.oy - size[1] / 2) / self.scale


def chain(lines: list[np.ndarray], tol: float = 1e-3) -> list[np.ndarray]:
    """Join polylines whose ends touch (within tol) into longer ones, greedily and in order."""
    ends: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def key(p: np.ndarray) -> tuple[int, int]:
        return int(round(p[0] / tol)), int(round(p[1] / tol))

    for i, line in enumerate(lines):
        ends.setdefault(key(line[0]), []).append((i, 0))
        ends.setdefault(key(line[-1]), []).append((i, 1))
    used = [False] * len(lines)

    def take(tip: np.ndarray, inward: np.ndarray) -> tuple[int, int] | None:
        """An unused line touching tip that does not fold back over the last piece (inward)."""
        for j, end in ends.get(key(tip), []):
            if used[j]:
                continue
            line = lines[j] if end == 0 else lines[j][::-1]
            out_dir = line[1] - line[0]
            if float(out_dir @ inward) <= 0.999 * float(np.hypot(*out_dir) * np.hypot(*inward)):
                used[j] = True
                return j, end
        return None

    out = []
    for i, line in enumerate(lines):
        if used[i]:
            continue
        used[i] = True
        cur = line
        while (hit := take(cur[-1], cur[-2] - cur[-1])) is not None:
            nxt = lines[hit[0]] if hit[1] == 0 else lines[hit[0]][::-1]
            cur = np.vstack([cur, nxt[1:]])
        while (hit := take(cur[0], cur[1] - cur[0])) is not None:
            prev = lines[hit[0]] if hit[1] == 1 else lines[hit[0]][::-1]
            cur = np.vstack([prev[:-1], cur])
        out.append(cur)
    return out


def content_bounds(strokes: list[Stroke], marks: list[Mark]) -> Box:
    """(xmin, ymin, xmax, ymax) in mm of everything a view draws: strokes and centre lines."""
    pts = np.vstack([s.points for s in strokes] + [np.array(m, dtype=np.float64) for m in marks])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def union_bounds(parts: list[PartViews], view: str, visible_only: bool = False) -> Box:
    """A view's content bounds over every part of a pair (or more)."""
    boxes = [
        content_bounds([s for s in p.strokes[view] if s.visible or not visible_only], p.marks.get(view, []))
        for p in parts
    ]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _centred(bounds: Box, region: Box, cap: float) -> Place:
    """A view centred in region at the largest scale (at most cap) that fits."""
    xa, ya, xb, yb = bounds
    scale = min(
        cap, (region[2] - region[0]) / max(xb - xa, 1e-9), (region[3] - region[1]) / max(yb - ya, 1e-9)
    )
    w, h = (xb - xa) * scale, (yb - ya) * scale
    left, top = (region[0] + region[2] - w) / 2, (region[1] + region[3] - h) / 2
    return Place(scale, left - xa * scale, top + yb * scale, (left, top, left + w, top + h))


def single_layout(parts: list[PartViews], view: str, size: tuple[int, int], title: bool) -> dict[str, Place]:
    """One view centred and scaled to fit the canvas (room kept for its title when drawn)."""
    w, h = size
    region = (MARGIN, MARGIN, w - MARGIN, h - MARGIN - (TITLE_H if title else 0))
    return {view: _centred(union_bounds(parts, view, view == "iso"), region, math.inf)}


def _extents(
    parts: list[PartViews], with_iso: bool
) -> tuple[dict[str, Box], tuple[float, float], tuple[float, float]]:
    """The orthographic views' union bounds, and the sheet's two columns and two rows (mm)."""
    cb = {v: union_bounds(parts, v) for v in ORTHO}
    wx = max(cb["front"][2], cb["top"][2]) - min(cb["front"][0], cb["top"][0])  # model x
    hz = max(cb["front"][3], cb["right"][3]) - min(cb["front"][1], cb["right"][1])  # model z
    wy, hy = cb["right"][2] - cb["right"][0], cb["top"][3] - cb["top"][1]
    col_b, row_t = (max(wy, ISO_SHARE * (wx + wy)), max(hy, ISO_SHARE * (hz + hy))) if with_iso else (wy, hy)
    return cb, (wx, col_b), (hz, row_t)


def sheet_extent(parts: list[PartViews], with_iso: bool = True) -> tuple[float, float]:
    """(width, height) in mm of a sheet's views, without gaps: what its canvas's aspect follows."""
    _, cols, rows = _extents(parts, with_iso)
    return sum(cols), sum(rows)


def sheet_layout(
    parts: list[PartViews], angle: str, size: tuple[int, int], with_iso: bool = True
) -> dict[str, Place]:
    """Front, top and right views at one scale, aligned per the projection angle, and the iso in
    the free quadrant (see the module docstring)."""
    if angle not in ("third", "first"):
        raise ValueError(f"angle must be 'third' or 'first', got {angle!r}")
    width, height = size
    cb, (wx, col_b), (hz, row_t) = _extents(parts, with_iso)
    col_a = (min(cb["front"][0], cb["top"][0]), max(cb["front"][2], cb["top"][2]))  # model x
    row_f = (min(cb["front"][1], cb["right"][1]), max(cb["front"][3], cb["right"][3]))  # model z
    wy, hy = cb["right"][2] - cb["right"][0], cb["top"][3] - cb["top"][1]
    room_w = width - 2 * MARGIN - GAP
    room_h = height - 2 * MARGIN - GAP - 2 * TITLE_H
    scale = min(room_w / (wx + col_b), room_h / (hz + row_t))
    third = angle == "third"
    # the front view sits in the corner opposite the free quadrant: bottom-left (third), top-right (first)
    fx = MARGIN if third else width - MARGIN - wx * scale
    fy = height - MARGIN - TITLE_H - hz * scale if third else MARGIN
    rx = fx + wx * scale + GAP if third else fx - GAP - wy * scale
    ty = fy - GAP - TITLE_H - hy * scale if third else fy + hz * scale + TITLE_H + GAP
    # view -> (pixel x of the column's model x-min, pixel y of the row's top, (x-min, y-max) in mm)
    corner = {
        "front": (fx, fy, col_a[0], row_f[1]),
        "top": (fx, ty, col_a[0], cb["top"][3]),
        "right": (rx, fy, cb["right"][0], row_f[1]),
    }
    places = {}
    for view, (px0, py0, xmin, ymax) in corner.items():
        ox, oy = px0 - xmin * scale, py0 + ymax * scale
        xa, ya, xb, yb = cb[view]
        places[view] = Place(
            scale, ox, oy, (ox + xa * scale, oy - yb * scale, ox + xb * scale, oy - ya * scale)
        )
    if with_iso:
        free_x = (rx, width - MARGIN) if third else (MARGIN, fx - GAP)
        free_y = (
            (MARGIN, fy - GAP - TITLE_H)
            if third
            else (fy + hz * scale + TITLE_H + GAP, height - MARGIN - TITLE_H)
        )
        region = (free_x[0], free_y[0], free_x[1], free_y[1])
        places["iso"] = _centred(union_bounds(parts, "iso", visible_only=True), region, scale)
    return places


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _pts(points: np.ndarray) -> str:
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in points)


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.tobytes() if isinstance(p, np.ndarray) else repr(p).encode())
    return h.hexdigest()[:12]


def _line(view: str, role: str, pts: np.ndarray, k: float, offset: float | None = None) -> dict:
    width, dash = STYLE[role]
    pts = np.round(pts, 2) + 0.0
    e = {
        "id": f"{view}/{role}/{_digest(role, pts)}",
        "role": role,
        "width": round(width * k, 3),
        "points": pts,
    }
    if dash:
        e["dash"] = tuple(round(d * k, 3) for d in dash)
        if offset is not None:
            e["offset"] = round(offset, 3)
    return e


def _centre_line(view: str, a: np.ndarray, b: np.ndarray, k: float) -> dict:
    """A centre line with a long dash centred on its midpoint."""
    pts = np.array([a, b])
    length = float(np.hypot(*(b - a)))
    dash = [d * k for d in STYLE["centre"][1]]
    return _line(view, "centre", pts, k, offset=(dash[0] / 2 - length / 2) % sum(dash))


def view_elements(part: PartViews, view: str, place: Place, k: float, title: bool) -> list[dict]:
    """A view's elements: hidden lines (not in the iso: pictorials show what is seen), visible
    lines, centre lines and the title."""
    strokes = part.strokes[view]
    out = []
    if view != "iso":
        out += [
            _line(view, "hidden", place.px(p), k) for p in chain([s.points for s in strokes if not s.visible])
        ]
    out += [_line(view, "visible", place.px(p), k) for p in chain([s.points for s in strokes if s.visible])]
    if view != "iso":
        for a, b in part.marks.get(view, []):
            ab = place.px(np.array([a, b], dtype=np.float64))
            out.append(_centre_line(view, ab[0], ab[1], k))
    if title:
        x0, _, x1, y1 = place.box
        out.append(
            {"id": f"{view}/title", "role": "title", "text": TITLES[view], "x": round((x0 + x1) / 2, 2),
             "y": round(y1 + TITLE_H * 0.8, 2), "size": round(TITLE_SIZE * k, 2)}
        )  # fmt: skip
    return out


def shade_element(view: str, png: bytes, box: tuple[int, int, int, int]) -> dict:
    """A shaded render of the view (an RGBA PNG the size of ``box``, whole pixels) under its
    lines."""
    return {"id": f"{view}/shade", "role": "shade", "png": png, "box": box}


def element_svg(e: dict) -> str:
    role = e["role"]
    if role == "title":
        body = (
            f'<text x="{_f(e["x"])}" y="{_f(e["y"])}" font-family="{FONT}" font-size="{_f(e["size"])}" '
            f'text-anchor="middle" fill="{INK}">{escape(e["text"])}</text>'
        )
    elif role == "shade":
        x0, y0, x1, y1 = e["box"]
        data = base64.b64encode(e["png"]).decode()
        body = (
            f'<image x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" '
            f'href="data:image/png;base64,{data}"/>'
        )
    else:
        style = f'fill="none" stroke="{INK}" stroke-width="{_f(e["width"])}"'
        if "dash" in e:  # butt caps: round ones would lengthen the dashes
            style += f' stroke-dasharray="{" ".join(_f(d) for d in e["dash"])}"'
            if e.get("offset"):
                style += f' stroke-dashoffset="{_f(e["offset"])}"'
        else:
            style += ' stroke-linecap="round" stroke-linejoin="round"'
        body = f'<polyline points="{_pts(e["points"])}" {style}/>'
    return f'<g id="{escape(e["id"])}">{body}</g>'


ORDER = {"shade": 0, "hidden": 1, "centre": 2, "visible": 3, "title": 4}


def svg(elements: list[dict], size: tuple[int, int]) -> str:
    """The drawing: white paper, then every element in a fixed order (shades, hidden, centre,
    visible lines, titles; by id within a role), so a pair orders its shared elements alike."""
    w, h = size
    body = "".join(element_svg(e) for e in sorted(elements, key=lambda e: (ORDER[e["role"]], e["id"])))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f'<rect width="{w}" height="{h}" fill="white"/>{body}</svg>'
    )


def element_box(e: dict) -> list[float]:
    """A conservative pixel box of what an element paints (stroke half-width and a pixel of
    antialiasing beyond its points; a title's DejaVu advance and its ascent and descent)."""
    if e["role"] == "shade":
        return [float(v) for v in e["box"]]
    if e["role"] == "title":
        half = advance(e["text"], e["size"]) / 2 + 2
        return [e["x"] - half, e["y"] - e["size"] - 2, e["x"] + half, e["y"] + 0.35 * e["size"] + 2]
    pad = e["width"] / 2 + 1.5
    lo, hi = e["points"].min(axis=0), e["points"].max(axis=0)
    return [float(lo[0] - pad), float(lo[1] - pad), float(hi[0] + pad), float(hi[1] + pad)]


def signature(e: dict) -> tuple:
    """What an element draws, to compare across a pair."""
    return tuple(
        sorted((k, _digest(v) if isinstance(v, (np.ndarray, bytes)) else repr(v)) for k, v in e.items())
    )
