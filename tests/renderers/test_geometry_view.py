"""Solid-geometry drawing: the camera, exact visibility against an independent ray caster, and the
scene (determinism, labels by their points)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp

from renderers.geometry.camera import C45, OBLIQUE_VIEW, Camera
from renderers.geometry.intervals import ray_interval, shapes
from renderers.geometry.model import Circle, Cone, Cylinder, Mark, Polytope, Rim, Segment, Solid, Sphere
from renderers.geometry.raycast import check_pieces, hidden_by_raycast, mesh
from renderers.geometry.scene import anchor_problem, fit_points, scene, solid_strokes
from renderers.geometry.visibility import View, hidden, pieces, silhouettes
from renderers.svg.physics import element_svg, scene_svg
from renderers.svg.physics_labels import place_labels
from renderers.svg.safe import SvgRenderer

CANVAS = (480, 400)
Z = sp.Integer(0)
UP = (Z, Z, sp.Integer(1))


def cube(a: int = 2) -> Solid:
    """ABCD-A1B1C1D1: A front left, B front right, C back right, D back left, on z = 0."""
    s = sp.Integer(a)
    base = {"A": (Z, Z, Z), "B": (s, Z, Z), "C": (s, s, Z), "D": (Z, s, Z)}
    points = {**base, **{k + "1": (x, y, s) for k, (x, y, _) in base.items()}}
    faces = [
        ("A", "D", "C", "B"),
        ("A1", "B1", "C1", "D1"),
        ("A", "B", "B1", "A1"),
        ("B", "C", "C1", "B1"),
        ("C", "D", "D1", "C1"),
        ("D", "A", "A1", "D1"),
    ]
    ring = ["A", "B", "C", "D"]
    edges = [(ring[i], ring[(i + 1) % 4]) for i in range(4)]
    edges += [(a + "1", b + "1") for a, b in edges] + [(v, v + "1") for v in ring]
    return Solid("cube", points, edges, faces, [Polytope(tuple(range(6)))], title="ABCD-A1B1C1D1")


def pyramid() -> Solid:
    two = sp.Integer(2)
    points = {"A": (Z, Z, Z), "B": (two, Z, Z), "C": (two, two, Z), "D": (Z, two, Z), "P": (1, 1, two)}
    faces = [("A", "D", "C", "B"), ("A", "B", "P"), ("B", "C", "P"), ("C", "D", "P"), ("D", "A", "P")]
    edges = [("A", "B"), ("B", "C"), ("C", "D"), ("D", "A"), ("P", "A"), ("P", "B"), ("P", "C"), ("P", "D")]
    return Solid("pyramid", points, edges, faces, [Polytope(tuple(range(5)))])


def cylinder(r: int = 1, h: int = 3) -> Solid:
    return Solid(
        "cylinder",
        {"O": (Z, Z, Z), "O1": (Z, Z, sp.Integer(h))},
        [],
        [],
        [Cylinder("O", "O1", sp.Integer(r))],
        [Rim("O", sp.Integer(r), UP), Rim("O1", sp.Integer(r), UP)],
    )


def cone() -> Solid:
    return Solid(
        "cone",
        {"O": (Z, Z, Z), "P": (Z, Z, sp.Integer(2))},
        [],
        [],
        [Cone("O", "P", sp.Integer(1))],
        [Rim("O", 1, UP)],
    )


def sphere() -> Solid:
    return Solid("sphere", {"O": (Z, Z, Z)}, [], [], [Sphere("O", sp.Integer(1))])


def seg(solid: Solid, a: str, b: str, role: str = "construction") -> Segment:
    return Segment(f"con:{a}-{b}", tuple(solid.xyz(a).tolist()), tuple(solid.xyz(b).tolist()), role=role)


def fit(solid: Solid, camera: Camera, strokes) -> Camera:
    return camera.fitted(fit_points(solid, camera, strokes, axes=False, grid=False), CANVAS, 44)


# -- camera ---------------------------------------------------------------------------------------


def test_oblique_projection_is_the_cabinet_closed_form():
    P = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    raw = Camera.oblique().project(P)
    up = P[:, 2] + P[:, 1] / 2 * C45
    assert np.allclose(raw, np.stack([P[:, 0] + P[:, 1] / 2 * C45, -up], axis=1), atol=1e-12)
    cam = Camera.oblique().fitted(P, CANVAS, 30)
    assert np.allclose(cam.project(P), cam.scale * raw + np.array(cam.offset), atol=1e-9)
    # the view direction is what the projection collapses, towards the viewer (y < 0)
    assert np.allclose(Camera.oblique().project(P + 5 * OBLIQUE_VIEW), raw, atol=1e-12)
    assert OBLIQUE_VIEW[1] < 0 < OBLIQUE_VIEW[0] and OBLIQUE_VIEW[2] > 0


def test_fitted_keeps_points_inside_the_margin_and_round_trips_json():
    rng = np.random.default_rng(0)
    P = rng.uniform(-2, 3, size=(200, 3))
    for cam in [Camera.oblique(), Camera.sample_perspective(rng, (0.5, 0.5, 0.5), 4.0)]:
        fitted = cam.fitted(P, CANVAS, 40)
        xy = fitted.project(P)
        assert xy.min() >= 40 - 1e-9 and (xy <= np.array(CANVAS) - 40 + 1e-9).all()
        touches = np.isclose(xy.min(axis=0), 40) | np.isclose(xy.max(axis=0), np.array(CANVAS) - 40)
        assert touches.any()
        again = Camera.from_dict(json.loads(json.dumps(fitted.to_dict())))
        assert again == fitted and np.array_equal(again.project(P), xy)


# -- visibility -----------------------------------------------------------------------------------


def test_oblique_cube_hides_exactly_the_edges_at_d():
    s = cube()
    view = View(s, Camera.oblique())
    hidden_edges = set()
    for a, b in s.edges:
        runs = view.pieces(seg(s, a, b, "edge"))
        assert len(runs) == 1 and (runs[0].t0, runs[0].t1) == (0.0, 1.0)
        if not runs[0].visible:
            hidden_edges.add(frozenset((a, b)))
    assert hidden_edges == {frozenset(e) for e in [("A", "D"), ("C", "D"), ("D", "D1")]}


def test_ray_interval_and_hidden_points_of_a_cube():
    s = cube()
    (box,) = shapes(s)
    t0, t1 = ray_interval(box, np.array([[1.0, -1.0, 1.0], [1.0, -1.0, 5.0]]), np.array([[0, 1.0, 0]] * 2))
    assert np.allclose([t0[0], t1[0]], [1, 3]) and t0[1] >= t1[1]
    cam = Camera.oblique()
    front, back, inside = [1.0, 0.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 1.0]
    assert hidden(s, cam, np.array([front, back, inside])).tolist() == [False, True, True]
    assert not pieces(s, cam, seg(s, "A", "C1"))[0].visible  # the space diagonal runs inside


def test_a_segment_passing_behind_the_cube_splits_at_the_outline():
    s = cube()
    a, b = np.array([4.0, 2.5, 1.0]), np.array([0.0, 3.0, 1.0])  # right of the cube, then behind it
    runs = pieces(s, Camera.oblique(), Segment("con:s", tuple(a), tuple(b)))
    # the projection crosses the outline edge C-C1 where screen x = 2 + 2 (C45 / 2)
    x = lambda t: a[0] + t * (b[0] - a[0]) + (a[1] + t * (b[1] - a[1])) * C45 / 2  # noqa: E731
    t_star = (x(0) - (2 + C45)) / (x(0) - x(1))
    assert [r.visible for r in runs] == [True, False]
    assert abs(runs[0].t1 - t_star) < 1e-9 and runs[1].t1 == 1.0


def test_cylinder_rims_split_at_the_tangency_angles():
    s = cylinder()
    bottom, top = (Circle("rim:O", (0, 0, 0), (0, 0, 1), 1.0), Circle("rim:O1", (0, 0, 3), (0, 0, 1), 1.0))
    # oblique: the side's normal (cos, sin, 0) is perpendicular to the view direction
    tangent = math.atan2(OBLIQUE_VIEW[0], -OBLIQUE_VIEW[1])
    runs = pieces(s, Camera.oblique(), bottom)
    hid = [r for r in runs if not r.visible]
    assert len(runs) == 2 and len(hid) == 1
    assert abs(hid[0].t0 - tangent) < 1e-12 and abs(hid[0].t1 - (tangent + math.pi)) < 1e-12
    # perspective from above: (eye - O) . (cos, sin, 0) = r
    cam = Camera.perspective(35, 30, 12, 40, (0, 0, 1.5))
    q = cam.eye
    phi, delta = math.atan2(q[1], q[0]), math.acos(1 / math.hypot(q[0], q[1]))
    expected = sorted(x % (2 * math.pi) for x in (phi - delta, phi + delta))
    runs = pieces(s, cam, bottom)
    cuts = sorted(r.t0 % (2 * math.pi) for r in runs)
    assert len(runs) == 2 and np.allclose(cuts, expected, atol=1e-12)
    mid = bottom.at(np.array([(r.t0 + r.t1) / 2 for r in runs]))
    assert [r.visible for r in runs] == [bool(m[:2] @ q[:2] > 0) for m in mid]  # the near half is seen
    assert [(r.t0, r.t1, r.visible) for r in pieces(s, cam, top)] == [(0.0, 2 * math.pi, True)]
    # the outline generators run through the tangency points
    gens = [g for g in silhouettes(s, cam) if isinstance(g, Segment)]
    assert [g.id for g in gens] == ["sil:O-O1:0", "sil:O-O1:1"]
    assert np.allclose(sorted(math.atan2(g.a[1], g.a[0]) % (2 * math.pi) for g in gens), expected, atol=1e-12)


def test_sphere_outline_is_seen_and_the_equator_back_half_hidden():
    s = sphere()
    cam = Camera.oblique()
    outline, equator = silhouettes(s, cam)
    assert [r.visible for r in pieces(s, cam, outline)] == [True]
    runs = pieces(s, cam, equator)
    w = OBLIQUE_VIEW
    cuts = sorted(r.t0 for r in runs)
    expected = sorted(x % (2 * math.pi) for x in (math.atan2(w[0], -w[1]), math.atan2(w[0], -w[1]) + math.pi))
    assert len(runs) == 2 and np.allclose(cuts, expected, atol=1e-12)
    for r in runs:  # the half towards the viewer (y < 0) is seen
        assert r.visible == (equator.at((r.t0 + r.t1) / 2) @ w > 0)


def test_cube_pieces_agree_with_ray_casting_under_random_perspective_cameras():
    s = cube()
    rng = np.random.default_rng(7)
    base = [seg(s, a, b, "edge") for a, b in s.edges]
    base += [seg(s, "A", "C1"), seg(s, "B1", "D"), seg(s, "A", "C"), seg(s, "B1", "D1")]
    for _ in range(50):
        extra = [Segment(f"con:r{i}", *map(tuple, rng.uniform(-1.5, 3.5, size=(2, 3)))) for i in range(6)]
        strokes = base + extra
        cam = fit(s, Camera.sample_perspective(rng, (1, 1, 1), math.sqrt(3)), strokes)
        sc = scene(s, cam, strokes, CANVAS)
        assert check_pieces(s, cam, strokes, sc) is None, cam


def test_curved_solids_agree_with_ray_casting():
    rng = np.random.default_rng(11)
    for make in (cylinder, cone, sphere):
        s = make()
        for cam0 in [Camera.oblique()] + [Camera.sample_perspective(rng, (0, 0, 1), 2.0) for _ in range(4)]:
            strokes = solid_strokes(s, cam0)
            strokes += [
                Segment(f"con:r{i}", *map(tuple, rng.uniform(-1.5, 2.5, size=(2, 3)))) for i in range(3)
            ]
            strokes.append(Circle("con:c", (0.3, 0.0, 0.5), (0.0, 0.3, 1.0), 0.9))
            cam = fit(s, cam0, strokes)
            sc = scene(s, cam, strokes, CANVAS)
            assert check_pieces(s, cam, strokes, sc) is None, (s.name, cam)


def test_check_pieces_catches_a_wrong_style():
    s = cube()
    strokes = [seg(s, a, b, "edge") for a, b in s.edges]
    cam = fit(s, Camera.oblique(), strokes)
    sc = scene(s, cam, strokes, CANVAS)
    for e in sc["elements"]:
        if e["id"] == "con:D-A":
            e["pieces"][0]["dashed"] = False
    assert check_pieces(s, cam, strokes, sc).startswith("con:D-A drawn solid at t=")
    tris = mesh(s)
    assert hidden_by_raycast(tris, cam, np.array([[1.0, 2.0, 1.0], [1.0, 0.0, 1.0]])).tolist() == [
        True,
        False,
    ]


# -- scene ----------------------------------------------------------------------------------------


def test_scene_is_deterministic_and_unchanged_elements_keep_their_svg():
    s = pyramid()
    cam0 = Camera.oblique()
    before = solid_strokes(s, cam0)
    after = [*before, seg(s, "P", "A"), Mark("mark:M", (1.0, 0.0, 0.0), "M")]
    pts = np.concatenate([fit_points(s, cam0, x, axes=True, grid=True) for x in (before, after)])
    cam = cam0.fitted(pts, CANVAS, 44)
    one = scene(s, cam, before, CANVAS, shade=True, axes=True, grid=True, also=after)
    two = scene(s, cam, after, CANVAS, shade=True, axes=True, grid=True, also=before)
    assert scene_svg(one) == scene_svg(
        scene(s, cam, before, CANVAS, shade=True, axes=True, grid=True, also=after)
    )
    a, b = ({e["id"]: element_svg(e) for e in x["elements"]} for x in (one, two))
    assert set(b) - set(a) == {"con:P-A", "mark:M", "label:M"}
    assert all(a[k] == b[k] for k in a)
    assert {"grid", "axis:x", "axis:y", "axis:z", "label:x", "face:ABP", "edge:P-D"} <= set(a)
    assert "face:ADCB" not in a  # the base faces away from the viewer
    dashed = {
        e["id"] for e in one["elements"] if e["type"] == "pieces" and any(p["dashed"] for p in e["pieces"])
    }
    assert {"edge:C-D", "edge:D-A", "edge:P-D"} <= dashed and "edge:A-B" not in dashed


def test_labels_stay_by_their_points_after_placement():
    s = cube()
    cam0 = Camera.perspective(-35, 25, 9, 40, (1, 1, 1))
    strokes = [*solid_strokes(s, cam0), seg(s, "A", "C1"), Mark("mark:M", (1.0, 0.0, 1.0), "M")]
    cam = fit(s, cam0, strokes)
    (placed,) = place_labels([scene(s, cam, strokes, CANVAS)], SvgRenderer())
    labels = {e["text"] for e in placed["elements"] if e["type"] == "label"}
    assert labels == set(s.points) | {"M"}
    assert anchor_problem(placed, cam, s) is None
    moved = {
        **placed,
        "elements": [{**e, "x": e["x"] + 60} if e["id"] == "label:A" else e for e in placed["elements"]],
    }
    assert "'A'" in anchor_problem(moved, cam, s)


@pytest.mark.parametrize("make", [cube, cylinder, cone, sphere])
def test_scene_svg_renders(make):
    s = make()
    cam0 = Camera.oblique()
    strokes = solid_strokes(s, cam0)
    cam = fit(s, cam0, strokes)
    svg = scene_svg(scene(s, cam, strokes, CANVAS, shade=True))
    assert 'stroke-dasharray="7 5"' in svg
    assert SvgRenderer().rgb(svg, *CANVAS).min() < 100
