"""The net of a polyhedron: its faces unfolded into the plane z = 0, exactly.

Unfolding is its own idea (a tree of faces hinged on shared edges, each laid flat by its distance
along and off the hinge), drawn without the solid, so it lives apart from the constructions that
add to the figure.
"""

from __future__ import annotations

import sympy as sp

from renderers.geometry import measure as ms
from renderers.geometry.construction import Construction, SphereOutline, floats, simplified
from renderers.geometry.model import Mark, Point3, Segment, Solid, Stroke
from renderers.geometry.solids import build
from synth.sampling import NotApplicable


def net_tree(solid: Solid) -> list[tuple[int, int | None]]:
    """(face, parent face) in placing order: a prism's sides as a strip about the front face with
    the bottom and top hinged on the front face (the 1-4-1 net of a cube); a pyramid's base with
    every lateral face hinged on its base edge. NotApplicable for a solid with no net here, which is
    how a proposal learns that the net applies."""
    name, n = solid.name, len(solid.faces)
    if name in ("cube", "cuboid") or (name == "prism" and not solid.params.get("oblique")):
        sides = list(range(2, n))
        left = (len(sides) - 1) // 2
        tree: list[tuple[int, int | None]] = [(sides[0], None), (0, sides[0]), (1, sides[0])]
        tree += [(sides[i], sides[i - 1]) for i in range(1, len(sides) - left)]
        tree += [(sides[-i], sides[(1 - i) % len(sides)]) for i in range(1, left + 1)]
        return tree
    if name in ("pyramid", "tetrahedron"):
        return [(0, None)] + [(i, 0) for i in range(1, n)]
    raise NotApplicable(f"no net for {name}{' (oblique)' if solid.params.get('oblique') else ''}")


def _unfold(solid: Solid, face: int, hinge: tuple[str, str], at: tuple[Point3, Point3]) -> dict[str, Point3]:
    """The face laid in z = 0 with its directed side ``hinge`` (its own counter-clockwise order) at
    the points ``at``; the face lies to the left of it, so it reads counter-clockwise from +z."""
    p, q = (solid.points[v] for v in hinge)
    pq = ms.sub(q, p)
    size2 = ms.dot(pq, pq)
    size = ms.root(size2)
    (px, py, _), (qx, qy, _) = at
    dx, dy = qx - px, qy - py
    out = {}
    for w in solid.faces[face]:
        pw = ms.sub(solid.points[w], p)
        alpha = ms.dot(pw, pq) / size2
        off = tuple(a - alpha * b for a, b in zip(pw, pq, strict=True))
        beta = ms.root(ms.dot(off, off)) / size
        out[w] = simplified((px + alpha * dx - beta * dy, py + alpha * dy + beta * dx, 0))
    return out


def _directed(face: tuple[str, ...], a: str, b: str) -> tuple[str, str]:
    """Side {a, b} of a face in the face's own order."""
    for u, v in zip(face, face[1:] + face[:1], strict=True):
        if {u, v} == {a, b}:
            return u, v
    raise ValueError(f"{a}{b} is not a side of {face}")


def net(solid: Solid) -> Construction:
    """The net laid flat in z = 0 (shifted so that its lowest x and y are 0), faces seen from
    outside; each copy of a vertex carries its label. Drawn on its own, without the solid. It is
    unfolded from the solid as built: a turned solid has the same net, and shorter coordinates."""
    solid = build(solid.name, solid.params)
    placed: dict[int, dict[str, Point3]] = {}
    for face, parent in net_tree(solid):
        f = solid.faces[face]
        if parent is None:
            u, v = f[0], f[1]
            at = (
                (sp.Integer(0),) * 3,
                (ms.length(solid.points[u], solid.points[v]), sp.Integer(0), sp.Integer(0)),
            )
        else:
            shared = [x for x in f if x in solid.faces[parent]]
            u, v = _directed(f, *shared)
            at = (placed[parent][u], placed[parent][v])
        placed[face] = _unfold(solid, face, (u, v), at)
    corners = [p for face in placed.values() for p in face.values()]
    lo = [min((p[i] for p in corners), key=float) for i in (0, 1)]
    faces = [
        (
            solid.faces[i],
            tuple(
                simplified((p[0] - lo[0], p[1] - lo[1], 0)) for p in (placed[i][v] for v in solid.faces[i])
            ),
        )
        for i in sorted(placed)
    ]
    strokes: list[Stroke | SphereOutline] = []
    sides: set[frozenset[tuple[float, ...]]] = set()
    marks: set[tuple[str, tuple[float, ...]]] = set()
    for labels, pts in faces:
        fpts = [tuple(round(x, 9) for x in floats(p)) for p in pts]
        for a, b in zip(fpts, fpts[1:] + fpts[:1], strict=True):
            if frozenset((a, b)) not in sides:
                sides.add(frozenset((a, b)))
                strokes.append(Segment(f"net:e{len(sides) - 1}", a, b))
        for label, at in zip(labels, fpts, strict=True):
            if (label, at) not in marks:
                marks.add((label, at))
                strokes.append(Mark(f"net:label{len(marks) - 1}", at, label, dot=False))
    return Construction("net", {}, strokes=strokes, facts={"faces": faces})
