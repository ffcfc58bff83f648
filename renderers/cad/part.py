"""Everything the pipeline needs of one part, as plain picklable data: its projected views, centre
marks, facts and a triangle mesh.

A part from the kernel (parametric, or a STEP file read in a child process) and a part from a
mesh file both end here, so drawing, shading, questions and verification never touch OpenCascade
objects and a child process can hand a part back to its parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from build123d import Shape

from renderers.cad.brep import facts, hole_axes
from renderers.cad.views import VIEWS, Stroke, centre_marks, project

Mark = tuple[np.ndarray, np.ndarray]
MESH_TOL = 2e-4  # tessellation's linear deflection, as a fraction of the part's size
MESH_ANGLE = 0.1  # and its angular deflection (radians): the volume falls short by about angle^2/24


@dataclass
class PartViews:
    """A part's views (view -> strokes, view-plane mm, y up), centre marks, facts and mesh
    (vertices (V, 3) float64, triangles (T, 3) int64, outward winding)."""

    origin: str  # "parametric" | "step" | "stl" | "obj"
    strokes: dict[str, list[Stroke]]
    marks: dict[str, list[Mark]]
    facts: dict
    vertices: np.ndarray
    triangles: np.ndarray
    extra: dict = field(default_factory=dict)  # how a file was normalised (scale, centre, rotation)


def tessellate(part: Shape) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's triangle mesh of the part, deflection relative to its size."""
    bb = part.bounding_box()
    size = max(bb.size.X, bb.size.Y, bb.size.Z)
    verts, tris = part.tessellate(MESH_TOL * size, MESH_ANGLE)
    v = np.array([[p.X, p.Y, p.Z] for p in verts], dtype=np.float64).reshape(-1, 3)
    t = np.array(tris, dtype=np.int64).reshape(-1, 3)
    return v, t


def views_of_shape(part: Shape, spec: dict | None = None, origin: str = "parametric") -> PartViews:
    """Project every view (the iso with its tangent edges, as pictorials keep them), mark the
    holes, read the facts and tessellate: all the kernel work for one part."""
    strokes = {v: project(part, v, smooth=v == "iso") for v in VIEWS}
    axes = hole_axes(part)  # once: finding them costs holes x faces
    marks = {v: centre_marks(part, v, axes) for v in VIEWS}
    vertices, triangles = tessellate(part)
    return PartViews(origin, strokes, marks, facts(part, spec, axes), vertices, triangles)
