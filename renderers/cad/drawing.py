"""Engineering line drawings of projected views with Pillow: one view, or a multi-view sheet.

Conventions (ISO 128 / ASME Y14.3, Y14.2): visible edges thick and solid, hidden edges thin and
dashed, centre lines thin long-dash-dot crossing at a dash. Pillow has no dash pattern, so dashes
are cut here from the polyline's arc length; touching strokes are chained first so that a
pattern runs on round a corner instead of restarting on every short HLR piece.

A sheet places front, top and right views at ONE scale, aligned (front and top share x, front and
right share z) in third angle (top above front, right view to its right) or first angle (top below
front, right view to its left); the isometric goes in the free quadrant at its own scale. Every
view is drawn inside its own box (drawn on a crop, pasted back), and the layout never depends on
`omit`, so a sheet with one view left out equals the full sheet outside that view's box.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from renderers.cad.views import Stroke

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, Pillow style (x1, y1 exclusive)
Mark = tuple[np.ndarray, np.ndarray]
MARGIN, GAP = 24, 40  # px: sheet border, and the space between neighbouring views
ISO_SHARE = 0.35  # the free quadrant gets at least this share of each side when an iso is drawn
BLACK, WHITE = (0, 0, 0), (255, 255, 255)


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


def _piece(pts: np.ndarray, cum: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The part of a polyline between arc lengths lo and hi."""
    inner = pts[(cum > lo) & (cum < hi)]
    a = np.array([np.interp(lo, cum, pts[:, 0]), np.interp(lo, cum, pts[:, 1])])
    b = np.array([np.interp(hi, cum, pts[:, 0]), np.interp(hi, cum, pts[:, 1])])
    return np.vstack([a, inner, b])


def dashes(pts: np.ndarray, pattern: tuple[float, ...], start: float = 0.0) -> list[np.ndarray]:
    """The 'on' pieces of a polyline under a repeating (on, off, on, off, ...) pattern whose
    first period begins at arc length `start` (<= 0)."""
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
    total, period = float(cum[-1]), float(sum(pattern))
    ons, pos = [], 0.0
    for i, length in enumerate(pattern):
        if i % 2 == 0:
            ons.append((pos, pos + length))
        pos += length
    out, s = [], start
    while s < total:
        for a, b in ons:
            lo, hi = max(s + a, 0.0), min(s + b, total)
            if hi > lo:
                out.append(_piece(pts, cum, lo, hi))
        s += period
    return out


def _polyline(draw: ImageDraw.ImageDraw, pts: np.ndarray, width: int) -> None:
    draw.line(
        [(float(x), float(y)) for x, y in pts], fill=BLACK, width=width, joint="curve" if width > 1 else None
    )


def draw_view(
    strokes: list[Stroke],
    marks: list[Mark],
    box_px: Box,
    scale: float,
    centre_mm: tuple[float, float],
    image: Image.Image | None = None,
    line_px: float = 2.0,
) -> Image.Image:
    """Draw one view into box_px of image (a new white image reaching box_px when None), the
    view-plane point centre_mm at the box's centre, `scale` px per mm, y up; returns the image.
    Nothing is drawn outside the box."""
    if image is None:
        image = Image.new("RGB", (box_px[2], box_px[3]), WHITE)
    x0, y0, x1, y1 = box_px
    tile = image.crop(box_px)
    draw = ImageDraw.Draw(tile)
    cx, cy = (x1 - x0) / 2, (y1 - y0) / 2

    def px(p: np.ndarray) -> np.ndarray:
        return np.column_stack([cx + (p[:, 0] - centre_mm[0]) * scale, cy - (p[:, 1] - centre_mm[1]) * scale])

    thick, thin = max(1, round(line_px)), max(1, round(line_px * 0.5))
    hidden = chain([px(s.points) for s in strokes if not s.visible])
    for line in hidden:
        for piece in dashes(line, (4 * line_px + 2, 2 * line_px + 1)):
            _polyline(draw, piece, thin)
    for line in chain([px(s.points) for s in strokes if s.visible]):
        _polyline(draw, line, thick)
    long_dash, gap, dot = 6 * line_px + 6, 2 * line_px + 1, line_px + 1
    pattern = (long_dash, gap, dot, gap)
    for a, b in marks:
        line = px(np.array([a, b], dtype=np.float64))
        half = float(np.hypot(*(line[1] - line[0]))) / 2  # centre a long dash on the midpoint
        first = half - long_dash / 2
        start = first - math.ceil(first / sum(pattern)) * sum(pattern)
        for piece in dashes(line, pattern, start):
            _polyline(draw, piece, thin)
    image.paste(tile, box_px[:2])
    return image


def content_bounds(strokes: list[Stroke], marks: list[Mark]) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) in mm of everything a view draws: strokes and centre lines."""
    pts = np.vstack([s.points for s in strokes] + [np.array(m, dtype=np.float64) for m in marks])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _box(x_lo: float, y_top: float, w: float, h: float, pad: int) -> Box:
    return (
        math.floor(x_lo) - pad,
        math.floor(y_top) - pad,
        math.ceil(x_lo + w) + pad + 1,
        math.ceil(y_top + h) + pad + 1,
    )


def _fit(
    image: Image.Image, strokes: list[Stroke], marks: list[Mark], region: Box, cap: float, line_px: float
) -> Box:
    """Draw a view centred in region at the largest scale (at most cap) that fits; its box."""
    xa, ya, xb, yb = content_bounds(strokes, marks)
    pad = math.ceil(line_px) + 2
    room_w, room_h = region[2] - region[0] - 2 * pad - 2, region[3] - region[1] - 2 * pad - 2
    scale = min(cap, room_w / max(xb - xa, 1e-9), room_h / max(yb - ya, 1e-9))
    w, h = (xb - xa) * scale, (yb - ya) * scale
    left, top = (region[0] + region[2] - w) / 2, (region[1] + region[3] - h) / 2  # px of (xa, yb)
    box = _box(left, top, w, h, pad)
    centre = (xa + ((box[0] + box[2]) / 2 - left) / scale, yb - ((box[1] + box[3]) / 2 - top) / scale)
    draw_view(strokes, marks, box, scale, centre, image, line_px)
    return box


def single(strokes: list[Stroke], marks: list[Mark], size: tuple[int, int] = (768, 768)) -> np.ndarray:
    """One view centred and scaled to fit, as an RGB uint8 array (white paper, black lines)."""
    image = Image.new("RGB", size, WHITE)
    line_px = max(1.0, round(min(size) / 400))
    _fit(image, strokes, marks, (MARGIN, MARGIN, size[0] - MARGIN, size[1] - MARGIN), math.inf, line_px)
    return np.asarray(image)


def sheet(
    views: dict[str, list[Stroke]],
    marks: dict[str, list],
    angle: str = "third",
    size: tuple[int, int] = (1024, 768),
    with_iso: bool = True,
    omit: str | None = None,
) -> tuple[np.ndarray, dict[str, Box]]:
    """A multi-view sheet (see the module docstring) and each drawn view's pixel box. The iso is
    drawn from its visible strokes only, as pictorials are. Deterministic bytes."""
    if angle not in ("third", "first"):
        raise ValueError(f"angle must be 'third' or 'first', got {angle!r}")
    width, height = size
    line_px = max(1.0, round(min(size) / 400))
    pad = math.ceil(line_px) + 2
    cb = {v: content_bounds(views[v], marks.get(v, [])) for v in ("front", "top", "right")}
    col_a = (min(cb["front"][0], cb["top"][0]), max(cb["front"][2], cb["top"][2]))  # model x
    row_f = (min(cb["front"][1], cb["right"][1]), max(cb["front"][3], cb["right"][3]))  # model z
    wx, hz = col_a[1] - col_a[0], row_f[1] - row_f[0]
    wy, hy = cb["right"][2] - cb["right"][0], cb["top"][3] - cb["top"][1]
    iso = with_iso and "iso" in views
    col_b, row_t = (max(wy, ISO_SHARE * (wx + wy)), max(hy, ISO_SHARE * (hz + hy))) if iso else (wy, hy)
    scale = min((width - 2 * MARGIN - GAP) / (wx + col_b), (height - 2 * MARGIN - GAP) / (hz + row_t))
    third = angle == "third"
    # the front view sits in the corner opposite the free quadrant: bottom-left (third), top-right (first)
    fx = MARGIN if third else width - MARGIN - wx * scale
    fy = height - MARGIN - hz * scale if third else MARGIN
    rx = fx + wx * scale + GAP if third else fx - GAP - wy * scale
    ty = fy - GAP - hy * scale if third else fy + hz * scale + GAP
    # view -> (pixel x of model x-min of the view's column, pixel y of the row's top, bounds used)
    place = {
        "front": (fx, fy, (col_a[0], row_f[1])),
        "top": (fx, ty, (col_a[0], cb["top"][3])),
        "right": (rx, fy, (cb["right"][0], row_f[1])),
    }
    image = Image.new("RGB", size, WHITE)
    boxes: dict[str, Box] = {}
    for view, (ox, oy, (xmin, ymax)) in place.items():
        xa, ya, xb, yb = cb[view]
        box = _box(
            ox + (xa - xmin) * scale, oy + (ymax - yb) * scale, (xb - xa) * scale, (yb - ya) * scale, pad
        )
        boxes[view] = box
        if view != omit:
            centre = (
                xmin + ((box[0] + box[2]) / 2 - ox) / scale,
                ymax - ((box[1] + box[3]) / 2 - oy) / scale,
            )
            draw_view(views[view], marks.get(view, []), box, scale, centre, image, line_px)
    if iso:
        free_x = (rx, width - MARGIN) if third else (MARGIN, fx - GAP)
        free_y = (MARGIN, fy - GAP) if third else (fy + hz * scale + GAP, height - MARGIN)
        region = (math.ceil(free_x[0]), math.ceil(free_y[0]), math.floor(free_x[1]), math.floor(free_y[1]))
        strokes = [s for s in views["iso"] if s.visible]
        target = image if omit != "iso" else Image.new("RGB", size, WHITE)
        boxes["iso"] = _fit(target, strokes, marks.get("iso", []), region, scale, line_px)
    return np.asarray(image), boxes
