"""Constructions on a solid (the edits of a figure): diagonals, midpoints, sections, perpendiculars,
inscribed and circumscribed spheres, nets and rotations, each exact.

Every construction is a pure function of the solid and a few labels or numbers (its ``params``),
returning the new labelled points (exact), the 3D strokes that draw it (float) and the exact facts
a question asks about. :func:`propose` draws params among those where the construction applies;
:func:`apply` replays them. :func:`extended` adds a construction's points to the solid, so the next
construction can go through them (a section through three midpoints made before). The spheres
and the net are built in :mod:`~renderers.geometry.spheres` and :mod:`~renderers.geometry.nets`;
what a construction returns is :class:`~renderers.geometry.construction.Construction`.

Geometric decisions (is a point on the plane, which side, are two points the same) are taken on
float values with a tolerance: coordinates come from small integers and surds, so distinct values
differ by far more than it. The coordinates themselves stay exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

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
from renderers.geometry.model import Mark, Patch, Point3, Polytope, Segment, Solid, Stroke, as_float
from renderers.geometry.nets import net, net_tree
from renderers.geometry.rotations import rotate, rotation_axes
from renderers.geometry.spheres import circumscribed_sphere, inscribed_sphere
from synth.sampling import NotApplicable

OPS: tuple[str, ...] = (
    "space_diagonal",
    "face_diagonal",
    "midpoint",
    "section",
    "perpendicular",
    "inscribed_sphere",
    "circumscribed_sphere",
    "net",
    "rotate",
)


def extended(solid: Solid, c: Construction) -> Solid:
    """The solid a following construction sees: the rotated solid, or this one with the new points."""
    if c.solid is not None:
        return c.solid
    return replace(solid, points={**solid.points, **c.points})


# ---------------------------------------------------------------------------------------------
# helpers


def _is_edge(solid: Solid, a: str, b: str) -> bool:
    return (a, b) in solid.edges or (b, a) in solid.edges


def _need_polytope(solid: Solid) -> None:
    if len(solid.parts) != 1 or not isinstance(solid.parts[0], Polytope):
        raise NotApplicable(f"{solid.name} is not a polyhedron")


def _plane_of(solid: Solid, face: int | None, plane: Sequence[str] | None) -> tuple[list[str], ms.Vec]:
    """The labels of a face or of three points, and the plane's normal (outward for a face)."""
    if (face is None) == (plane is None):
        raise ValueError("give exactly one of face and plane")
    if face is not None:
        return list(solid.faces[face]), ms.face_normal(solid, face)
    labels = list(plane)
    n = ms.normal([solid.points[v] for v in labels])
    if np.allclose(floats(n), 0, atol=EPS):
        raise NotApplicable(f"{''.join(labels)} are collinear")
    return labels, n


# ---------------------------------------------------------------------------------------------
# diagonals and midpoints


def _shares_face(solid: Solid, a: str, b: str) -> bool:
    return any(a in f and b in f for f in solid.faces)


def diagonal(solid: Solid, a: str, b: str) -> Construction:
    """The segment between two vertices that no edge joins: a face diagonal when they share a
    face, else a space diagonal."""
    _need_polytope(solid)
    if a == b or a not in solid.vertices or b not in solid.vertices or _is_edge(solid, a, b):
        raise NotApplicable(f"{a}{b} is not a diagonal")
    pa, pb = solid.points[a], solid.points[b]
    return Construction(
        "face_diagonal" if _shares_face(solid, a, b) else "space_diagonal",
        {"a": a, "b": b},
        strokes=[Segment(f"con:diag:{a}-{b}", floats(pa), floats(pb), role="construction")],
        facts={"length": ms.length(pa, pb)},
    )


def _diagonal_pairs(solid: Solid, face: bool) -> list[tuple[str, str]]:
    if not solid.faces:
        return []
    return [
        (a, b)
        for a, b in itertools.combinations(solid.vertices, 2)
        if not _is_edge(solid, a, b) and _shares_face(solid, a, b) == face
    ]


def midpoint_join(solid: Solid, edge: tuple[str, str], to: str, name: str = "M") -> Construction:
    """The midpoint ``name`` of edge XY, joined to the point ``to``."""
    x, y = edge
    if not _is_edge(solid, x, y):
        raise NotApplicable(f"{x}{y} is not an edge")
    if name in solid.points:
        raise NotApplicable(f"{name} is already a point")
    px, py, pz = solid.points[x], solid.points[y], solid.points[to]
    if np.allclose(floats(ms.cross(ms.sub(py, px), ms.sub(pz, px))), 0, atol=EPS):
        raise NotApplicable(f"{to} lies on line {x}{y}")
    m = simplified([(u + v) / 2 for u, v in zip(px, py, strict=True)])
    return Construction(
        "midpoint",
        {"edge": [x, y], "to": to, "name": name},
        points={name: m},
        strokes=[
            Segment(f"con:join:{to}-{name}", floats(pz), floats(m), role="construction"),
            Mark(f"mark:{name}", floats(m), name),
        ],
        facts={"length": ms.length(pz, m)},
    )


# ---------------------------------------------------------------------------------------------
# sections


def _signs(solid: Solid, labels: Sequence[str], n: ms.Vec, p: Point3) -> dict[str, int]:
    nf, pf = np.array(floats(n)), as_float(p)
    scale = np.linalg.norm(nf)
    out = {}
    for v in labels:
        d = float(nf @ (as_float(solid.points[v]) - pf)) / scale
        out[v] = 0 if abs(d) < EPS else (1 if d > 0 else -1)
    return out


def section(solid: Solid, through: Sequence[str]) -> Construction:
    """The polygon where the plane through three labelled points cuts the (convex) solid: the
    vertices on the plane and the points where it crosses edges, ordered around the polygon
    counter-clockwise about the plane's normal. Crossings get fresh labels in that order, or the
    label of a point already there (a midpoint made before)."""
    _need_polytope(solid)
    p, q, r = (solid.points[v] for v in through)
    n = ms.normal([p, q, r])
    if np.allclose(floats(n), 0, atol=EPS):
        raise NotApplicable(f"{''.join(through)} are collinear")
    sign = _signs(solid, solid.vertices, n, p)
    if all(s >= 0 for s in sign.values()) or all(s <= 0 for s in sign.values()):
        raise NotApplicable("the plane only touches the solid")
    corners: list[tuple[str | None, Point3]] = [(v, solid.points[v]) for v, s in sign.items() if s == 0]
    for u, v in solid.edges:
        if sign[u] * sign[v] < 0:
            pu, pv = solid.points[u], solid.points[v]
            su, sv = ms.dot(n, ms.sub(pu, p)), ms.dot(n, ms.sub(pv, p))
            t = su / (su - sv)
            x = simplified([a + t * (b - a) for a, b in zip(pu, pv, strict=True)])
            corners.append((label_at(solid, x), x))
    # order around the centroid, in the plane's own basis
    nf = np.array(floats(n))
    nf /= np.linalg.norm(nf)
    pts = np.array([floats(x) for _, x in corners])
    e1 = pts[0] - pts.mean(axis=0)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(nf, e1)
    rel = pts - pts.mean(axis=0)
    corners = [corners[i] for i in np.argsort(np.arctan2(rel @ e2, rel @ e1), kind="stable")]
    start = next((i for v in through for i, (label, _) in enumerate(corners) if label == v), 0)
    corners = corners[start:] + corners[:start]  # from the first point named, as a textbook reads it
    labels: list[str] = []
    new: dict[str, Point3] = {}
    for label, x in corners:
        if label is None:
            label = fresh_label(solid, taken=labels)
            new[label] = x
        labels.append(label)
    where = {**solid.points, **new}
    strokes: list[Stroke | SphereOutline] = [
        Patch(f"con:section:{'-'.join(through)}", tuple(floats(where[v]) for v in labels))
    ]
    for a, b in zip(labels, labels[1:] + labels[:1], strict=True):
        if not _is_edge(solid, a, b):  # a side along an edge is drawn already
            strokes.append(
                Segment(f"con:sec:{a}-{b}", floats(where[a]), floats(where[b]), role="construction")
            )
    strokes += [Mark(f"mark:{v}", floats(x), v) for v, x in new.items()]
    return Construction(
        "section",
        {"through": list(through)},
        points=new,
        strokes=strokes,
        facts={"polygon": labels, "area": ms.polygon_area([where[v] for v in labels])},
    )


# ---------------------------------------------------------------------------------------------
# perpendiculars


def _foot(x: Point3, n: ms.Vec, p: Point3) -> Point3:
    k = ms.dot(n, ms.sub(x, p)) / ms.dot(n, n)
    return simplified([a - k * b for a, b in zip(x, n, strict=True)])


def _position(h: np.ndarray, polygon: list[np.ndarray], normal: np.ndarray) -> str:
    """Where a point of the polygon's plane lies: "inside", on its "boundary" or "outside" (the
    polygon runs counter-clockwise about ``normal``, so inside is left of every side)."""
    unit = normal / np.linalg.norm(normal)
    left = [
        float(np.cross(b - a, h - a) @ unit) / np.linalg.norm(b - a)
        for a, b in zip(polygon, polygon[1:] + polygon[:1], strict=True)
    ]
    return "outside" if min(left) < -EPS else ("boundary" if min(left) < EPS else "inside")


def perpendicular(
    solid: Solid, point: str, face: int | None = None, plane: Sequence[str] | None = None
) -> Construction:
    """The perpendicular from a labelled point to the plane of a face (``face``, an index) or of
    three labelled points (``plane``), and its foot H: a fresh label (H first), or the label already
    at the foot (the base centre O under a pyramid's apex). ``facts["foot_position"]`` says whether
    the foot falls inside the face or triangle, on its boundary or outside."""
    labels, n = _plane_of(solid, face, plane)
    x, p0 = solid.points[point], solid.points[labels[0]]
    if _signs(solid, [point], n, p0)[point] == 0:
        raise NotApplicable(f"{point} lies on the plane")
    h = _foot(x, n, p0)
    name = label_at(solid, h)
    if name is not None and _is_edge(solid, point, name):
        raise NotApplicable(f"the perpendicular is the edge {point}{name}")
    new = {} if name is not None else {(name := fresh_label(solid, "H")): h}
    position = _position(as_float(h), [solid.xyz(v) for v in labels], np.array(floats(n)))
    strokes: list[Stroke | SphereOutline] = [
        Segment(f"con:perp:{point}-{name}", floats(x), floats(h), role="construction")
    ]
    strokes += [Mark(f"mark:{v}", floats(q), v) for v, q in new.items()]
    params: dict[str, Any] = {"point": point} | ({"face": face} if face is not None else {"plane": labels})
    return Construction(
        "perpendicular",
        params,
        points=new,
        strokes=strokes,
        facts={
            "foot": name,
            "foot_position": position,
            "distance": ms.distance_to_plane(x, [solid.points[v] for v in labels[:3]]),
        },
    )


# ---------------------------------------------------------------------------------------------
# proposing and replaying


def _choice(rng: np.random.Generator, options: Sequence[Any], what: str) -> Any:
    if not options:
        raise NotApplicable(f"no {what}")
    return options[int(rng.integers(len(options)))]


def _section_triples(solid: Solid) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Triples of labelled points whose plane cuts the solid: those through a point that is not a
    vertex (a midpoint made before, a centre), and the rest."""
    _need_polytope(solid)
    verts = solid.vertices
    labels = list(solid.points)
    xyz = {v: solid.xyz(v) for v in labels}
    vs = np.array([solid.xyz(v) for v in verts])
    good = []
    for t in itertools.combinations(labels, 3):
        a, b, c = (xyz[v] for v in t)
        n = np.cross(b - a, c - a)
        if np.linalg.norm(n) < EPS:
            continue
        d = (vs - a) @ n / np.linalg.norm(n)
        if d.max() > EPS and d.min() < -EPS:
            good.append(t)
    made = [t for t in good if any(v not in verts for v in t)]
    return made, [t for t in good if t not in made]


def _perpendicular_options(solid: Solid) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(to a face, to a plane through three vertices) choices whose foot is not the far end of an
    edge from the point."""
    _need_polytope(solid)
    to_face, to_plane = [], []
    planes = [(i, list(f[:3])) for i, f in enumerate(solid.faces)]
    face_sets = [set(f) for f in solid.faces]
    planes += [
        (None, list(t))
        for t in itertools.combinations(solid.vertices, 3)
        if not any(set(t) <= f for f in face_sets)
    ]
    names = list(solid.points)
    xyz = np.array([solid.xyz(v) for v in names])
    at = dict(zip(names, xyz, strict=True))
    edges = {frozenset(e) for e in solid.edges}
    for i, labels in planes:
        a, b, c = (at[v] for v in labels)
        n = np.cross(b - a, c - a)
        if np.linalg.norm(n) < EPS:
            continue
        d = (xyz - a) @ (n / np.linalg.norm(n))
        on_plane = {v for v, dv in zip(names, d, strict=True) if abs(dv) < EPS}
        if i is None and any(on_plane >= f for f in face_sets):
            continue  # the plane of a face after all
        feet = xyz - np.outer(d, n / np.linalg.norm(n))
        same = np.linalg.norm(feet[:, None, :] - xyz[None, :, :], axis=2) < EPS
        for k, x in enumerate(names):
            if x in on_plane or any(frozenset((x, names[j])) in edges for j in np.flatnonzero(same[k])):
                continue
            (to_face if i is not None else to_plane).append(
                {"point": x, "face": i} if i is not None else {"point": x, "plane": labels}
            )
    return to_face, to_plane


def propose(op: str, rng: np.random.Generator, solid: Solid) -> dict[str, Any]:
    """Params for ``op`` drawn among those where it applies to this solid (NotApplicable if none)."""
    if op in ("space_diagonal", "face_diagonal"):
        a, b = _choice(rng, _diagonal_pairs(solid, op == "face_diagonal"), op.replace("_", " "))
        return {"a": a, "b": b}
    if op == "midpoint":
        at = {v: solid.xyz(v) for v in solid.points}  # float() of a long surd is slow: once each
        options = [
            ((x, y), z)
            for x, y in solid.edges
            for z in solid.points
            if z not in (x, y) and np.linalg.norm(np.cross(at[y] - at[x], at[z] - at[x])) > EPS
        ]
        edge, to = _choice(rng, options, "edge to join")
        return {"edge": list(edge), "to": to, "name": fresh_label(solid, "MN")}
    if op == "section":
        made, plain = _section_triples(solid)  # through a point made before: the next step, mostly
        pool = made if made and (not plain or rng.random() < 0.7) else plain
        return {"through": list(_choice(rng, pool, "cutting plane"))}
    if op == "perpendicular":
        to_face, to_plane = _perpendicular_options(solid)
        pool = [o for o in (to_face, to_plane) if o]
        return _choice(rng, _choice(rng, pool, "perpendicular"), "perpendicular")
    if op in ("inscribed_sphere", "circumscribed_sphere"):
        apply(op, solid, {})
        return {}
    if op == "net":
        net_tree(solid)
        return {}
    if op == "rotate":
        axis = _choice(rng, rotation_axes(solid), "rotation axis")
        return {"axis": axis, "angle": int(rng.choice([90, 180, 270]))}
    raise KeyError(op)


def apply(op: str, solid: Solid, params: dict[str, Any]) -> Construction:
    """Replay a construction from its params."""
    if op in ("space_diagonal", "face_diagonal"):
        c = diagonal(solid, params["a"], params["b"])
        if c.op != op:
            raise NotApplicable(f"{params['a']}{params['b']} is a {c.op.replace('_', ' ')}")
        return c
    if op == "midpoint":
        return midpoint_join(solid, tuple(params["edge"]), params["to"], params["name"])
    if op == "section":
        return section(solid, params["through"])
    if op == "perpendicular":
        return perpendicular(solid, params["point"], params.get("face"), params.get("plane"))
    if op == "inscribed_sphere":
        return inscribed_sphere(solid)
    if op == "circumscribed_sphere":
        return circumscribed_sphere(solid)
    if op == "net":
        return net(solid)
    if op == "rotate":
        return rotate(solid, params["axis"], params["angle"])
    raise KeyError(op)
