"""Exact answers about a solid (lengths, distances, angles, areas, volumes) and their textbook form.

Everything is sympy arithmetic on the solid's exact coordinates, simplified just enough to reach
the closed form a textbook prints (``radsimp`` rationalises denominators, ``sqrtdenest`` undoes
nested roots); :func:`fmt` writes it as "4√3/3", "36π", "45°" or "arccos(1/3) ≈ 70.53°", and falls
back to four significant figures when no short closed form exists (a pentagon's nested radicals).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sympy as sp

from renderers.geometry.model import Cone, Cylinder, Point3, Polytope, Solid, Sphere

Vec = tuple[sp.Expr, sp.Expr, sp.Expr]
MAX_CLOSED = 24  # longest closed form printed; longer ones are given as decimals
MAX_OPS = 40  # longest expression simplify() works on


def sub(p: Point3, q: Point3) -> Vec:
    return (p[0] - q[0], p[1] - q[1], p[2] - q[2])


def dot(u: Vec, v: Vec) -> sp.Expr:
    return sp.expand(u[0] * v[0] + u[1] * v[1] + u[2] * v[2])


def cross(u: Vec, v: Vec) -> Vec:
    return tuple(
        sp.expand(c)
        for c in (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    )


def simplify(e: sp.Expr) -> sp.Expr:
    """The cheap simplification every answer goes through: expand (which keeps sums of surds
    short: the products of roots multiply out), then rationalise and denest. Long expressions (a
    pentagon's nested radicals, which have no short form) are only expanded: the rest takes seconds
    on them and gains nothing, their float value is what gets used."""
    e = sp.expand(e)
    if e.is_Rational or sp.count_ops(e) > MAX_OPS:
        return e
    e = sp.radsimp(e)
    return e if e.is_Rational else sp.expand(sp.sqrtdenest(e))


def root(e: sp.Expr) -> sp.Expr:
    """The square root of a non-negative exact number, as simple as sympy cheaply makes it."""
    return simplify(sp.sqrt(simplify(e)))


def normal(points: Sequence[Point3]) -> Vec:
    """A normal of the plane through the first three points (right-hand rule: a face listed
    counter-clockwise from outside gets its outward normal)."""
    return cross(sub(points[1], points[0]), sub(points[2], points[0]))


def face_normal(solid: Solid, i: int) -> Vec:
    """The outward normal of face i, from its vector area so that a face whose first three
    corners are collinear still gets one."""
    pts = [solid.points[v] for v in solid.faces[i]]
    total = (sp.Integer(0),) * 3
    for a, b in zip(pts[1:], pts[2:], strict=False):
        total = tuple(t + c for t, c in zip(total, cross(sub(a, pts[0]), sub(b, pts[0])), strict=True))
    return tuple(sp.expand(t) for t in total)


def length(p: Point3, q: Point3) -> sp.Expr:
    d = sub(p, q)
    return root(dot(d, d))


def distance_to_plane(p: Point3, plane_points: Sequence[Point3]) -> sp.Expr:
    n = normal(plane_points)
    return simplify(sp.Abs(dot(n, sub(p, plane_points[0]))) / root(dot(n, n)))


def angle_line_plane(p: Point3, q: Point3, plane_points: Sequence[Point3]) -> sp.Expr:
    """The angle between line pq and the plane, in [0, pi/2]: asin of |d.n| / (|d||n|)."""
    d, n = sub(q, p), normal(plane_points)
    return sp.asin(simplify(sp.Abs(dot(d, n)) / root(dot(d, d) * dot(n, n))))


def dihedral(solid: Solid, face_i: int, face_j: int) -> sp.Expr:
    """The interior dihedral angle along the common edge of two faces: pi minus the angle between
    their outward normals."""
    fi, fj = solid.faces[face_i], solid.faces[face_j]
    sides = {frozenset(e) for e in zip(fi, fi[1:] + fi[:1], strict=True)}
    if not any(frozenset(e) in sides for e in zip(fj, fj[1:] + fj[:1], strict=True)):
        raise ValueError(f"faces {face_i} and {face_j} share no edge")
    ni, nj = face_normal(solid, face_i), face_normal(solid, face_j)
    return sp.acos(simplify(-dot(ni, nj) / root(dot(ni, ni) * dot(nj, nj))))


def polygon_area(points: Sequence[Point3]) -> sp.Expr:
    """Area of a planar polygon: half the length of its vector area."""
    total = (sp.Integer(0),) * 3
    for a, b in zip(points[1:], points[2:], strict=False):
        total = tuple(t + c for t, c in zip(total, cross(sub(a, points[0]), sub(b, points[0])), strict=True))
    return simplify(root(dot(total, total)) / 2)


def _polytope_volume(solid: Solid, part: Polytope) -> sp.Expr:
    """Sum of the signed tetrahedra from one corner to every face's fan triangles (divergence
    theorem; faces are outward, so the sum is the volume)."""
    o = solid.points[solid.faces[part.faces[0]][0]]
    total = sp.Integer(0)
    for i in part.faces:
        pts = [solid.points[v] for v in solid.faces[i]]
        for a, b in zip(pts[1:], pts[2:], strict=False):
            total += dot(sub(pts[0], o), cross(sub(a, o), sub(b, o)))
    return total / 6


def volume(solid: Solid) -> sp.Expr:
    """Sum of the parts' volumes (the parts of a cone on a cylinder only touch)."""
    total = sp.Integer(0)
    for part in solid.parts:
        if isinstance(part, Polytope):
            total += _polytope_volume(solid, part)
        elif isinstance(part, Cylinder):
            total += sp.pi * part.radius**2 * length(solid.points[part.bottom], solid.points[part.top])
        elif isinstance(part, Cone):
            h = length(solid.points[part.bottom], solid.points[part.apex])
            big, small = part.radius, part.top_radius
            total += sp.pi * h * (big**2 + big * small + small**2) / 3
        elif isinstance(part, Sphere):
            total += sp.Rational(4, 3) * sp.pi * part.radius**3
    return simplify(total)


def surface_area(solid: Solid) -> sp.Expr:
    """Faces, lateral surfaces, and the end discs of curved parts; a disc where two parts meet
    (the join of a cone on a cylinder) is inside the solid and left out."""
    total = sum((polygon_area([solid.points[v] for v in f]) for f in solid.faces), sp.Integer(0))
    discs: dict[tuple[str, sp.Expr], int] = {}
    for part in solid.parts:
        if isinstance(part, Cylinder):
            h = length(solid.points[part.bottom], solid.points[part.top])
            total += 2 * sp.pi * part.radius * h
            for c in (part.bottom, part.top):
                discs[(c, part.radius)] = discs.get((c, part.radius), 0) + 1
        elif isinstance(part, Cone):
            h = length(solid.points[part.bottom], solid.points[part.apex])
            slant = root(h**2 + (part.radius - part.top_radius) ** 2)
            total += sp.pi * (part.radius + part.top_radius) * slant
            for c, r in ((part.bottom, part.radius), (part.apex, part.top_radius)):
                if r != 0:
                    discs[(c, r)] = discs.get((c, r), 0) + 1
        elif isinstance(part, Sphere):
            total += 4 * sp.pi * part.radius**2
    total += sum((sp.pi * r**2 for (_, r), k in discs.items() if k == 1), sp.Integer(0))
    return simplify(total)


def counts(solid: Solid) -> tuple[int, int, int]:
    """(V, E, F) of a polyhedron."""
    if not solid.faces:
        raise ValueError(f"{solid.name} is not a polyhedron")
    return len(solid.vertices), len(solid.edges), len(solid.faces)


# ---------------------------------------------------------------------------------------------
# Textbook form


def _decimal(x: float) -> str:
    """Four significant figures without an exponent, trailing zeros dropped."""
    if x == 0:
        return "0"
    digits = max(0, 3 - math.floor(math.log10(abs(x))))
    s = f"{x:.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _term(term: sp.Expr) -> tuple[sp.Rational, str] | None:
    """A term c·√m·π^k as (c, "√mπ^k"), or None when it is not of that form."""
    coeff, rest = term.as_coeff_Mul()
    if not coeff.is_Rational:
        return None
    radicand, pi_power = 1, 0
    for f in sp.Mul.make_args(rest):
        if f == 1:
            continue
        if f == sp.pi:
            pi_power += 1
        elif f.is_Pow and f.base == sp.pi and f.exp.is_Integer and f.exp > 0:
            pi_power += int(f.exp)
        elif f.is_Pow and f.base.is_Integer and f.base > 0 and f.exp == sp.S.Half:
            radicand *= int(f.base)
        else:
            return None
    body = (f"√{radicand}" if radicand > 1 else "") + ("π" if pi_power else "")
    return coeff, body + (f"^{pi_power}" if pi_power > 1 else "")


def _closed(e: sp.Expr) -> str | None:
    """The surd form "(2√6 + 1)/3", or None when e is not a sum of such terms or is too long."""
    if e == 0:
        return "0"
    terms = [_term(t) for t in sp.Add.make_args(sp.expand(e))]
    if any(t is None for t in terms):
        return None
    den = math.lcm(*(int(c.q) for c, _ in terms))
    if den > 1 and len(terms) > 1 and all(c < 0 for c, _ in terms):
        inner = _closed(-e)
        return None if inner is None else "-" + inner
    terms.sort(key=lambda t: (bool(t[0] < 0), t[1] == ""))  # a positive term first, the integer last
    parts = []
    for i, (c, body) in enumerate(terms):
        k = abs(c * den)
        text = (str(k) if k != 1 or not body else "") + body
        parts.append(("-" if c < 0 else "") + text if i == 0 else (" - " if c < 0 else " + ") + text)
    s = "".join(parts)
    if den > 1:
        s = f"({s})/{den}" if len(terms) > 1 else f"{s}/{den}"
    return s if len(s) <= MAX_CLOSED else None


def _closed_any(e: sp.Expr) -> str | None:
    """Try the cheap forms first, then sympy's full simplify on small expressions only."""
    s = _closed(simplify(e))
    if s is None and sp.count_ops(e) < 40:
        s = _closed(simplify(sp.simplify(e)))
    return s


INVERSE = {sp.asin: "arcsin", sp.acos: "arccos", sp.atan: "arctan"}


def _fmt_angle(e: sp.Expr) -> str:
    degrees = float(e) * 180 / math.pi
    q = sp.expand(e / sp.pi)
    if q.is_Rational:
        d = q * 180
        return f"{d}°" if d.is_Integer else f"{_decimal(float(d))}°"
    if type(e) in INVERSE:
        name, arg = INVERSE[type(e)], _closed_any(e.args[0])
    else:  # e.g. pi - acos(x): its cosine has the closed form
        name, arg = "arccos", _closed_any(sp.cos(e))
    return f"{_decimal(degrees)}°" if arg is None else f"{name}({arg}) ≈ {_decimal(degrees)}°"


def fmt(expr: sp.Expr | int, angle: bool = False) -> str:
    """The textbook form of an exact answer; an angle (``angle=True``, or any expression with an
    inverse trig function) in degrees when it is a rational multiple of pi, else as
    "arccos(1/3) ≈ 70.53°". Chinese textbooks write the same forms, so there is no separate one."""
    e = sp.sympify(expr)
    if angle or e.has(*INVERSE):
        return _fmt_angle(e)
    return _closed_any(e) or _decimal(float(e))
