"""Rotations of a solid by a multiple of 90 degrees about an edge or its vertical axis, exact
(Rodrigues' formula with cos and sin in {-1, 0, 1}): the ``rotate`` construction, and the axes a
rotation may take."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import sympy as sp

from renderers.geometry import measure as ms
from renderers.geometry.construction import EPS, Construction, simplified
from renderers.geometry.model import Point3, Rim, Segment, Solid, as_float
from renderers.geometry.solids import build
from synth.sampling import NotApplicable


def base_centre(solid: Solid) -> Point3:
    """The centre of the base of a solid standing as built (or turned about that vertical line):
    at O where the solid has it (or under it, for a sphere), the origin for the regular bases (centred there), the middle of
    a box's bottom, the centroid of a tetrahedron's base. A solid moved otherwise has none."""
    built = build(solid.name, solid.params)

    def spots(s: Solid) -> set[tuple[float, ...]]:
        return {tuple(np.round(s.xyz(v), 9)) for v in built.points}

    if spots(solid) != spots(built):
        raise NotApplicable("the solid has been moved off its base")
    zero = sp.Integer(0)
    o = built.points.get("O")
    if o is not None:  # a pyramid's base centre, a round solid's axis
        return (o[0], o[1], zero)
    if solid.name in ("prism", "frustum"):
        return (zero, zero, zero)
    if solid.name == "tetrahedron":
        base = [built.points[v] for v in "ABC"]
        return simplified([sum(p[i] for p in base) / 3 for i in range(3)])
    a, b = sp.Integer(solid.params["a"]), sp.Integer(solid.params.get("b", solid.params["a"]))
    return (a / 2, b / 2, zero)  # cube, cuboid, cut cube: corner A at the origin


def _axis_points(solid: Solid, axis: str) -> tuple[Point3, Point3]:
    """Two points on the named axis: "axis:z" or two labels written together ("AB1")."""
    if axis == "axis:z":
        c = base_centre(solid)
        return c, (c[0], c[1], c[2] + 1)
    splits = [(axis[:k], axis[k:]) for k in range(1, len(axis))]
    found = [(a, b) for a, b in splits if a in solid.points and b in solid.points]
    if len(found) != 1:
        raise NotApplicable(f"axis {axis!r} names no line of {solid.name}")
    a, b = found[0]
    return solid.points[a], solid.points[b]


def rotated(solid: Solid, axis: str, angle_deg: int) -> Solid:
    """The solid turned by a multiple of 90 degrees about the axis (right-hand rule along the axis
    as written: from its first label to its second, or upwards), exactly (Rodrigues' formula with
    cos and sin in {-1, 0, 1}); labels, edges, faces and parts are kept."""
    if angle_deg % 90:
        raise ValueError("the angle must be a multiple of 90 degrees")
    p, q = _axis_points(solid, axis)
    d = ms.sub(q, p)
    k = tuple(x / ms.root(ms.dot(d, d)) for x in d)
    c, s = sp.cos(sp.rad(angle_deg)), sp.sin(sp.rad(angle_deg))

    def turn(w: ms.Vec) -> ms.Vec:
        kw = ms.cross(k, w)
        along = ms.dot(k, w) * (1 - c)
        return tuple(c * a + s * b + along * kk for a, b, kk in zip(w, kw, k, strict=True))

    points = {
        label: simplified([a + b for a, b in zip(p, turn(ms.sub(x, p)), strict=True)])
        for label, x in solid.points.items()
    }
    rims = [Rim(r.centre, r.radius, simplified(turn(r.normal))) for r in solid.rims]
    return replace(solid, points=points, rims=rims, params=dict(solid.params))


def rotate(solid: Solid, axis: str, angle_deg: int) -> Construction:
    """The rotation as a construction: ``solid`` holds the turned solid, the stroke is the axis
    (it stays put), drawn a quarter beyond its points each way, or from below the base to above
    the top for "axis:z"."""
    moved = rotated(solid, axis, angle_deg)
    p, q = (as_float(x) for x in _axis_points(solid, axis))
    if axis == "axis:z":
        top = max(max(float(x[2]) for x in solid.points.values()), 1.0)
        a, b = (p[0], p[1], -0.15 * top), (p[0], p[1], 1.25 * top)
    else:
        a, b = tuple(p - 0.25 * (q - p)), tuple(q + 0.25 * (q - p))
    stroke = Segment(f"con:axis:{axis}", tuple(map(float, a)), tuple(map(float, b)), role="axis")
    return Construction("rotate", {"axis": axis, "angle": angle_deg}, strokes=[stroke], solid=moved)


def rotation_axes(solid: Solid) -> list[str]:
    """The edges of rational length (a unit vector along a slanted edge of irrational length puts
    nested roots in every turned coordinate), written so that they parse back; the diameter AB of a
    cylinder's or cone's base; and the vertical axis while the solid still stands on its base and
    has a labelled point off it."""
    lines = [(a, b) for a, b in solid.edges] if solid.faces else ([("A", "B")] if "A" in solid.points else [])
    axes = [
        a + b
        for a, b in lines
        if ms.length(solid.points[a], solid.points[b]).is_Rational
        and sum((a + b)[:k] in solid.points and (a + b)[k:] in solid.points for k in range(1, len(a + b)))
        == 1
    ]
    try:
        c = as_float(base_centre(solid))
    except NotApplicable:
        return axes
    off_axis = any(np.linalg.norm(solid.xyz(v)[:2] - c[:2]) > EPS for v in solid.points)
    return ["axis:z", *axes] if off_axis else axes  # turning points on the axis changes nothing
