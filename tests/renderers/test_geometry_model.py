"""Solid geometry, exact: the solids are well-formed polyhedra, constructions and measures give the
textbook's closed forms, nets unfold without overlap, rotations are exact."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import sympy as sp

from renderers.geometry import construct as cs
from renderers.geometry import measure as ms
from renderers.geometry.construction import SphereOutline
from renderers.geometry.model import Mark, Patch, Polytope, Segment, as_float
from renderers.geometry.nets import net
from renderers.geometry.rotations import rotate, rotated
from renderers.geometry.solids import SOLIDS, build, sample
from renderers.geometry.spheres import circumscribed_sphere, inscribed_sphere
from synth.sampling import NotApplicable

SEEDS = range(4)


def _centroid(solid) -> np.ndarray:
    return np.mean([solid.xyz(v) for v in solid.vertices], axis=0)


@pytest.mark.parametrize("name", SOLIDS)
def test_solid_is_well_formed_and_rebuilds(name):
    for seed in SEEDS:
        s = sample(name, np.random.default_rng(seed))
        assert build(s.name, s.params) == s
        json.dumps(s.params)
        if not s.faces:
            assert not s.edges and s.parts and not isinstance(s.parts[0], Polytope)
            continue
        centre = _centroid(s)
        for f in s.faces:
            pts = np.array([s.xyz(v) for v in f])
            n = sum(np.cross(pts[i] - pts[0], pts[i + 1] - pts[0]) for i in range(1, len(f) - 1))
            assert n @ (pts.mean(axis=0) - centre) > 1e-9, (name, f)  # counter-clockwise from outside
            assert np.allclose((pts - pts[0]) @ n, 0, atol=1e-9)  # planar
        sides = [(u, v) for f in s.faces for u, v in zip(f, f[1:] + f[:1], strict=True)]
        assert len(set(sides)) == len(sides)  # each directed side once ...
        assert {frozenset(e) for e in sides} == {frozenset(e) for e in s.edges}
        assert all((v, u) in sides for u, v in sides)  # ... and its reverse in the neighbour
        v, e, f = ms.counts(s)
        assert v - e + f == 2


def test_sampling_is_deterministic_and_labels_rebuild():
    for name in SOLIDS:
        assert sample(name, np.random.default_rng(7)) == sample(name, np.random.default_rng(7))
    s = sample("cube", np.random.default_rng(1), labels="prime")
    assert "A'" in s.points and s.title == "ABCD-A'B'C'D'" and build(s.name, s.params) == s


def test_textbook_labels():
    cube = build("cube", {"a": 2})
    assert cube.title == "ABCD-A1B1C1D1"
    assert cube.points["A"] == (0, 0, 0) and cube.points["B"] == (2, 0, 0) and cube.points["C1"] == (2, 2, 2)
    pyr = build("pyramid", {"n": 4, "a": 2, "h": 3})
    assert pyr.title == "P-ABCD" and "O" in pyr.points and "O" not in pyr.vertices
    cut = build("cut_cube", {"a": 2, "t": 1, "corner": 6})  # C1 cut off
    assert "C1" not in cut.points and {"E", "F", "G"} <= set(cut.vertices)
    assert ms.counts(cut) == (10, 15, 7)
    assert ms.volume(cut) == 8 - sp.Rational(1, 6)
    cyl = build("cylinder", {"r": 2, "h": 3})
    assert {"O", "O1", "A", "B", "A1", "B1"} == set(cyl.points) and len(cyl.rims) == 2


def test_diagonals_and_fmt():
    c = cs.diagonal(build("cube", {"a": 1}), "A", "C1")
    assert c.op == "space_diagonal" and c.facts["length"] == sp.sqrt(3) and ms.fmt(c.facts["length"]) == "√3"
    c = cs.diagonal(build("cube", {"a": 2}), "A", "C")
    assert c.op == "face_diagonal" and ms.fmt(c.facts["length"]) == "2√2"
    assert c.strokes == [Segment("con:diag:A-C", (0.0, 0.0, 0.0), (2.0, 2.0, 0.0), role="construction")]
    with pytest.raises(NotApplicable):
        cs.diagonal(build("cube", {"a": 2}), "A", "B")
    with pytest.raises(NotApplicable):
        cs.apply("space_diagonal", build("cube", {"a": 2}), {"a": "A", "b": "C"})


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (4, "4"),
        (sp.Rational(3, 2), "3/2"),
        (3 * sp.sqrt(2), "3√2"),
        (4 * sp.sqrt(3) / 3, "4√3/3"),
        (2 * sp.sqrt(6) + 1, "2√6 + 1"),
        (1 - sp.sqrt(3), "1 - √3"),
        (-(1 + sp.sqrt(2)) / 2, "-(√2 + 1)/2"),
        (36 * sp.pi, "36π"),
        (4 * sp.sqrt(3) * sp.pi / 3, "4√3π/3"),
        (sp.sqrt(2) / (2 + sp.sqrt(2)), "√2 - 1"),
        (sp.sqrt(4 + 2 * sp.sqrt(3)), "√3 + 1"),
        (sp.sqrt(5 + sp.sqrt(7)), "2.765"),
        (sum(sp.sqrt(k) for k in (2, 3, 5, 7, 11, 13)), "14.95"),  # too long for a closed form
    ],
)
def test_fmt(expr, text):
    assert ms.fmt(expr) == text


def test_fmt_angles():
    assert ms.fmt(sp.pi / 4, angle=True) == "45°"
    assert ms.fmt(sp.acos(sp.Rational(1, 3))) == "arccos(1/3) ≈ 70.53°"
    assert ms.fmt(sp.asin(sp.sqrt(3) / 3)) == "arcsin(√3/3) ≈ 35.26°"
    assert ms.fmt(sp.pi - sp.acos(sp.Rational(1, 3)), angle=True) == "arccos(-1/3) ≈ 109.5°"


def test_angles():
    tet = build("tetrahedron", {"regular": 1, "a": 2})
    assert ms.dihedral(tet, 0, 1) == sp.acos(sp.Rational(1, 3))
    cube = build("cube", {"a": 3})
    p = cube.points
    base = [p["A"], p["B"], p["C"]]
    assert ms.angle_line_plane(p["A1"], p["C"], base) == sp.asin(sp.sqrt(3) / 3)
    assert ms.fmt(ms.angle_line_plane(p["A1"], p["B"], base), angle=True) == "45°"  # pi/4: say it is an angle
    assert ms.dihedral(cube, 0, 2) == sp.pi / 2
    with pytest.raises(ValueError):
        ms.dihedral(cube, 0, 1)  # bottom and top share no edge


@pytest.mark.parametrize("a", [1, 2, 3])
def test_regular_tetrahedron(a):
    tet = build("tetrahedron", {"regular": 1, "a": a})
    assert ms.volume(tet) == a**3 * sp.sqrt(2) / 12
    assert ms.surface_area(tet) == sp.sqrt(3) * a**2
    inner, outer = inscribed_sphere(tet), circumscribed_sphere(tet)
    assert inner.facts["radius"] == a * sp.sqrt(6) / 12
    assert outer.facts["radius"] == a * sp.sqrt(6) / 4
    centre = inner.points[inner.facts["centre"]]
    assert np.allclose(
        as_float(centre), as_float(outer.points[outer.facts["centre"]])
    )  # both at the centroid
    assert isinstance(inner.strokes[0], SphereOutline) and inner.strokes[0].radius == pytest.approx(
        a * 6**0.5 / 12
    )


def test_curved_measures_and_spheres():
    cone = build("cone", {"r": 3, "h": 4})
    assert ms.volume(cone) == 12 * sp.pi and ms.surface_area(cone) == 24 * sp.pi  # pi r^2 h / 3, pi r (r + l)
    assert circumscribed_sphere(cone).facts["radius"] == sp.Rational(25, 8)  # (h^2 + r^2) / 2h
    assert inscribed_sphere(cone).facts["radius"] == sp.Rational(3, 2)  # r h / (r + l)
    assert ms.surface_area(build("sphere", {"r": 2})) == 16 * sp.pi
    assert ms.volume(build("sphere", {"r": 3})) == 36 * sp.pi
    both = build("cone_on_cylinder", {"r": 3, "h1": 2, "h2": 4})
    assert ms.volume(both) == 18 * sp.pi + 12 * sp.pi
    assert ms.surface_area(both) == 9 * sp.pi + 12 * sp.pi + 15 * sp.pi  # bottom, side, cone; no join disc
    cyl = build("cylinder", {"r": 2, "h": 4})
    assert inscribed_sphere(cyl).facts["radius"] == 2
    assert circumscribed_sphere(cyl).facts["radius"] == 2 * sp.sqrt(2)
    cube = build("cube", {"a": 2})
    assert inscribed_sphere(cube).facts["radius"] == 1
    assert circumscribed_sphere(cube).points == {"O": (1, 1, 1)}
    for name, params, op in [
        ("cuboid", {"a": 2, "b": 3, "c": 4}, inscribed_sphere),
        ("cylinder", {"r": 2, "h": 3}, inscribed_sphere),
        ("sphere", {"r": 2}, circumscribed_sphere),
        ("prism", {"n": 3, "a": 2, "h": 3, "oblique": 1, "dx": 1, "dy": 0}, circumscribed_sphere),
        ("cut_cube", {"a": 2, "t": 1, "corner": 0}, circumscribed_sphere),
    ]:
        with pytest.raises(NotApplicable):
            op(build(name, params))


def test_cube_sections():
    a = 2
    cube = build("cube", {"a": a})
    tri = cs.section(cube, ("A", "C", "B1"))
    assert sorted(tri.facts["polygon"]) == ["A", "B1", "C"] and not tri.points
    assert tri.facts["area"] == sp.sqrt(3) * a**2 / 2  # equilateral, side a√2
    assert len([s for s in tri.strokes if isinstance(s, Segment)]) == 3 and isinstance(tri.strokes[0], Patch)
    # the plane through the midpoints of BC, CD, BB1 cuts a regular hexagon
    s = cube
    for edge, name in [(("B", "C"), "M"), (("C", "D"), "N"), (("B", "B1"), "Q")]:
        s = cs.extended(s, cs.midpoint_join(s, edge, to="A", name=name))
    hexagon = cs.section(s, ("M", "N", "Q"))
    poly = hexagon.facts["polygon"]
    assert len(poly) == 6 and poly[0] == "M" and {"M", "N", "Q"} <= set(poly)
    assert set(hexagon.points) == set(poly) - {"M", "N", "Q"}
    assert not set(hexagon.points) & set(s.points)
    where = {**s.points, **hexagon.points}
    sides = {ms.length(where[u], where[v]) for u, v in zip(poly, poly[1:] + poly[:1], strict=True)}
    assert sides == {a * sp.sqrt(2) / 2}
    assert {ms.length(where[v], (1, 1, 1)) for v in poly} == {a * sp.sqrt(2) / 2}
    assert hexagon.facts["area"] == 3 * sp.sqrt(3) * a**2 / 4
    with pytest.raises(NotApplicable):
        cs.section(cube, ("A", "B", "C"))  # a face: the plane only touches
    with pytest.raises(NotApplicable):
        cs.section(s, ("B", "M", "C"))  # collinear


def test_perpendiculars():
    cube = build("cube", {"a": 3})
    c = cs.perpendicular(cube, "A1", plane=("A", "B1", "D1"))
    assert c.points == {"H": (1, 1, 2)}  # the centroid of the equilateral triangle
    assert c.facts["distance"] == sp.sqrt(3) and c.facts["foot_position"] == "inside"
    assert ms.distance_to_plane(cube.points["A1"], [cube.points[v] for v in ("A", "B1", "D1")]) == sp.sqrt(3)
    with pytest.raises(NotApplicable):
        cs.perpendicular(cube, "A1", face=0)  # the edge A1A
    pyr = build("pyramid", {"n": 4, "a": 2, "h": 3})
    c = cs.perpendicular(pyr, "P", face=0)
    assert c.facts["foot"] == "O" and not c.points and c.facts["distance"] == 3
    c = cs.perpendicular(pyr, "O", face=1)  # from the centre to the front face: the apothem's foot
    assert c.facts["distance"] == 3 * sp.sqrt(10) / 10 and c.facts["foot_position"] == "inside"


def _overlap(p: np.ndarray, q: np.ndarray) -> bool:
    """Convex polygons overlap in area unless an edge normal separates them (touching is fine)."""
    for poly in (p, q):
        for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
            axis = np.array([a[1] - b[1], b[0] - a[0]])
            pa, qa = p @ axis, q @ axis
            if pa.max() <= qa.min() + 1e-9 or qa.max() <= pa.min() + 1e-9:
                return False
    return True


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("cube", {"a": 2}),
        ("cuboid", {"a": 2, "b": 3, "c": 4}),
        ("prism", {"n": 3, "a": 2, "h": 3, "oblique": 0, "dx": 0, "dy": 0}),
        ("prism", {"n": 6, "a": 2, "h": 1, "oblique": 0, "dx": 0, "dy": 0}),
        ("pyramid", {"n": 4, "a": 2, "h": 3}),
        ("pyramid", {"n": 6, "a": 2, "h": 1}),
        ("tetrahedron", {"regular": 1, "a": 2}),
        ("tetrahedron", {"regular": 0, "b": 3, "cx": 4, "cy": 2, "dx": 0, "dy": 3, "dz": 2}),
    ],
)
def test_net(name, params):
    solid = build(name, params)
    c = net(solid)
    faces = c.facts["faces"]
    assert sorted(f for f, _ in faces) == sorted(solid.faces)
    area = sum(ms.polygon_area(pts) for _, pts in faces)
    assert float(area) == pytest.approx(float(ms.surface_area(solid)))
    flat = [np.array([[float(x) for x in p] for p in pts]) for _, pts in faces]
    assert all(np.all(f[:, 2] == 0) for f in flat) and min(f[:, :2].min() for f in flat) == 0
    for (labels, _), f in zip(faces, flat, strict=True):  # congruent to the face, read counter-clockwise
        real = np.array([solid.xyz(v) for v in labels])
        assert np.allclose(
            np.linalg.norm(np.roll(f, -1, 0) - f, axis=1), np.linalg.norm(np.roll(real, -1, 0) - real, axis=1)
        )
        (ux, uy), (vx, vy) = f[1, :2] - f[0, :2], f[2, :2] - f[0, :2]
        assert ux * vy - uy * vx > 0
    for i, j in itertools.combinations(range(len(flat)), 2):
        assert not _overlap(flat[i][:, :2], flat[j][:, :2]), (name, faces[i][0], faces[j][0])
    labels = {s.text for s in c.strokes if isinstance(s, Mark)}
    assert labels == set(solid.vertices) and all(not s.dot for s in c.strokes if isinstance(s, Mark))


def test_net_not_applicable():
    for name, params in [
        ("cylinder", {"r": 1, "h": 2}),
        ("prism", {"n": 3, "a": 2, "h": 3, "oblique": 1, "dx": 1, "dy": 0}),
    ]:
        with pytest.raises(NotApplicable):
            net(build(name, params))


def test_rotations_are_exact():
    cube = build("cube", {"a": 2})
    s = cube
    for _ in range(4):
        s = rotated(s, "AB", 90)
    assert s.points == cube.points
    once = rotate(cube, "AB", 90)
    assert once.solid.points["D"] == (0, 0, 2) and once.solid.points["A1"] == (0, -2, 0)
    assert once.strokes[0].role == "axis"
    turned = rotated(cube, "axis:z", 90)
    assert {p for p in turned.points.values()} == {p for p in cube.points.values()}
    with pytest.raises(NotApplicable):
        rotated(once.solid, "axis:z", 90)  # off its base: no vertical axis
    tet = build("tetrahedron", {"regular": 1, "a": 2})
    s = rotated(tet, "AD", 180)
    s = rotated(s, "AD", 180)
    assert all(
        sp.simplify(x - y) == 0 for v in tet.points for x, y in zip(s.points[v], tet.points[v], strict=True)
    )
    cone = rotated(build("cone", {"r": 1, "h": 2}), "AB", 90)
    assert cone.points["P"] == (0, -2, 0)


def test_propose_apply_every_op():
    rng = np.random.default_rng(3)
    applicable = set()
    for name in SOLIDS:
        solid = sample(name, rng)
        for op in cs.OPS:
            try:
                params = cs.propose(op, rng, solid)
            except NotApplicable:
                continue
            json.dumps(params)
            c = cs.apply(op, solid, params)
            assert c.op == op and c.params == params
            assert not set(c.points) & set(solid.points)
            ids = [s.id for s in c.strokes]
            assert len(ids) == len(set(ids))
            applicable.add((name, op))
    assert {op for _, op in applicable} == set(cs.OPS)


def test_step_by_step_construction():
    rng = np.random.default_rng(0)
    s = build("cube", {"a": 4})
    for op in ("midpoint", "midpoint", "section"):
        params = cs.propose(op, rng, s)
        c = cs.apply(op, s, params)
        s = cs.extended(s, c)
    assert any(v not in s.vertices for v in params["through"])  # through a midpoint made before
