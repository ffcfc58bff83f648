"""One kind of part (a parametric plate, bracket, ...; or a part read from a file) as a diagram
kind: the shared diagram stages draw it, mask its edits and read its titles back.

A row's structure says what is drawn: ``{"part": spec, "angle", "layout", "view", "iso", "omit",
"style"}``. Everything about the part itself (views, facts, mesh) comes from the kernel once per
spec and worker (:func:`part_views`). Edits are view completion (the same part, one view more:
the mask is that view) and feature edits (another spec, the same cameras and layout: the mask is
the strokes that changed).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np

from pipelines.cad import edits, questions, text
from pipelines.cad.config import CadConfig
from pipelines.cad.verify import measure
from pipelines.cad.visibility import ask_visible
from pipelines.diagram.kind import Kind, Question, Text2
from renderers.cad import build, sample_spec
from renderers.cad.drawing import (
    ORTHO,
    Place,
    element_box,
    shade_element,
    sheet_extent,
    sheet_layout,
    signature,
    single_layout,
    svg,
    union_bounds,
    view_elements,
)
from renderers.cad.part import PartViews, views_of_shape
from renderers.cad.shade import shade_view
from renderers.cad.views import frame
from synth.sampling import NotApplicable, choice

COMPLETION = ("complete_view", "complete_iso")
VISIBILITY_SHARE = 0.25  # und rows that ask whether a feature is seen in a view
SHEET_ASPECT = 4 / 3
REFERENCE_SIDE = 1024  # line widths and title sizes are set for this longer side


FILES_KEPT = 8  # file parts a worker keeps read (a row's pair and its neighbours)
_files: dict[str, PartViews] = {}


@lru_cache(maxsize=32)
def _views(spec_json: str) -> PartViews:
    spec = json.loads(spec_json)
    return views_of_shape(build(spec), spec)


def add_file(digest: str, part: PartViews) -> None:
    """Keep a part read from a file (in a child process) for the rows drawing it."""
    _files[digest] = part
    while len(_files) > FILES_KEPT:
        del _files[next(iter(_files))]


def part_views(spec: dict) -> PartViews:
    """The part's views, facts and mesh: a file part as read, a parametric one built by the
    kernel (cached per worker by spec)."""
    if "file" in spec:
        return _files[spec["digest"]]
    return _views(json.dumps(spec, sort_keys=True))


class CadFigure:
    """A drawing for the diagram stages: SVG, its elements by id, its program; also where each
    view sits (for the verifier) and the verifier's measures."""

    def __init__(
        self, part: PartViews, elements: list[dict], places: dict[str, Place], size: tuple[int, int]
    ):
        self.part = part
        self.places = places
        self.size = size
        self._elements = elements
        self.measures: dict[str, float] = {}

    @property
    def record(self) -> dict[str, Any]:
        """The exact cameras, for the row's spec: per view the direction toward the viewer and the
        image axes (model coordinates), the pixels per mm and the pixel of the view-plane origin
        (x right, y down); a model point p is drawn at (ox + p·x * scale, oy - p·y * scale)."""
        cams = {}
        for view, place in self.places.items():
            toward, x, y = frame(view)
            cams[view] = {
                "projection": "orthographic",
                "toward": toward.round(12).tolist(),
                "x": x.round(12).tolist(),
                "y": y.round(12).tolist(),
                "scale": round(place.scale, 9),
                "origin_px": [round(place.ox, 6), round(place.oy, 6)],
            }
        return {"cameras": cams, "canvas": list(self.size)}

    def elements(self) -> dict[str, tuple]:
        return {e["id"]: signature(e) for e in self._elements}

    def boxes_of(self, ids: set[str]) -> list[list[float]]:
        """Pixel boxes of the named elements, from their geometry (no rasterising per element)."""
        return [element_box(e) for e in self._elements if e["id"] in ids]

    def svg(self, timeout: float = 20.0) -> str:
        return svg(self._elements, self.size)

    def program(self) -> tuple[str, str]:
        return "svg", self.svg()


def canvas(cfg: CadConfig, extent: tuple[float, float]) -> tuple[int, int]:
    """A canvas of the content's own aspect, between 3:4 and 4:3, its longer side max_side."""
    side = cfg.render.max_side
    w, h = extent
    a = w / max(h, 1e-9)
    if a >= 1:
        return side, round(side / min(a, SHEET_ASPECT))
    return round(side * max(a, 1 / SHEET_ASPECT)), side


class PartKind(Kind):
    def __init__(self, name: str, cfg: CadConfig):
        self.name = name
        self.cfg = cfg
        self.edits = tuple(cfg.edits)

    # -- structures -----------------------------------------------------------------------------

    def _spec(self, rng: np.random.Generator) -> dict[str, Any]:
        return sample_spec(rng, self.name)

    def _structure(self, rng: np.random.Generator, layout: str, iso: bool, style: str) -> dict[str, Any]:
        spec = self._spec(rng)
        view = str(rng.choice(["front", "top", "right", "iso"])) if layout == "single" else None
        return {
            "part": spec,
            "angle": choice(rng, self.cfg.angle),
            "layout": layout,
            "view": view,
            "iso": iso and layout == "sheet",
            "omit": None,
            "style": style,
        }

    def _style(self, rng: np.random.Generator) -> str:
        return "shaded" if rng.random() < self.cfg.style.shaded else "line"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        layout = choice(rng, self.cfg.layout)
        iso = bool(rng.random() < self.cfg.style.iso)
        return self._structure(rng, layout, iso, self._style(rng))

    def sample_for(self, rng: np.random.Generator, op: str | None) -> dict[str, Any]:
        if op is None:
            return self.sample(rng)
        if op == "complete_view":  # three views, one missing; no iso to copy it from
            s = self._structure(rng, "sheet", False, self._style(rng))
            return {**s, "omit": ORTHO[int(rng.integers(3))]}
        if op == "complete_iso":
            return {**self._structure(rng, "sheet", True, self._style(rng)), "omit": "iso"}
        # feature edits: line drawings (a shade changes everywhere the part's outline moves)
        return self._structure(rng, choice(rng, self.cfg.layout), True, "line")

    # -- drawing --------------------------------------------------------------------------------

    def draw(self, structures: list[dict[str, Any]]) -> list[CadFigure]:
        parts = [part_views(s["part"]) for s in structures]
        first = structures[0]
        k = self.cfg.render.max_side / REFERENCE_SIDE
        if first["layout"] == "sheet":
            size = canvas(self.cfg, sheet_extent(parts, first["iso"]))
            places = sheet_layout(parts, first["angle"], size, with_iso=first["iso"])
        else:
            view = first["view"]
            x0, y0, x1, y1 = union_bounds(parts, view, visible_only=view == "iso")
            size = canvas(self.cfg, (x1 - x0, y1 - y0))
            places = single_layout(parts, view, size, title=False)
        figures = []
        for s, part in zip(structures, parts, strict=True):
            shown = [v for v in places if v != s["omit"]]
            elements = []
            for v in shown:
                elements += view_elements(part, v, places[v], k, title=s["layout"] == "sheet")
                if s["style"] == "shaded":
                    png, box = shade_view(part, v, places[v], size)
                    elements.append(shade_element(v, png, box))
            figures.append(CadFigure(part, elements, {v: places[v] for v in shown}, size))
        if len(figures) == 2 and figures[0].elements() == figures[1].elements():
            # a thicker plate seen from above: another part or view is drawn instead
            raise NotApplicable(f"the edit does not show in the {first['view'] or 'sheet'} drawn")
        return figures

    def verify(self, structures, drawings: list[CadFigure]) -> str | None:
        """Every drawn view of every drawing re-derived from the mesh (silhouette, extent) and the
        kernel's volume against the mesh's; the worst measures go on the last drawing (the row's
        scores), the decision cuts them."""
        worst: dict[str, float] = {}
        for s, d in zip(structures, drawings, strict=True):
            got, problem = measure(s["part"], d.part, d.places, d.size)
            if problem:
                return problem
            for key, value in got.items():
                pick = min if key == "silhouette_iou" else max  # the worst of each
                worst[key] = pick(worst.get(key, value), value)
        drawings[-1].measures = worst
        return None

    # -- texts, edits, questions ----------------------------------------------------------------

    def describe(self, s: dict[str, Any]) -> Text2:
        return text.describe(s, part_views(s["part"]).facts)

    def propose(self, rng: np.random.Generator, op: str, s: dict[str, Any]) -> dict[str, Any]:
        variant = int(rng.integers(1 << 16))  # which phrasing the instruction takes
        if op == "complete_view":
            return {"op": op, "view": s["omit"], "angle": s["angle"], "variant": variant}
        if op == "complete_iso":
            return {"op": op, "angle": s["angle"], "variant": variant}
        return {**edits.propose(rng, op, s["part"]), "part_kind": self.name}

    def apply(self, s: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any]:
        if edit["op"] in COMPLETION:
            return {**s, "omit": None}
        return {**s, "part": edits.apply(s["part"], edit)}

    def check(self, source: dict[str, Any], target: dict[str, Any], edit: dict[str, Any]) -> str | None:
        if edit["op"] in COMPLETION:
            if source["omit"] is None or target["omit"] is not None or source["part"] != target["part"]:
                return "a completion pair must be one part, the source with one view left out"
            return None
        return edits.check(part_views(source["part"]).facts, part_views(target["part"]).facts, edit)

    def scope(self, source, target, edit) -> set[str] | None:
        """A completion changes only the missing view's elements."""
        if edit["op"] not in COMPLETION:
            return None
        view = source["omit"]
        bare = self.draw([{**target, "style": "line"}])[0]  # the ids, without shading again
        return {i for i in bare.elements() if i.startswith(f"{view}/")} | {f"{view}/shade"}

    def instruct(self, edit: dict[str, Any]) -> Text2:
        return text.instruct(edit)

    def ask(self, rng: np.random.Generator, s: dict[str, Any]) -> Question:
        """A question answered from the facts, or (a quarter of the time, where the part has an
        optional feature) whether a feature is visible in a view, answered by the kernel."""
        if rng.random() < VISIBILITY_SHARE:
            try:
                return ask_visible(rng, s, part_views)
            except NotApplicable:
                pass
        return questions.ask(rng, s, part_views(s["part"]).facts)


class FileKind(PartKind):
    """A part read from a file: the same drawings and questions; no feature edits (a file has no
    parametric spec to change), so its edits are the view completions."""

    def __init__(self, cfg: CadConfig, part: dict[str, Any]):
        super().__init__(part["origin"], cfg)
        self.part = part
        self.edits = tuple(op for op in cfg.edits if op in COMPLETION)

    def _spec(self, rng: np.random.Generator) -> dict[str, Any]:
        return self.part


def kinds(cfg: CadConfig) -> dict[str, PartKind]:
    return {name: PartKind(name, cfg) for name in cfg.parts}


__all__ = ["CadFigure", "FileKind", "NotApplicable", "PartKind", "add_file", "canvas", "kinds", "part_views"]
