"""The textbook solids as exact models, built from a few sampled integers.

Every builder is a pure function of its integer parameters, so a sampled solid is stored as its
name and ``params`` and rebuilt bit for bit (``build(s.name, s.params)``). Labels follow the
textbook: the bottom ABCD... counter-clockwise seen from above starting front-left (front is small
y), the top A1B1C1... (or A'B'C'... with ``labels="prime"``) above them, apex P, centres O and O1.
Regular polygons are centred on the z axis with their first side AB at the front, parallel to x.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from renderers.geometry.model import Cone, Cylinder, Point3, Polytope, Rim, Solid, Sphere, as_float

LETTERS = "ABCDEF"
UP: Point3 = (sp.Integer(0), sp.Integer(0), sp.Integer(1))


def top_label(label: str, labels: str) -> str:
    """The label of the point above ``label``: A -> A1 (``labels="1"``) or A' (``"prime"``)."""
    return label + ("'" if labels == "prime" else "1")


def regular_polygon(n: int, side: sp.Expr) -> list[tuple[sp.Expr, sp.Expr]]:
    """Exact vertices of a regular n-gon centred at the origin, counter-clockwise from the front
    left, its first side at the front parallel to x (so A is front-left and B front-right). The
    pentagon is written out by hand with x in Q(√5) and y in w·Q(√5), w = sqrt(10 + 2√5): one nested
    root that squares away, where sympy's own cos and sin give several that make every later
    product blow up."""
    if n == 5:
        s5, w = sp.sqrt(5), sp.sqrt(10 + 2 * sp.sqrt(5))
        big, small = side * w * s5 / 10, side * w * (5 + s5) / 40  # circumradius, inradius
        cx, cy = side * (1 + s5) / 4, side * w * (5 - s5) / 40
        return [(-side / 2, -small), (side / 2, -small), (cx, cy), (sp.Integer(0), big), (-cx, cy)]
    radius = side / (2 * sp.sin(sp.pi / n))
    angles = [-sp.pi / 2 - sp.pi / n + 2 * sp.pi * k / n for k in range(n)]
    return [(radius * sp.cos(t), radius * sp.sin(t)) for t in angles]


def _edges_of(faces: Sequence[tuple[str, ...]]) -> list[tuple[str, str]]:
    """Each side of each face once, in the order first met (a polyhedron's edges)."""
    seen: dict[frozenset[str], tuple[str, str]] = {}
    for f in faces:
        for u, v in zip(f, f[1:] + f[:1], strict=True):
            seen.setdefault(frozenset((u, v)), (u, v))
    return list(seen.values())


def _polyhedron(name: str, points: dict[str, Point3], faces: list[tuple[str, ...]], title: str) -> Solid:
    return Solid(name, points, _edges_of(faces), faces, [Polytope(tuple(range(len(faces))))], title=title)


def _lift(xy: tuple[sp.Expr, sp.Expr], z: sp.Expr | int = 0) -> Point3:
    return (sp.sympify(xy[0]), sp.sympify(xy[1]), sp.sympify(z))


def _prism_faces(bottom: list[str], top: list[str]) -> list[tuple[str, ...]]:
    """Bottom (reversed: it faces down), top, then the sides, each counter-clockwise from outside
    because the bottom runs counter-clockwise seen from above and the top lies above it."""
    n = len(bottom)
    sides = [(bottom[i], bottom[(i + 1) % n], top[(i + 1) % n], top[i]) for i in range(n)]
    return [tuple(reversed(bottom)), tuple(top), *sides]


def _pyramid_faces(base: list[str], apex: str) -> list[tuple[str, ...]]:
    n = len(base)
    return [tuple(reversed(base)), *[(base[i], base[(i + 1) % n], apex) for i in range(n)]]


def _box(name: str, a: int, b: int, c: int, labels: str) -> Solid:
    bottom = list(LETTERS[:4])
    top = [top_label(v, labels) for v in bottom]
    corners = [(0, 0), (a, 0), (a, b), (0, b)]
    points = {v: _lift(xy) for v, xy in zip(bottom, corners, strict=True)}
    points |= {v: _lift(xy, c) for v, xy in zip(top, corners, strict=True)}
    return _polyhedron(name, points, _prism_faces(bottom, top), f"ABCD-{''.join(top)}")


def _cube(p: dict[str, Any], labels: str) -> Solid:
    return _box("cube", p["a"], p["a"], p["a"], labels)


def _cuboid(p: dict[str, Any], labels: str) -> Solid:
    return _box("cuboid", p["a"], p["b"], p["c"], labels)


def _prism(p: dict[str, Any], labels: str) -> Solid:
    bottom = list(LETTERS[: p["n"]])
    top = [top_label(v, labels) for v in bottom]
    base = regular_polygon(p["n"], sp.Integer(p["a"]))
    points = {v: _lift(xy) for v, xy in zip(bottom, base, strict=True)}
    points |= {v: _lift((x + p["dx"], y + p["dy"]), p["h"]) for v, (x, y) in zip(top, base, strict=True)}
    return _polyhedron("prism", points, _prism_faces(bottom, top), f"{''.join(bottom)}-{''.join(top)}")


def _pyramid(p: dict[str, Any], labels: str) -> Solid:
    base = list(LETTERS[: p["n"]])
    points = {v: _lift(xy) for v, xy in zip(base, regular_polygon(p["n"], sp.Integer(p["a"])), strict=True)}
    points["P"] = _lift((0, 0), p["h"])
    solid = _polyhedron("pyramid", points, _pyramid_faces(base, "P"), f"P-{''.join(base)}")
    solid.points["O"] = _lift((0, 0))
    return solid


def _tetrahedron(p: dict[str, Any], labels: str) -> Solid:
    if p["regular"]:
        a = sp.Integer(p["a"])
        points = {
            "A": _lift((0, 0)),
            "B": _lift((a, 0)),
            "C": _lift((a / 2, a * sp.sqrt(3) / 2)),
            "D": _lift((a / 2, a * sp.sqrt(3) / 6), a * sp.sqrt(6) / 3),
        }
    else:
        points = {
            "A": _lift((0, 0)),
            "B": _lift((p["b"], 0)),
            "C": _lift((p["cx"], p["cy"])),
            "D": _lift((p["dx"], p["dy"]), p["dz"]),
        }
    title = "ABCD" if p["regular"] else "D-ABC"
    return _polyhedron("tetrahedron", points, _pyramid_faces(["A", "B", "C"], "D"), title)


def _frustum(p: dict[str, Any], labels: str) -> Solid:
    bottom = list(LETTERS[: p["n"]])
    top = [top_label(v, labels) for v in bottom]
    points = {v: _lift(xy) for v, xy in zip(bottom, regular_polygon(p["n"], sp.Integer(p["a"])), strict=True)}
    top_xy = regular_polygon(p["n"], sp.Integer(p["b"]))
    points |= {v: _lift(xy, p["h"]) for v, xy in zip(top, top_xy, strict=True)}
    return _polyhedron("frustum", points, _prism_faces(bottom, top), f"{''.join(bottom)}-{''.join(top)}")


def _cylinder(p: dict[str, Any], labels: str) -> Solid:
    r, h = sp.Integer(p["r"]), sp.Integer(p["h"])
    o1, a1, b1 = (top_label(v, labels) for v in "OAB")
    points = {
        "O": _lift((0, 0)),
        o1: _lift((0, 0), h),
        "A": _lift((-r, 0)),
        "B": _lift((r, 0)),
        a1: _lift((-r, 0), h),
        b1: _lift((r, 0), h),
    }
    return Solid("cylinder", points, [], [], [Cylinder("O", o1, r)], [Rim("O", r, UP), Rim(o1, r, UP)])


def _cone(p: dict[str, Any], labels: str) -> Solid:
    r = sp.Integer(p["r"])
    points = {"O": _lift((0, 0)), "P": _lift((0, 0), p["h"]), "A": _lift((-r, 0)), "B": _lift((r, 0))}
    return Solid("cone", points, [], [], [Cone("O", "P", r)], [Rim("O", r, UP)])


def _sphere(p: dict[str, Any], labels: str) -> Solid:
    r = sp.Integer(p["r"])
    return Solid("sphere", {"O": _lift((0, 0), r)}, [], [], [Sphere("O", r)])


def _cone_on_cylinder(p: dict[str, Any], labels: str) -> Solid:
    r, h1 = sp.Integer(p["r"]), sp.Integer(p["h1"])
    o1 = top_label("O", labels)
    points = {"O": _lift((0, 0)), o1: _lift((0, 0), h1), "P": _lift((0, 0), h1 + p["h2"])}
    parts = [Cylinder("O", o1, r), Cone(o1, "P", r)]
    return Solid("cone_on_cylinder", points, [], [], parts, [Rim("O", r, UP), Rim(o1, r, UP)])


def _cut_cube(p: dict[str, Any], labels: str) -> Solid:
    """A cube with the corner ``corner`` (index into ABCD A1B1C1D1) cut off by the plane through
    the points at distance t from it on its three edges; those points are E, F, G in the order of
    the neighbours they lead to."""
    cube = _box("cut_cube", p["a"], p["a"], p["a"], labels)
    corner = list(cube.points)[p["corner"]]
    t = sp.Integer(p["t"]) / p["a"]
    nbrs = [w for w in cube.points if (corner, w) in cube.edges or (w, corner) in cube.edges]
    cut = {w: label for w, label in zip(nbrs, "EFG", strict=True)}
    points = {k: v for k, v in cube.points.items() if k != corner}
    c = cube.points[corner]
    for w, label in cut.items():
        points[label] = tuple(ci + t * (wi - ci) for ci, wi in zip(c, cube.points[w], strict=True))
    faces = []
    for f in cube.faces:
        if corner not in f:
            faces.append(f)
            continue
        i = f.index(corner)
        before, after = f[i - 1], f[(i + 1) % len(f)]
        faces.append((*f[:i], cut[before], cut[after], *f[i + 1 :]))
    # the new triangle faces towards the removed corner; order it counter-clockwise from there
    e, f_, g = (points[cut[w]] for w in nbrs)
    normal = np.cross(as_float(f_) - as_float(e), as_float(g) - as_float(e))
    tri = ("E", "F", "G") if float(normal @ (as_float(c) - as_float(e))) > 0 else ("E", "G", "F")
    faces.append(tri)
    return _polyhedron("cut_cube", points, faces, cube.title)


BUILDERS: dict[str, Callable[[dict[str, Any], str], Solid]] = {
    "cube": _cube,
    "cuboid": _cuboid,
    "prism": _prism,
    "pyramid": _pyramid,
    "tetrahedron": _tetrahedron,
    "frustum": _frustum,
    "cylinder": _cylinder,
    "cone": _cone,
    "sphere": _sphere,
    "cone_on_cylinder": _cone_on_cylinder,
    "cut_cube": _cut_cube,
}
SOLIDS: tuple[str, ...] = tuple(BUILDERS)


def _ints(rng: np.random.Generator, lo: int, hi: int) -> int:
    """A uniform integer in [lo, hi], as a plain int (JSON-able)."""
    return int(rng.integers(lo, hi + 1))


def _draw(name: str, rng: np.random.Generator) -> dict[str, Any]:
    """The integer parameters of a solid, in ranges that give figures of similar size."""
    if name == "cube":
        return {"a": _ints(rng, 2, 6)}
    if name == "cuboid":
        while True:
            a, b, c = (_ints(rng, 2, 6) for _ in range(3))
            if len({a, b, c}) > 1:
                return {"a": a, "b": b, "c": c}
    if name == "prism":
        n = int(rng.choice([3, 5, 6]))
        p = {"n": n, "a": _ints(rng, 2, 4), "h": _ints(rng, 2, 6), "oblique": int(rng.random() < 0.25)}
        dx = dy = 0
        while p["oblique"] and dx == dy == 0:
            dx, dy = _ints(rng, -2, 2), _ints(rng, -1, 2)
        return p | {"dx": dx, "dy": dy}
    if name == "pyramid":
        return {"n": int(rng.choice([3, 4, 5, 6])), "a": _ints(rng, 2, 6), "h": _ints(rng, 2, 6)}
    if name == "tetrahedron":
        if rng.random() < 0.5:
            return {"regular": 1, "a": _ints(rng, 2, 6)}
        return {
            "regular": 0,
            "b": _ints(rng, 3, 6),
            "cx": _ints(rng, 0, 4),
            "cy": _ints(rng, 2, 5),
            "dx": _ints(rng, 0, 4),
            "dy": _ints(rng, 0, 3),
            "dz": _ints(rng, 2, 6),
        }
    if name == "frustum":
        a = _ints(rng, 3, 6)
        return {"n": int(rng.choice([3, 4, 6])), "a": a, "b": _ints(rng, 1, a - 1), "h": _ints(rng, 2, 5)}
    if name in ("cylinder", "cone"):
        return {"r": _ints(rng, 1, 4), "h": _ints(rng, 2, 6)}
    if name == "sphere":
        return {"r": _ints(rng, 1, 5)}
    if name == "cone_on_cylinder":
        return {"r": _ints(rng, 1, 4), "h1": _ints(rng, 2, 5), "h2": _ints(rng, 1, 4)}
    if name == "cut_cube":
        a = 2 * _ints(rng, 1, 3)
        return {"a": a, "t": _ints(rng, 1, a - 1), "corner": _ints(rng, 0, 7)}
    raise KeyError(name)


def build(name: str, params: dict[str, Any], labels: str = "1") -> Solid:
    """The solid ``name`` with these parameters; a ``"labels"`` entry in params (written by
    :func:`sample` for non-default labels) wins over the argument so the params alone rebuild it."""
    labels = params.get("labels", labels)
    solid = BUILDERS[name]({k: v for k, v in params.items() if k != "labels"}, labels)
    solid.params = dict(params)
    return solid


def sample(name: str, rng: np.random.Generator, labels: str = "1") -> Solid:
    params = _draw(name, rng)
    if labels != "1":
        params["labels"] = labels
    return build(name, params)
