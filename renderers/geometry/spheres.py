"""The inscribed and circumscribed spheres of a solid, exact.

A sphere is the one construction that takes more than a few lines per solid kind: a polyhedron's
centre solves a linear system (and may not exist), a cylinder's or cone's lies on its axis. Both
spheres share that split, so it lives here apart from the other constructions.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from renderers.geometry import measure as ms
from renderers.geometry.construction import (
    EPS,
    Construction,
    SphereOutline,
    floats,
    fresh_label,
    label_at,
    simplified,
)
from renderers.geometry.model import Cone, Cylinder, Mark, Point3, Solid, Sphere, Stroke, as_float
from synth.sampling import NotApplicable


def _sphere(solid: Solid, op: str, centre: Point3, radius: sp.Expr) -> Construction:
    """The construction of a sphere: its centre reuses a label already there, else gets O (or
    the next free label)."""
    name = label_at(solid, centre)
    new = {} if name is not None else {(name := fresh_label(solid, "OQ")): centre}
    tag = "insphere" if op == "inscribed_sphere" else "circumsphere"
    strokes: list[Stroke | SphereOutline] = [SphereOutline(f"con:{tag}", floats(centre), float(radius))]
    strokes += [Mark(f"mark:{v}", floats(q), v) for v, q in new.items()]
    return Construction(op, {}, points=new, strokes=strokes, facts={"centre": name, "radius": radius})


def _solve(rows: list[list[sp.Expr]], rhs: list[sp.Expr]) -> Point3:
    return simplified(list(sp.Matrix(rows).LUsolve(sp.Matrix(rhs))))


def _independent(vectors: list[ms.Vec]) -> tuple[int, int, int] | None:
    """Indices of three linearly independent vectors, if there are."""
    for idx in itertools.combinations(range(len(vectors)), 3):
        if abs(np.linalg.det(np.array([floats(vectors[i]) for i in idx]))) > EPS:
            return idx
    return None


def _curved_part(solid: Solid, op: str) -> tuple[Cylinder | Cone, Point3, Point3, sp.Expr] | None:
    """A cylinder or cone with its axis (bottom centre, top centre or apex, height), or None for a
    polyhedron, whose sphere is solved for instead. Solids of several parts, a sphere and a conical
    frustum have neither sphere."""
    part = solid.parts[0]
    if len(solid.parts) != 1 or isinstance(part, Sphere):
        raise NotApplicable(f"{solid.name} has no {op.replace('_', ' ')}")
    if not isinstance(part, Cylinder | Cone):
        return None
    if isinstance(part, Cone) and part.top_radius != 0:
        raise NotApplicable("a conical frustum is left out")
    top = part.top if isinstance(part, Cylinder) else part.apex
    b, t = solid.points[part.bottom], solid.points[top]
    return part, b, t, ms.length(b, t)


def _along(b: Point3, t: Point3, k: sp.Expr) -> Point3:
    return simplified([u + k * (v - u) for u, v in zip(b, t, strict=True)])


def inscribed_sphere(solid: Solid) -> Construction:
    """The sphere tangent to every face: a polyhedron has one when a point is equally far from all
    its face planes (so a cuboid that is not a cube has none); its radius is then 3V/S (the volume
    split into pyramids on the faces) and its centre solves three of the tangency equations. A
    cylinder has one when h = 2r; a cone always."""
    op = "inscribed_sphere"
    if (curved := _curved_part(solid, op)) is not None:
        part, b, t, h = curved
        if isinstance(part, Cylinder):
            if h != 2 * part.radius:
                raise NotApplicable("a cylinder has an inscribed sphere only when h = 2r")
            return _sphere(solid, op, _along(b, t, sp.Rational(1, 2)), part.radius)
        r = ms.simplify(part.radius * h / (part.radius + ms.root(h**2 + part.radius**2)))
        return _sphere(solid, op, _along(b, t, r / h), r)
    normals = [ms.face_normal(solid, i) for i in range(len(solid.faces))]
    unit = np.array([floats(n) for n in normals])
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    offsets = np.array([unit[i] @ solid.xyz(f[0]) for i, f in enumerate(solid.faces)])
    # tangent to every face from inside: n_i . c + r = n_i . p_i; floats first, as that is cheap
    system = np.hstack([unit, np.ones((len(unit), 1))])
    fit = np.linalg.lstsq(system, offsets, rcond=None)[0]
    idx = _independent(normals)
    if idx is None or fit[3] <= 0 or not np.allclose(system @ fit, offsets, atol=1e-7):
        raise NotApplicable(f"{solid.name} has no inscribed sphere")
    r = ms.simplify(3 * ms.volume(solid) / ms.surface_area(solid))
    rows = [list(normals[i]) for i in idx]
    rhs = [
        ms.dot(normals[i], solid.points[solid.faces[i][0]]) - r * ms.root(ms.dot(normals[i], normals[i]))
        for i in idx
    ]
    return _sphere(solid, op, _solve(rows, rhs), r)


def circumscribed_sphere(solid: Solid) -> Construction:
    """The sphere through every vertex: the centre solves three of the equidistance equations and
    must satisfy the rest (an oblique prism or a cut cube has none); for a cylinder it is the
    axis midpoint, for a cone the point of the axis equidistant from the apex and the rim."""
    op = "circumscribed_sphere"
    if (curved := _curved_part(solid, op)) is not None:
        part, b, t, h = curved
        if isinstance(part, Cylinder):
            return _sphere(solid, op, _along(b, t, sp.Rational(1, 2)), ms.root(part.radius**2 + h**2 / 4))
        z = (h**2 - part.radius**2) / (2 * h)  # |centre - rim|^2 = r^2 + z^2 = (h - z)^2
        return _sphere(solid, op, _along(b, t, z / h), ms.simplify(h - z))
    vs = [solid.points[v] for v in solid.vertices]
    diffs = [ms.sub(v, vs[0]) for v in vs[1:]]
    idx = _independent(diffs)
    if idx is None:
        raise NotApplicable("flat solid")
    rows = [[2 * x for x in diffs[i]] for i in idx]
    rhs = [ms.dot(vs[i + 1], vs[i + 1]) - ms.dot(vs[0], vs[0]) for i in idx]
    c = _solve(rows, rhs)
    r = ms.length(c, vs[0])
    cf = as_float(c)
    if any(abs(np.linalg.norm(as_float(v) - cf) - float(r)) > 1e-7 for v in vs):
        raise NotApplicable(f"{solid.name} has no circumscribed sphere")
    return _sphere(solid, op, c, r)
