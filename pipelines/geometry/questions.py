"""Questions about a figure with exact answers and their working, and the independent check of a
construction (it re-derives what the instruction says from the exact model, not by replaying it).

Every answer is sympy arithmetic on the exact coordinates (:mod:`renderers.geometry.measure`); the
working in ``cot`` starts from the coordinates, so it can be followed without the figure.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import sympy as sp

from pipelines.diagram.kind import Question, Text2
from pipelines.geometry import text
from renderers.geometry import measure as ms
from renderers.geometry.camera import Camera
from renderers.geometry.construction import Construction
from renderers.geometry.model import Point3, Polytope, Segment, Solid, as_float
from renderers.geometry.visibility import View
from synth.sampling import NotApplicable


def coords(p: Point3) -> str:
    return "(" + ", ".join(ms.fmt(c) for c in p) + ")"


def _sq(e: sp.Expr) -> str:
    s = ms.fmt(e)
    return f"({s})²" if any(ch in s for ch in "+-−/√") else f"{s}²"


def length_working(solid_points: dict[str, Point3], a: str, b: str) -> tuple[sp.Expr, str]:
    pa, pb = solid_points[a], solid_points[b]
    d = ms.sub(pb, pa)
    value = ms.length(pa, pb)
    total = ms.simplify(ms.dot(d, d))
    work = (
        f"With coordinates {a} = {coords(pa)} and {b} = {coords(pb)}, "
        f"{b} - {a} = {coords(d)}, so |{a}{b}| = √({' + '.join(_sq(c) for c in d)}) = √{ms.fmt(total)} = {ms.fmt(value)}."
    )
    return value, work


def _pick(rng: np.random.Generator, options: list, what: str):
    if not options:
        raise NotApplicable(f"no {what}")
    return options[int(rng.integers(len(options)))]


def _q(en: str, zh: str, answer: str, cot: str) -> Question:
    return Question(Text2(en, zh), answer, cot)


def _preamble(s: dict[str, Any], solid: Solid, made: list[Construction]) -> Text2:
    return text.describe(s, solid, made, labels=None)


def ask(
    rng: np.random.Generator, s: dict[str, Any], solid: Solid, made: list[Construction], camera: Camera
) -> Question:
    """One question drawn among those the figure supports."""
    pre = _preamble(s, solid, made)
    askers = [_volume, _surface]
    if solid.faces and isinstance(solid.parts[0], Polytope):
        askers += [_length, _counts, _dihedral, _point_plane, _line_plane, _hidden]
    if any(c.op == "section" for c in made):
        askers.append(_section_area)
    if any(c.op.endswith("_sphere") for c in made):
        askers.append(_sphere_radius)
    if any("length" in c.facts for c in made):
        askers.append(_made_length)
    for i in rng.permutation(len(askers)):  # the first that applies (a tetrahedron has no diagonal)
        try:
            q = askers[i](rng, s, solid, made, camera)
            break
        except NotApplicable:
            continue
    return Question(Text2(f"{pre.en} {q.text.en}", f"{pre.zh}{q.text.zh}"), q.answer, q.cot)


def _length(rng, s, solid, made, camera) -> Question:
    pairs = [(a, b) for a, b in itertools.combinations(solid.vertices, 2)
             if (a, b) not in solid.edges and (b, a) not in solid.edges]  # fmt: skip
    a, b = _pick(rng, pairs, "diagonal")
    value, work = length_working(solid.points, a, b)
    return _q(f"Find the length of {a}{b}.", f"求{a}{b}的长。", ms.fmt(value), work)


def _made_length(rng, s, solid, made, camera) -> Question:
    c = [c for c in made if "length" in c.facts][-1]
    seg = next(x for x in c.strokes if hasattr(x, "a"))
    ends = [k for k, p in solid.points.items() for q in (seg.a, seg.b) if np.allclose(as_float(p), q)]
    a, b = ends[0], ends[1]
    value, work = length_working(solid.points, a, b)
    return _q(f"Find the length of {a}{b}.", f"求{a}{b}的长。", ms.fmt(value), work)


def _volume(rng, s, solid, made, camera) -> Question:
    v = ms.volume(solid)
    formula = text.volume_formula(s["solid"], s["params"])
    return _q("Find its volume.", "求它的体积。", ms.fmt(v), f"V = {formula} = {ms.fmt(v)}.")


def _surface(rng, s, solid, made, camera) -> Question:
    a = ms.surface_area(solid)
    if solid.faces:
        parts = [
            f"{text.face_label(f)}: {ms.fmt(ms.polygon_area([solid.points[v] for v in f]))}"
            for f in solid.faces
        ]
        work = "Adding the faces' areas (" + "; ".join(parts) + f") gives S = {ms.fmt(a)}."
    else:
        work = f"S = {text.area_formula(s['solid'], s['params'])} = {ms.fmt(a)}."
    return _q("Find its surface area.", "求它的表面积。", ms.fmt(a), work)


def _counts(rng, s, solid, made, camera) -> Question:
    v, e, f = ms.counts(solid)
    return _q(
        "How many vertices, edges and faces does it have, and what is V - E + F?",
        "它有几个顶点、几条棱、几个面？V - E + F等于多少？",
        f"V = {v}, E = {e}, F = {f}; V - E + F = {v - e + f}",
        f"Counting from the figure: {v} vertices ({', '.join(solid.vertices)}), {e} edges, {f} faces; "
        f"{v} - {e} + {f} = {v - e + f}, as Euler's formula says for a convex polyhedron.",
    )


def _face_name(solid: Solid, i: int) -> str:
    return text.face_label(solid.faces[i])


def _dihedral(rng, s, solid, made, camera) -> Question:
    pairs = [(i, j) for i, j in itertools.combinations(range(len(solid.faces)), 2)
             if len(set(solid.faces[i]) & set(solid.faces[j])) == 2]  # fmt: skip
    i, j = _pick(rng, pairs, "pair of faces")
    angle = ms.dihedral(solid, i, j)
    edge = "".join(sorted(set(solid.faces[i]) & set(solid.faces[j]), key=solid.faces[i].index))
    fi, fj = _face_name(solid, i), _face_name(solid, j)
    ni, nj = ms.face_normal(solid, i), ms.face_normal(solid, j)
    work = (
        f"Outward normals: n1 = {coords(ni)} of {fi}, n2 = {coords(nj)} of {fj}. "
        f"The dihedral angle along {edge} is π minus the angle between them: "
        f"cos θ = -(n1·n2)/(|n1||n2|) = {ms.fmt(ms.simplify(-ms.dot(ni, nj) / (ms.root(ms.dot(ni, ni)) * ms.root(ms.dot(nj, nj)))))}, "
        f"θ = {ms.fmt(angle, angle=True)}."
    )
    return _q(
        f"Find the dihedral angle between faces {fi} and {fj} along the edge {edge}.",
        f"求面{fi}与面{fj}所成二面角（棱为{edge}）的大小。",
        ms.fmt(angle, angle=True),
        work,
    )


def _off_plane(solid: Solid) -> list[tuple[str, int]]:
    out = []
    for i, f in enumerate(solid.faces):
        n = ms.face_normal(solid, i)
        for v in solid.vertices:
            if v not in f and ms.dot(n, ms.sub(solid.points[v], solid.points[f[0]])) != 0:
                out.append((v, i))
    return out


def _point_plane(rng, s, solid, made, camera) -> Question:
    options = _off_plane(solid)
    v, i = _pick(rng, options, "point off a face")
    f = solid.faces[i]
    n = ms.face_normal(solid, i)
    d = ms.distance_to_plane(solid.points[v], [solid.points[x] for x in f[:3]])
    work = (
        f"The plane {text.face_label(f)} has normal n = {coords(n)} through {f[0]} = {coords(solid.points[f[0]])}; "
        f"{v} = {coords(solid.points[v])}, so d = |n·({v} - {f[0]})|/|n| = {ms.fmt(d)}."
    )
    return _q(
        f"Find the distance from {v} to the plane {text.face_label(f)}.",
        f"求点{v}到平面{text.face_label(f)}的距离。",
        ms.fmt(d),
        work,
    )


def _line_plane(rng, s, solid, made, camera) -> Question:
    options = []
    for v, i in _off_plane(solid):
        for w in solid.faces[i]:
            options.append((v, w, i))
    v, w, i = _pick(rng, options, "line to a face")
    f = solid.faces[i]
    angle = ms.angle_line_plane(solid.points[v], solid.points[w], [solid.points[x] for x in f[:3]])
    d = ms.distance_to_plane(solid.points[v], [solid.points[x] for x in f[:3]])
    length = ms.length(solid.points[v], solid.points[w])
    work = (
        f"{w} lies in the plane {text.face_label(f)}; the distance from {v} to the plane is {ms.fmt(d)} and "
        f"|{v}{w}| = {ms.fmt(length)}, so sin θ = {ms.fmt(ms.simplify(d / length))} and θ = {ms.fmt(angle, angle=True)}."
    )
    return _q(
        f"Find the angle between the line {v}{w} and the plane {text.face_label(f)}.",
        f"求直线{v}{w}与平面{text.face_label(f)}所成角的大小。",
        ms.fmt(angle, angle=True),
        work,
    )


def _hidden(rng, s, solid, made, camera) -> Question:
    view = View(solid, camera)
    hidden = []
    for a, b in solid.edges:
        if any(not p.visible for p in view.pieces(Segment("e", tuple(solid.xyz(a)), tuple(solid.xyz(b))))):
            hidden.append(f"{a}{b}")
    answer = ", ".join(hidden) if hidden else "none"
    return _q(
        "Which edges are hidden in this view (drawn dashed)?",
        "在这个视图中哪些棱被遮挡（画成虚线）？",
        answer,
        "An edge is hidden where the solid lies between it and the viewer; here "
        + (f"{answer} lie behind the faces turned towards the viewer." if hidden else "every edge is seen."),
    )


def _section_area(rng, s, solid, made, camera) -> Question:
    c = [c for c in made if c.op == "section"][-1]
    poly = c.facts["polygon"]
    area = c.facts["area"]
    work = (
        "The section polygon is "
        + "".join(poly)
        + ", with "
        + ", ".join(f"{v} = {coords(solid.points[v])}" for v in poly)
        + f"; half the length of the sum of cross products of consecutive vertices gives its area {ms.fmt(area)}."
    )
    return _q(
        f"Find the area of the section {''.join(poly)}.",
        f"求截面{''.join(poly)}的面积。",
        ms.fmt(area),
        work,
    )


def _sphere_radius(rng, s, solid, made, camera) -> Question:
    c = [c for c in made if c.op.endswith("_sphere")][-1]
    which = ("inscribed", "内切") if c.op == "inscribed_sphere" else ("circumscribed", "外接")
    r = c.facts["radius"]
    centre = c.facts["centre"]
    work = f"The centre {centre} = {coords(solid.points[centre])}; "
    if c.op == "inscribed_sphere":
        work += (
            f"its distance to every face is r = 3V/S = {ms.fmt(r)}." if solid.faces else f"r = {ms.fmt(r)}."
        )
    else:
        v = solid.vertices[0] if solid.vertices else next(k for k in solid.points if k != centre)
        work += f"its distance to {v} = {coords(solid.points[v])} is R = {ms.fmt(ms.length(solid.points[centre], solid.points[v]))}."
    return _q(
        f"Find the radius of the {which[0]} sphere.",
        f"求{which[1]}球的半径。",
        ms.fmt(r),
        work,
    )


# ---------------------------------------------------------------------------------------------
# checking a construction against its instruction


def _zero(e: sp.Expr) -> bool:
    """Exactly zero: sympy's simplification where it proves it, else the value to 30 digits
    (nested radicals of a pentagon that sympy does not cancel)."""
    e = ms.simplify(e)
    return e == 0 or abs(float(sp.N(e, 30))) < 1e-20


def _on_plane(p: Point3, plane: list[Point3]) -> bool:
    n = ms.cross(ms.sub(plane[1], plane[0]), ms.sub(plane[2], plane[0]))
    return _zero(ms.dot(n, ms.sub(p, plane[0])))


def check_construction(solid: Solid, c: Construction, edit: dict[str, Any]) -> str | None:
    """What the instruction promises, re-derived from the exact model; a description of what
    fails, or None."""
    p, pts = edit["params"], {**solid.points, **c.points}
    op = edit["op"]
    if c.op != op:
        return f"the construction made is a {c.op}, the instruction says {op}"
    if op in ("space_diagonal", "face_diagonal"):
        a, b = p["a"], p["b"]
        share = any(a in f and b in f for f in solid.faces)
        if (a, b) in solid.edges or (b, a) in solid.edges or share != (op == "face_diagonal"):
            return f"{a}{b} is not a {op.replace('_', ' ')}"
    elif op == "midpoint":
        x, y = p["edge"]
        want = tuple((u + v) / 2 for u, v in zip(pts[x], pts[y], strict=True))
        if not all(_zero(u - v) for u, v in zip(pts[p["name"]], want, strict=True)):
            return f"{p['name']} is not the midpoint of {x}{y}"
    elif op == "section":
        plane = [pts[v] for v in p["through"]]
        poly = c.facts["polygon"]
        if len(poly) < 3:
            return "the section has fewer than three vertices"
        off = [v for v in poly if not _on_plane(pts[v], plane)]
        if off:
            return f"section vertices {off} are off the cutting plane"
        for v in c.points:  # each new vertex lies on an edge of the solid
            if not any(_between(pts[v], pts[a], pts[b]) for a, b in solid.edges):
                return f"section vertex {v} lies on no edge"
    elif op == "perpendicular":
        foot = c.facts["foot"]
        plane = [pts[v] for v in (solid.faces[p["face"]] if "face" in p else p["plane"])]
        if not _on_plane(pts[foot], plane):
            return f"the foot {foot} is off the plane"
        d = ms.sub(pts[foot], pts[p["point"]])
        for a, b in itertools.pairwise(plane[:3]):
            if not _zero(ms.dot(d, ms.sub(b, a))):
                return f"{p['point']}{foot} is not perpendicular to the plane"
    elif op in ("inscribed_sphere", "circumscribed_sphere"):
        centre, r = pts[c.facts["centre"]], c.facts["radius"]
        if op == "circumscribed_sphere":
            far = [v for v in solid.vertices if not _zero(ms.length(centre, solid.points[v]) - r)]
            if far:
                return f"vertices {far} are not on the circumscribed sphere"
        else:
            for f in solid.faces:
                d = ms.distance_to_plane(centre, [solid.points[v] for v in f[:3]])
                if not _zero(d - r):
                    return f"the inscribed sphere does not touch face {text.face_label(f)}"
    elif op == "net":
        total = sum((ms.polygon_area(list(q)) for _, q in c.facts["faces"]), sp.Integer(0))
        if not _zero(total - ms.surface_area(solid)):
            return "the net's faces do not add up to the surface area"
        if not all(_zero(q[2]) for _, face in c.facts["faces"] for q in face):
            return "the net does not lie flat"
    elif op == "rotate":
        moved, names = c.solid, list(solid.points)
        for a, b in itertools.combinations(names[:6], 2):
            before = ms.length(solid.points[a], solid.points[b])
            if not _zero(before - ms.length(moved.points[a], moved.points[b])):
                return f"the turn changed the distance {a}{b}"
        if p["angle"] % 360 and all(_zero(ms.length(solid.points[k], moved.points[k])) for k in names):
            return "the turn moved nothing"
    return None


def _between(x: Point3, a: Point3, b: Point3) -> bool:
    """x on the segment ab, exactly."""
    ab, ax = ms.sub(b, a), ms.sub(x, a)
    if not all(_zero(c) for c in ms.cross(ab, ax)):
        return False
    t = ms.simplify(ms.dot(ax, ab) / ms.dot(ab, ab))
    return bool(0 <= t <= 1)
