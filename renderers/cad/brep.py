"""Facts read back from the B-rep, for a verifier to compare with the spec that made the part.

Nothing here looks at the spec's numbers: holes are found as concave cylindrical faces grouped by
their axis line. A group counts as a hole only when, at one radius, its faces go all the way round
(angular span >= 2 pi): the half-cylinder ends of a slot or keyway and the quarter-cylinders of a
filleted pocket corner share an axis with nothing and never close. The smallest closed radius is
the hole; a larger closed radius on the same axis is its counterbore. A hole is blind when the
solid goes on past one end of it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from build123d import GeomType, Shape
from OCP.BRepAdaptor import BRepAdaptor_Surface
from OCP.BRepTools import BRepTools

from renderers.cad.layout import drills

PROBE = 0.05  # mm past a hole's end where the solid is sampled to tell blind from through


@dataclass(frozen=True)
class HoleAxis:
    """One hole as read from the B-rep; t is the position along `direction` from `point`."""

    point: tuple[float, float, float]  # the axis line's point nearest the origin
    direction: tuple[float, float, float]  # unit, first non-zero component positive
    diameter: float
    span: tuple[float, float]  # (t_min, t_max) of the hole's cylinder
    extent: tuple[float, float]  # (t_min, t_max) of every cylinder on the axis (counterbore too)
    counterbore: tuple[float, float] | None  # (diameter, depth)
    through: bool


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd) + 0.0  # + 0.0 turns -0.0 into 0.0


def _canonical(d: np.ndarray) -> np.ndarray:
    for c in d:
        if abs(c) > 1e-9:
            return d if c > 0 else -d
    return d


def hole_axes(part: Shape) -> list[HoleAxis]:
    """Every hole in the part, sorted by axis line."""
    groups: dict[tuple, list[tuple[float, float, float, float]]] = defaultdict(list)
    lines: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for face in part.faces().filter_by(GeomType.CYLINDER):
        if not face.is_circular_concave:
            continue
        cyl = BRepAdaptor_Surface(face.wrapped).Cylinder()
        pos, axis = cyl.Position().Location(), cyl.Position().Direction()
        loc = np.array([pos.X(), pos.Y(), pos.Z()])
        raw = np.array([axis.X(), axis.Y(), axis.Z()])
        d = _canonical(raw)
        point = loc - d * (loc @ d)
        key = tuple(_r(v) for v in (*d, *point))
        lines.setdefault(key, (point, d))
        umin, umax, vmin, vmax = BRepTools.UVBounds_s(face.wrapped)
        sign = float(raw @ d)  # v runs along the surface's own axis, maybe opposite to d
        t0 = (loc - point) @ d
        ta, tb = sorted((t0 + sign * vmin, t0 + sign * vmax))
        groups[key].append((cyl.Radius(), umax - umin, ta, tb))
    out = []
    for key in sorted(groups):
        point, d = lines[key]
        by_radius: dict[float, list[tuple[float, float, float]]] = defaultdict(list)
        for radius, du, ta, tb in groups[key]:
            by_radius[_r(radius, 6)].append((du, ta, tb))
        closed = sorted(
            r for r, items in by_radius.items() if sum(du for du, _, _ in items) >= 2 * math.pi - 1e-6
        )
        if not closed:
            continue
        hole = by_radius[closed[0]]
        span = (min(a for _, a, _ in hole), max(b for _, _, b in hole))
        extent = (min(g[2] for g in groups[key]), max(g[3] for g in groups[key]))
        cb = None
        if len(closed) > 1:
            items = by_radius[closed[1]]
            cb = (2 * closed[1], max(b for _, _, b in items) - min(a for _, a, _ in items))
        ends = [point + d * (extent[0] - PROBE), point + d * (extent[1] + PROBE)]
        through = not any(part.is_inside(tuple(float(c) for c in e)) for e in ends)
        out.append(
            HoleAxis(
                tuple(_r(v, 6) for v in point),
                tuple(_r(v, 9) for v in d),
                2 * closed[0],
                (_r(span[0], 6), _r(span[1], 6)),
                (_r(extent[0], 6), _r(extent[1], 6)),
                cb,
                through,
            )
        )
    return out


def _tally(rows: list[tuple]) -> list[dict]:
    """Sorted [{..., "count"}] from tuples of (key, value) pairs."""
    counts: dict[tuple, int] = defaultdict(int)
    for row in rows:
        counts[row] += 1
    return [{**dict(row), "count": n} for row, n in sorted(counts.items())]


def facts(part: Shape, spec: dict | None = None, axes: list[HoleAxis] | None = None) -> dict:
    """What the B-rep says: volume (mm^3), faces, bounding box size (x, y, z), holes by diameter,
    blind holes and counterbores; every number read from the solid, none from the spec (spec only
    labels the kind). ``axes``: hole_axes(part), when already found (it grows with holes x faces)."""
    bb = part.bounding_box()
    axes = hole_axes(part) if axes is None else axes
    out = {
        "kind": spec["kind"] if spec else None,
        "solids": len(part.solids()),
        "valid": bool(part.is_valid),
        "volume": _r(part.volume),
        "faces": len(part.faces()),
        "edges": len(part.edges()),
        "bbox_size": [_r(bb.size.X, 2), _r(bb.size.Y, 2), _r(bb.size.Z, 2)],
        "holes": _tally([(("diameter", _r(h.diameter)),) for h in axes]),
        "blind_holes": _tally(
            [
                (("diameter", _r(h.diameter)), ("depth", _r(h.extent[1] - h.extent[0])))
                for h in axes
                if not h.through
            ]
        ),
        "counterbores": _tally(
            [
                (("diameter", _r(h.counterbore[0])), ("depth", _r(h.counterbore[1])))
                for h in axes
                if h.counterbore
            ]
        ),
    }
    return out


def expected_facts(spec: dict) -> dict:
    """The hole facts the spec asks for, in facts()'s form, for a verifier to compare."""
    holes, blind, cbs = [], [], []
    for d in drills(spec):
        holes.append((("diameter", _r(d.diameter)),))
        if d.depth is not None:
            blind.append((("diameter", _r(d.diameter)), ("depth", _r(d.depth))))
        if d.counterbore:
            cbs.append((("diameter", _r(d.counterbore[0])), ("depth", _r(d.counterbore[1]))))
    return {"holes": _tally(holes), "blind_holes": _tally(blind), "counterbores": _tally(cbs)}
