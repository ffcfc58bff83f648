"""A solid as a kind of figure for the diagram stages: sampled, drawn with exact visibility, edited
by constructions, checked against its 3D model, asked about with exact answers.

A structure is JSON: the solid (name and integer parameters, so :func:`renderers.geometry.solids.build`
rebuilds it exactly), the camera, the decorations, and the constructions already made (``steps``).
An edit appends one construction; both figures of a pair share one fitted camera, so what the
construction does not touch is drawn to the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from pipelines.diagram.kind import Kind, Question, Text2
from pipelines.geometry import questions, text
from pipelines.geometry.config import GeometryConfig
from renderers.geometry import construct, solids
from renderers.geometry.camera import Camera
from renderers.geometry.construct import extended
from renderers.geometry.construction import Construction, SphereOutline
from renderers.geometry.model import Circle, Cone, Cylinder, Mark, Segment, Solid, Sphere, Stroke, as_float
from renderers.geometry.raycast import check_pieces
from renderers.geometry.scene import anchor_problem, fit_points, labelled_points, scene, solid_strokes
from renderers.geometry.visibility import View
from renderers.svg.physics import Figure
from renderers.svg.physics_labels import place_labels
from renderers.svg.safe import SvgRenderer
from synth.sampling import NotApplicable, choice

CANVAS = (640, 560)
MARGIN = 48.0  # pixels kept free around the figure for labels
EDGE_ON = 0.05  # |cos| between a face's normal and the view below this: the face is edge-on
ENDPOINT_TOLERANCE = 1.0  # pixels between a construction's drawn end and its projected point
PROPOSALS = 8  # draws of a construction's params before the figure is drawn again
LAST_ONLY = ("net", "rotate")  # they redraw the whole figure: only ever the last step

_POLY = ("space_diagonal", "face_diagonal", "midpoint", "section", "perpendicular")
#: The constructions each solid can take (for most of its sampled shapes: a proposal that finds
#: nothing for one shape, a triangular prism's space diagonal, draws another shape).
APPLICABLE: dict[str, tuple[str, ...]] = {
    "cube": (*_POLY, "inscribed_sphere", "circumscribed_sphere", "net", "rotate"),
    "cuboid": (*_POLY, "circumscribed_sphere", "net", "rotate"),
    "prism": (*_POLY, "circumscribed_sphere", "net", "rotate"),
    "pyramid": (
        "face_diagonal",
        "midpoint",
        "section",
        "perpendicular",
        "circumscribed_sphere",
        "net",
        "rotate",
    ),
    "tetrahedron": (
        "midpoint",
        "section",
        "perpendicular",
        "inscribed_sphere",
        "circumscribed_sphere",
        "rotate",
    ),
    "frustum": (*_POLY, "rotate"),
    "cylinder": ("circumscribed_sphere",),
    "cone": ("inscribed_sphere", "circumscribed_sphere"),
    "sphere": (),
    "cone_on_cylinder": (),
    "cut_cube": (*_POLY, "rotate"),
}


@lru_cache(maxsize=512)
def _realize(key: str) -> tuple[Solid, tuple[Construction, ...]]:
    s = json.loads(key)
    solid, made = solids.build(s["solid"], s["params"]), []
    for step in s["steps"]:
        c = construct.apply(step["op"], solid, step["params"])
        made.append(c)
        solid = extended(solid, c)
    return solid, tuple(made)


def realize(s: dict[str, Any]) -> tuple[Solid, list[Construction]]:
    """The solid after the structure's constructions, and the constructions in order (cached:
    sympy makes them, and a row asks for them several times)."""
    key = json.dumps({k: s[k] for k in ("solid", "params", "steps")}, sort_keys=True)
    solid, made = _realize(key)
    return solid, list(made)


def sphere_strokes(outline: SphereOutline, camera: Camera) -> list[Circle]:
    """A construction's sphere for this camera: its outline and its equator, as the solid
    sphere's would be (:meth:`View.silhouettes` on a solid holding only that sphere)."""
    centre = tuple(sp.Float(c) for c in outline.centre)
    ball = Solid("sphere", {"@": centre}, [], [], [Sphere("@", sp.Float(outline.radius))])
    out = []
    for c in View(ball, camera).silhouettes():
        part = "outline" if c.id.startswith("sil:") else "equator"
        out.append(replace(c, id=f"{outline.id}:{part}", role="construction"))
    return out


def aux_strokes(solid: Solid) -> list[Stroke]:
    """What a textbook adds to a curved solid: its axis (inside, so dashed) with the centres and
    apex labelled, a sphere's centre."""
    out: list[Stroke] = []
    for part in solid.parts:
        if isinstance(part, Cylinder):
            a, b = part.bottom, part.top
        elif isinstance(part, Cone):
            a, b = part.bottom, part.apex
        elif isinstance(part, Sphere):
            out.append(Mark(f"aux:{part.centre}", tuple(solid.xyz(part.centre).tolist()), part.centre))
            continue
        else:
            continue
        out.append(Segment(f"aux:{a}-{b}", tuple(solid.xyz(a).tolist()), tuple(solid.xyz(b).tolist())))
    return out


def strokes_of(solid: Solid, made: list[Construction], camera: Camera) -> tuple[Solid, list[Stroke]]:
    """The solid to see the figure against and everything drawn: the solid's own strokes and the
    constructions'. A net is drawn alone (the solid unfolded: nothing hides it)."""
    if made and made[-1].op == "net":
        flat = Solid(solid.name, {}, [], [], [])
        return flat, [s for s in made[-1].strokes if not isinstance(s, SphereOutline)]
    out: list[Stroke] = [*solid_strokes(solid, camera), *aux_strokes(solid)]
    for c in made:
        for s in c.strokes:
            out += sphere_strokes(s, camera) if isinstance(s, SphereOutline) else [s]
    return solid, out


def model_of(solid: Solid) -> dict[str, Any]:
    """The exact 3D model as the row's spec keeps it (for readers: replaying uses only the solid's
    name, parameters and steps): every labelled point's exact coordinates, edges and faces."""
    return {
        "points": {k: [str(c) for c in p] for k, p in solid.points.items()},
        "edges": [list(e) for e in solid.edges],
        "faces": [list(f) for f in solid.faces],
        "title": solid.title,
    }


def named(params: dict[str, Any]) -> set[str]:
    """The points a construction's params name (the new point's own label aside)."""
    out: set[str] = set()
    for key in ("a", "b", "to", "point"):
        if key in params:
            out.add(params[key])
    for key in ("edge", "through", "plane"):
        out |= set(params.get(key, ()))
    return out


def edge_on(solid: Solid, camera: Camera) -> None:
    """A face seen edge-on collapses to a line and leaves its edges' visibility undecided (and a
    textbook would not draw it so): such a view is drawn again (NotApplicable)."""
    for face in solid.faces:
        P = np.array([solid.xyz(v) for v in face])
        n = np.cross(P[1] - P[0], P[2] - P[0])
        toward = camera.towards_viewer(P.mean(axis=0)[None])[0]
        if abs(float(n @ toward)) < EDGE_ON * float(np.linalg.norm(n)):
            raise NotApplicable(f"face {''.join(face)} is seen edge-on")


def _nearest(points: dict[str, Any], q) -> np.ndarray:
    """The exact point (as floats) a stroke's end stands for."""
    return min((as_float(p) for p in points.values()), key=lambda p: float(np.linalg.norm(p - np.array(q))))


class GeoFigure(Figure):
    """A scene with what drew it, for the checks against the model."""

    def __init__(
        self,
        scene: dict[str, Any],
        solid: Solid,
        camera: Camera,
        strokes: list[Stroke],
        made: list[Construction],
    ):
        super().__init__(scene)
        self.solid, self.camera, self.strokes, self.made = solid, camera, strokes, made


class SolidKind(Kind):
    """One solid (``cube``, ``pyramid``, ...) of ``synth geometry``; its edits are the
    constructions it takes that the config allows."""

    def __init__(self, name: str, cfg: GeometryConfig):
        self.name = name
        self.cfg = cfg
        self.edits = tuple(op for op in APPLICABLE[name] if op in cfg.constructions)

    # -- drawing -----------------------------------------------------------------------------

    def sample_for(self, rng: np.random.Generator, op: str | None) -> dict[str, Any]:
        """A net or a rotation is drawn on a figure without earlier constructions."""
        return self.sample(rng, steps=0 if op in LAST_ONLY else self.cfg.steps)

    def sample(self, rng: np.random.Generator, steps: int | None = None) -> dict[str, Any]:
        cfg = self.cfg
        steps = cfg.steps if steps is None else steps
        solid = solids.sample(self.name, rng, cfg.labels)
        projection = choice(rng, cfg.projection)
        if projection == "oblique":
            camera = {"projection": "oblique"}
        else:
            centre = np.mean([solid.xyz(k) for k in solid.points], axis=0)
            round_ = max((float(p.radius) for p in solid.parts if hasattr(p, "radius")), default=0.0)
            radius = float(max(np.linalg.norm(solid.xyz(k) - centre) for k in solid.points)) + round_
            cam = Camera.sample_perspective(rng, centre, max(radius, 1.0))
            camera = {"projection": "perspective", **cam.to_dict()}
        style = {k: bool(rng.random() < getattr(cfg.style, k)) for k in ("shade", "axes", "grid")}
        s = {"kind": self.name, "solid": self.name, "params": solid.params, "camera": camera,
             "style": style, "steps": []}  # fmt: skip
        for _ in range(int(rng.integers(0, steps + 1))):  # constructions made before
            ops = [o for o in self.edits if o not in LAST_ONLY]
            if not ops:
                break
            op = ops[int(rng.integers(len(ops)))]
            try:
                s = self.apply(s, self.propose(rng, op, s))
            except NotApplicable:
                continue
        return {**s, "model": model_of(realize(s)[0])}

    def camera(self, s: dict[str, Any]) -> Camera:
        c = s["camera"]
        if c["projection"] == "oblique":
            return Camera.oblique()
        return Camera.from_dict({k: v for k, v in c.items() if k != "projection"})

    def draw(self, structures):
        base = self.camera(structures[0])
        real = [realize(s) for s in structures]
        # the fit scales and shifts the picture only: the 3D strokes (silhouettes too) stay
        seen = [strokes_of(solid, made, base) for solid, made in real]
        styles = [self._style(s, made) for s, (_, made) in zip(structures, real, strict=True)]
        points = np.concatenate(
            [
                fit_points(sol, base, st, axes=y["axes"], grid=y["grid"])
                for (sol, st), y in zip(seen, styles, strict=True)
            ]
        )
        cam = base.fitted(points, CANVAS, MARGIN)
        for solid, _ in real:
            edge_on(solid, cam)
        scenes = [
            scene(
                sol,
                cam,
                st,
                CANVAS,
                **styles[i],
                also=[x for j, (_, other) in enumerate(seen) if j != i for x in other],
            )  # fmt: skip
            for i, (sol, st) in enumerate(seen)
        ]
        if real[-1][1] and real[-1][1][-1].op in LAST_ONLY:  # everything moves: labels placed apart
            scenes = [place_labels([sc], SvgRenderer())[0] for sc in scenes]
        else:
            scenes = place_labels(scenes, SvgRenderer())
        return [
            GeoFigure(sc, sol, cam, st, made)
            for sc, (sol, st), (_, made) in zip(scenes, seen, real, strict=True)
        ]

    @staticmethod
    def _style(s: dict[str, Any], made: list[Construction]) -> dict[str, bool]:
        """The decorations; a net is drawn bare (no faces to shade, no axes of the solid)."""
        if made and made[-1].op == "net":
            return {"shade": False, "axes": False, "grid": False}
        return dict(s["style"])

    def verify(self, structures, drawings) -> str | None:
        """Every drawn piece's style against ray casting (independent of the drawing's visibility),
        every label by its own point, every construction's drawn ends on its projected points."""
        for d in drawings:
            problem = self._pieces(d) or anchor_problem(d.scene, d.camera, d.solid) or self._ends(d)
            if problem:
                return problem
        return None

    @staticmethod
    def _pieces(d: GeoFigure) -> str | None:
        if d.solid.parts:
            return check_pieces(d.solid, d.camera, d.strokes, d.scene)
        # a net: nothing hides anything
        dashed = [e["id"] for e in d.scene["elements"] if any(p.get("dashed") for p in e.get("pieces", ()))]
        return f"{dashed[0]} drawn dashed in a flat net" if dashed else None

    def _ends(self, d: GeoFigure) -> str | None:
        """A construction's segments end where the camera puts its exact points."""
        exact = {**d.solid.points, **{k: v for c in d.made for k, v in c.points.items()}}
        by_id = {e["id"]: e for e in d.scene["elements"]}
        for c in d.made:
            for s in c.strokes:
                if (
                    not isinstance(s, Segment)
                    or s.role != "construction"
                    or not by_id.get(s.id, {}).get("pieces")
                ):
                    continue
                pieces = by_id[s.id]["pieces"]
                drawn = np.array([pieces[0]["points"][0], pieces[-1]["points"][-1]], dtype=float)
                ends = [_nearest(exact, q) for q in (s.a, s.b)]
                want = d.camera.project(np.array(ends))
                gap = float(np.abs(drawn - want).max())
                if gap > ENDPOINT_TOLERANCE:
                    return f"{s.id} drawn {gap:.1f} px from its projected ends"
        return None

    def describe(self, s: dict[str, Any]) -> Text2:
        solid, made = realize(s)
        _, strokes = strokes_of(solid, made, self.camera(s))
        return text.describe(s, solid, made, labels=sorted(labelled_points(solid, strokes)))

    # -- edits -------------------------------------------------------------------------------

    def propose(self, rng, op, s):
        """The construction's params, and what its instruction names: the solid, the labels the
        construction gives new points."""
        if any(step["op"] in LAST_ONLY for step in s["steps"]):
            raise NotApplicable("the figure was already unfolded or turned")
        if op in LAST_ONLY and s["steps"]:
            raise NotApplicable(f"{op} is drawn on a figure without constructions")
        if op.endswith("_sphere") and any(step["op"] == op for step in s["steps"]):
            raise NotApplicable(f"the {op.replace('_', ' ')} is drawn already")
        solid, made = realize(s)
        _, strokes = strokes_of(solid, made, self.camera(s))
        shown = set(labelled_points(solid, strokes))
        for _ in range(PROPOSALS):  # an instruction names only points the figure labels
            params = construct.propose(op, rng, solid)
            if named(params) <= shown:
                break
        else:
            raise NotApplicable(f"no {op} through points the figure labels")
        if any(step == {"op": op, "params": params} for step in s["steps"]):
            raise NotApplicable("that construction is drawn already")
        c = construct.apply(op, solid, params)
        edit = {"op": op, "params": params, "solid": s["solid"], "shape": s["params"]}
        if op == "section":
            edit["new_points"] = list(c.points)
        elif op == "perpendicular":
            face = solid.faces[params["face"]] if "face" in params else params["plane"]
            edit |= {"foot": c.facts["foot"], "plane_name": text.face_label(face)}
        elif op.endswith("_sphere"):
            edit["centre"] = c.facts["centre"]
        return edit

    def apply(self, s, edit):
        t = {**s, "steps": [*s["steps"], {"op": edit["op"], "params": edit["params"]}]}
        solid, _ = realize(t)  # raises NotApplicable where the construction cannot be made
        return {**t, "model": model_of(solid)}

    def check(self, source, target, edit):
        solid, made = realize(source)
        return questions.check_construction(solid, realize(target)[1][-1], edit)

    def scope(self, source, target, edit):
        """The new construction's elements and labels, and the labels of points its segments end
        at (a vertex labelled only once a segment reaches it)."""
        if edit["op"] in LAST_ONLY:
            return None
        solid, made = realize(target)
        new = made[-1]
        ids = set()
        for s in new.strokes:
            if isinstance(s, SphereOutline):
                ids |= {f"{s.id}:outline", f"{s.id}:equator"}
                continue
            ids.add(s.id)
            if isinstance(s, Mark):
                ids.add(f"label:{s.text}")
            if isinstance(s, Segment):
                ids |= {f"label:{k}" for k in solid.points for q in (s.a, s.b)
                        if np.linalg.norm(solid.xyz(k) - np.array(q)) < 1e-9}  # fmt: skip
        return ids | {f"label:{k}" for k in new.points}

    def instruct(self, edit) -> Text2:
        return text.instruct(edit)

    def ask(self, rng, s) -> Question:
        solid, made = realize(s)
        return questions.ask(rng, s, solid, made, self.camera(s))
