"""A solid-geometry figure as a scene of :mod:`renderers.svg.physics` (``{"canvas", "elements"}``).

Each 3D stroke becomes one element (its id is the stroke's id): its pieces, solid where seen and
dashed where the solid hides them, as :mod:`renderers.geometry.visibility` decides. Coordinates are
rounded to 0.01 px, so identical strokes under one camera give byte-identical SVG, which is what an
edit pair's mask relies on. Each labelled point gets a label a little outside the figure, carrying
its point (``at``) so that :func:`renderers.svg.physics_labels.place_labels` keeps it near.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from renderers.geometry.camera import Camera
from renderers.geometry.model import Circle, Mark, Patch, Polytope, Segment, Solid, Stroke
from renderers.geometry.visibility import Piece, View
from renderers.svg.physics import STROKE
from renderers.svg.physics_labels import label_box
from renderers.svg.text import advance

LABEL_SIZE = 20
LABEL_GAP = 5.0  # pixels between a point and the nearest side of its label's box
LABEL_REACH = 40.0  # a label's box centre stays this close to its point
DIRECTIONS = 24
CLEAR = 4.0  # pixels a nominal label box keeps from ink
LIGHT = np.array([-0.35, -0.55, 0.76])  # shading: light from the upper left front


def _r(v: float) -> float:
    return round(float(v), 2)


def _xy(points) -> list[list[float]]:
    return [[_r(x), _r(y)] for x, y in points]


def solid_strokes(solid: Solid, camera: Camera) -> list[Stroke]:
    """The solid's own strokes: its edges ("edge:A-B"), rims ("rim:O") and, for this camera, the
    outlines of its curved parts ("sil:...", "equator:...")."""
    out: list[Stroke] = [
        Segment(f"edge:{a}-{b}", tuple(solid.xyz(a).tolist()), tuple(solid.xyz(b).tolist()))
        for a, b in solid.edges
    ]
    for rim in solid.rims:
        normal = tuple(float(c) for c in rim.normal)
        out.append(
            Circle(f"rim:{rim.centre}", tuple(solid.xyz(rim.centre).tolist()), normal, float(rim.radius))
        )
    return out + View(solid, camera).silhouettes()


def extras(solid: Solid, *, axes: bool, grid: bool) -> list[Segment]:
    """Coordinate axes from the origin ("axis:x", ...) past the solid, and floor grid lines
    ("grid:..."), as segments."""
    if not (axes or grid):
        return []
    P = _extent(solid)
    lo, hi = P.min(axis=0), P.max(axis=0)
    size = float(np.linalg.norm(hi - lo)) or 1.0
    out: list[Segment] = []
    if axes:
        for k, name in enumerate("xyz"):
            tip = [0.0, 0.0, 0.0]
            tip[k] = max(float(hi[k]), 0.0) + 0.3 * size
            out.append(Segment(f"axis:{name}", (0.0, 0.0, 0.0), tuple(tip), role="axis"))
    if grid:
        x0, y0 = math.floor(lo[0]) - 1, math.floor(lo[1]) - 1
        x1, y1 = math.ceil(hi[0]) + 1, math.ceil(hi[1]) + 1
        step = max(1, math.ceil(max(x1 - x0, y1 - y0) / 16))
        for x in range(x0, x1 + 1, step):
            out.append(Segment(f"grid:x{x}", (x, y0, 0.0), (x, y1, 0.0), role="grid", hidden_style="none"))
        for y in range(y0, y1 + 1, step):
            out.append(Segment(f"grid:y{y}", (x0, y, 0.0), (x1, y, 0.0), role="grid", hidden_style="none"))
    return out


def _extent(solid: Solid) -> np.ndarray:
    """Points spanning the solid: its vertices and the rims' extreme points (not the points a
    construction added, so the axes and grid stay put when one is added)."""
    pts = [solid.xyz(k) for k in solid.vertices]
    for part in solid.parts:
        if not isinstance(part, Polytope):
            r = float(part.radius)
            for label in {getattr(part, a) for a in ("bottom", "top", "apex", "centre") if hasattr(part, a)}:
                pts += [solid.xyz(label) + r * np.array(d) for d in np.vstack([np.eye(3), -np.eye(3)])]
    return np.array(pts, dtype=float).reshape(-1, 3)


def fit_points(
    solid: Solid, camera: Camera, strokes: Sequence[Stroke], *, axes: bool, grid: bool
) -> np.ndarray:
    """Every 3D point a figure draws (circles sampled), for :meth:`Camera.fitted`; an edit pair
    fits on both figures' points together."""
    pts = [_extent(solid)]
    for s in [*strokes, *extras(solid, axes=axes, grid=grid), *View(solid, camera).silhouettes()]:
        if isinstance(s, Segment):
            pts.append(np.array([s.a, s.b], dtype=float))
        elif isinstance(s, Circle):
            pts.append(s.at(np.linspace(0, 2 * np.pi, 129)))
        elif isinstance(s, Patch):
            pts.append(np.array(s.points, dtype=float))
        else:
            pts.append(np.array([s.at], dtype=float))
    return np.concatenate(pts)


def _pieces_element(eid: str, role: str, pieces: list[Piece], hide: bool) -> dict[str, Any]:
    return {
        "id": eid,
        "type": "pieces",
        "role": role,
        "pieces": [
            {"t": [round(p.t0, 6), round(p.t1, 6)], "points": _xy(p.points), "dashed": not p.visible}
            for p in pieces
            if p.visible or not hide
        ],
    }


def scene(
    solid: Solid,
    camera: Camera,
    strokes: Sequence[Stroke],
    canvas: tuple[int, int],
    *,
    shade: bool = False,
    axes: bool = False,
    grid: bool = False,
    also: Sequence[Stroke] = (),
) -> dict[str, Any]:
    """The figure: floor grid, shaded faces, sections, axes, the strokes in their order, dots,
    labels (later elements on top). ``also`` are the other figure's strokes in an edit pair: labels
    keep clear of them too, so an unchanged label has the same nominal place in both figures."""
    view = View(solid, camera)
    elements: list[dict[str, Any]] = []
    more = extras(solid, axes=axes, grid=grid)
    floor = [s for s in more if s.role == "grid"]
    if floor:
        runs = [p for s in floor for p in view.pieces(s)]
        elements.append(_pieces_element("grid", "grid", runs, hide=True))
    if shade:
        elements += _faces(solid, camera, view)
    for s in strokes:
        if isinstance(s, Patch):
            xy = camera.project(np.array(s.points, dtype=float))
            elements.append(
                {"id": s.id, "type": "polygon", "points": _xy(xy), "fill": s.fill, "opacity": 0.5}
            )
    for s in more:
        if s.role == "axis":
            e = _pieces_element(s.id, "axis", view.pieces(s), hide=False)
            tip = camera.project(np.array([s.a, s.b], dtype=float))
            back = tip[1] + 12 * (tip[0] - tip[1]) / np.linalg.norm(tip[0] - tip[1])
            elements.append({**e, "head": [_r(back[0]), _r(back[1]), _r(tip[1][0]), _r(tip[1][1])]})
    for s in strokes:
        if isinstance(s, Segment | Circle):
            elements.append(_pieces_element(s.id, s.role, view.pieces(s), hide=s.hidden_style == "none"))
    for s in strokes:
        if isinstance(s, Mark) and s.dot:
            (x, y) = camera.project(np.array([s.at], dtype=float))[0]
            elements.append({"id": s.id, "type": "dot", "x": _r(x), "y": _r(y)})
    ink = _ink(elements)
    for s in also:
        if isinstance(s, Segment | Circle):
            ink += [np.array(p.points) for p in view.pieces(s)]
        elif isinstance(s, Mark):
            ink.append(_dot_ink(camera.project(np.array([s.at], dtype=float))[0]))
    axis_tips = {s.id.split(":")[1]: np.array(s.b) for s in more if s.role == "axis"}
    elements += label_elements(solid, camera, [*strokes], canvas, ink, also=also, tips=axis_tips)
    return {"canvas": [int(canvas[0]), int(canvas[1])], "elements": elements}


def _faces(solid: Solid, camera: Camera, view: View) -> list[dict[str, Any]]:
    """The faces seen from the viewer, each a light grey whose shade follows its normal."""
    out = []
    faces = sorted({i for p in solid.parts if isinstance(p, Polytope) for i in p.faces})
    for i in faces:
        pts = np.array([solid.xyz(v) for v in solid.faces[i]])
        n = np.cross(pts, np.roll(pts, -1, axis=0)).sum(axis=0)
        n /= np.linalg.norm(n)
        centre = pts.mean(axis=0)
        if n @ camera.towards_viewer(centre)[0] <= 1e-9 or view.hidden(centre)[0]:
            continue  # facing away, or covered by another part glued on it
        lit = max(0.0, float(n @ LIGHT) / float(np.linalg.norm(LIGHT)))
        level = round(185 + 50 * lit)
        out.append(
            {
                "id": "face:" + "".join(solid.faces[i]),
                "type": "polygon",
                "points": _xy(camera.project(pts)),
                "fill": f"#{level:02x}{level:02x}{min(255, level + 12):02x}",
                "opacity": 0.45,
            }
        )
    return out


def _dot_ink(p: np.ndarray) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    return p + 4.5 * np.stack([np.cos(a), np.sin(a)], axis=1)


def _ink(elements: list[dict[str, Any]]) -> list[np.ndarray]:
    """Polylines of everything drawn that labels must keep clear of (not the light grid)."""
    out = []
    for e in elements:
        if e["type"] == "pieces" and e["role"] != "grid":
            out += [np.array(p["points"]) for p in e["pieces"]]
        elif e["type"] == "dot":
            out.append(_dot_ink(np.array([e["x"], e["y"]])))
    return out


def _dense(polylines: list[np.ndarray], step: float = 2.0) -> np.ndarray:
    """Points along polylines at most ``step`` pixels apart."""
    out = [np.zeros((0, 2))]
    for pl in polylines:
        for a, b in zip(pl[:-1], pl[1:], strict=True):
            n = max(1, math.ceil(float(np.linalg.norm(b - a)) / step))
            out.append(a + np.linspace(0, 1, n + 1)[:, None] * (b - a))
    return np.concatenate(out)


def labelled_points(solid: Solid, strokes: Sequence[Stroke]) -> dict[str, np.ndarray]:
    """Name -> 3D point of every labelled point a figure draws: the solid's points where a drawn
    segment (an edge, a construction) ends, and the marks."""
    ends = [
        np.array(p, dtype=float)
        for s in strokes
        if isinstance(s, Segment) and s.role != "grid"
        for p in (s.a, s.b)
    ]
    out = {}
    for name in solid.points:
        p = solid.xyz(name)
        if any(np.linalg.norm(p - e) < 1e-9 for e in ends):
            out[name] = p
    for s in strokes:
        if isinstance(s, Mark):
            out[s.text] = np.array(s.at, dtype=float)
    return out


def label_elements(
    solid: Solid,
    camera: Camera,
    strokes: Sequence[Stroke],
    canvas: tuple[int, int],
    ink: list[np.ndarray],
    *,
    also: Sequence[Stroke] = (),
    tips: dict[str, np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """A label per labelled point (and per axis tip), at a nominal place just outside the figure:
    away from the figure's centre for a point on or outside its outline, into the freest direction
    for a point inside it; never nearer to another labelled point than to its own."""
    names = {**labelled_points(solid, strokes), **(tips or {})}
    if not names:
        return []
    every = {**labelled_points(solid, also), **names}
    px = {k: camera.project(v[None])[0] for k, v in every.items()}
    cloud = _dense(ink)
    hull = _hull(np.vstack([_outline(solid, camera), *px.values()]))
    centre = _area_centre(hull[0]) if hull is not None else np.mean(list(px.values()), axis=0)
    out = []
    for name in sorted(names):
        p = px[name]
        others = np.array([q for k, q in px.items() if k != name]).reshape(-1, 2)
        inside = hull is not None and float((hull[1][:, :2] @ p + hull[1][:, 2]).max()) < -2.0
        x, y = _place(name, p, centre, inside, cloud, others, canvas)
        out.append(
            {
                "id": f"label:{name}",
                "type": "label",
                "x": _r(x),
                "y": _r(y),
                "text": name,
                "size": LABEL_SIZE,
                "anchor": "middle",
                "color": STROKE,
                "at": [_r(p[0]), _r(p[1])],
                "reach": LABEL_REACH,
            }
        )
    return out


def _outline(solid: Solid, camera: Camera) -> np.ndarray:
    """Pixels spanning the solid's outline: its points, its round parts' rims, its spheres'
    outlines (the figure whose centre labels face away from)."""
    view = View(solid, camera)
    pts = [np.array([solid.xyz(k) for k in solid.points], dtype=float).reshape(-1, 3)]
    rims = [Circle("", tuple(c), tuple(n), r) for c, n, r in view.circles]
    pts += [c.at(np.linspace(0, 2 * np.pi, 64, endpoint=False)) for c in rims]
    return camera.project(np.concatenate(pts))


def _hull(points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(vertices in order, facet equations ``a x + b y + c <= 0`` inside) of the convex hull."""
    try:
        h = ConvexHull(points)
    except (QhullError, ValueError):
        return None
    return points[h.vertices], h.equations


def _area_centre(poly: np.ndarray) -> np.ndarray:
    x, y = poly[:, 0], poly[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = cross.sum() / 2
    if abs(area) < 1e-9:
        return poly.mean(axis=0)
    return np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6 * area)


def _place(
    text: str,
    p: np.ndarray,
    centre: np.ndarray,
    inside: bool,
    cloud: np.ndarray,
    others: np.ndarray,
    canvas: tuple[int, int],
) -> tuple[float, float]:
    """The label's anchor (x, baseline y): its box centre a gap beyond the point's side of the
    box, in the best of DIRECTIONS directions."""
    hw, hh = advance(text, LABEL_SIZE) / 2, 0.525 * LABEL_SIZE
    away = p - centre
    away = away / n if (n := float(np.linalg.norm(away))) > 1 else np.array([0.0, -1.0])
    best, best_key = None, None
    for k in range(DIRECTIONS):
        a = 2 * math.pi * k / DIRECTIONS
        d = np.array([math.cos(a), math.sin(a)])
        reach = min(
            hw / abs(d[0]) if abs(d[0]) > 1e-9 else np.inf, hh / abs(d[1]) if abs(d[1]) > 1e-9 else np.inf
        )
        c = p + d * (reach + LABEL_GAP)
        box = np.array([c[0] - hw, c[1] - hh, c[0] + hw, c[1] + hh])
        clear = _clearance(box, cloud)
        own = float(np.linalg.norm(c - p))
        mine = not len(others) or own < float(np.linalg.norm(others - c, axis=1).min())
        fits = box[0] >= 0 and box[1] >= 0 and box[2] <= canvas[0] and box[3] <= canvas[1]
        ok = clear >= CLEAR and mine and fits
        facing = float(d @ away)
        key = (ok, min(clear, 30.0) if inside else facing, facing, clear)
        if best_key is None or key > best_key:
            best, best_key = c, key
    assert best is not None
    return float(best[0]), float(best[1]) + 0.275 * LABEL_SIZE  # box centre -> baseline


def _clearance(box: np.ndarray, cloud: np.ndarray) -> float:
    if not len(cloud):
        return np.inf
    dx = np.maximum(np.maximum(box[0] - cloud[:, 0], 0), cloud[:, 0] - box[2])
    dy = np.maximum(np.maximum(box[1] - cloud[:, 1], 0), cloud[:, 1] - box[3])
    return float(np.hypot(dx, dy).min())


def anchor_problem(scene: dict[str, Any], camera: Camera, solid: Solid) -> str | None:
    """A label that does not read as its point's: its box centre more than LABEL_REACH from the
    point, or nearer to another labelled point; None when every label is by its own point."""
    labels = [e for e in scene["elements"] if e["type"] == "label"]
    points = {}
    for e in labels:
        name = e["text"]
        points[e["id"]] = (
            camera.project(solid.xyz(name)[None])[0] if name in solid.points else np.array(e["at"])
        )
    for e in labels:
        x0, y0, x1, y1 = label_box(e)
        c = np.array([x0 + x1, y0 + y1]) / 2
        own = float(np.linalg.norm(c - points[e["id"]]))
        if own > LABEL_REACH:
            return f"label {e['text']!r} is {own:.0f} px from its point"
        for other, q in points.items():
            if other != e["id"] and float(np.linalg.norm(c - q)) <= own:
                return f"label {e['text']!r} is nearer to the point of {other.split(':', 1)[1]!r}"
    return None
