"""A solid as an exact 3D model, and the 3D strokes a figure of it draws.

Coordinates are exact (sympy numbers: integers, rationals, surds) so that every answer computed
from them is exact (``3*sqrt(2)``, not 4.2426); drawing and visibility use their float values.
Axes: x to the right, y away from the viewer (the receding axis of the oblique projection), z up;
every solid stands on the plane z = 0 unless a rotation moved it.

A solid is the union of its convex ``parts`` (one part for every polyhedron here and for the
cylinder, cone and sphere; two for a cone on a cylinder). That is what visibility needs: a point
is hidden when the ray from it towards the viewer passes through the inside of some part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

Exact = sp.Expr
Point3 = tuple[Exact, Exact, Exact]


def as_float(p: Point3 | np.ndarray) -> np.ndarray:
    return np.array([float(c) for c in p], dtype=float)


@dataclass(frozen=True)
class Polytope:
    """A convex polyhedron: indices into :attr:`Solid.faces` of the faces that bound it."""

    faces: tuple[int, ...]


@dataclass(frozen=True)
class Cylinder:
    """A right circular cylinder between the circles about two labelled centres."""

    bottom: str
    top: str
    radius: Exact


@dataclass(frozen=True)
class Cone:
    """A right circular cone (``top_radius`` 0) or a conical frustum about labelled centres."""

    bottom: str
    apex: str  # the apex, or the top centre of a frustum
    radius: Exact
    top_radius: Exact = sp.Integer(0)


@dataclass(frozen=True)
class Sphere:
    centre: str
    radius: Exact


Part = Polytope | Cylinder | Cone | Sphere


@dataclass(frozen=True)
class Rim:
    """A circle that is an edge of the solid (a base of a cylinder or cone)."""

    centre: str
    radius: Exact
    normal: Point3  # unit, exact where it can be (0, 0, 1) for a base


@dataclass
class Solid:
    """``points`` are every labelled point (vertices, and centres such as O and O1 of curved
    solids); ``edges`` the straight edges between them; ``faces`` the planar faces as label
    tuples, counter-clockwise seen from outside (so the right-hand normal points out)."""

    name: str
    points: dict[str, Point3]
    edges: list[tuple[str, str]]
    faces: list[tuple[str, ...]]
    parts: list[Part]
    rims: list[Rim] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)  # as sampled, JSON-able: {"a": 4, "n": 6}
    title: str = ""  # the textbook name, e.g. "ABCD-A1B1C1D1"

    def xyz(self, label: str) -> np.ndarray:
        return as_float(self.points[label])

    @property
    def vertices(self) -> list[str]:
        """Labels that are corners of faces or ends of edges (not centres)."""
        used = {v for e in self.edges for v in e} | {v for f in self.faces for v in f}
        return [k for k in self.points if k in used]


# ---------------------------------------------------------------------------------------------
# What a figure draws, in 3D; the camera projects it and visibility splits it into solid and
# dashed pieces. ``id`` is the element id in the SVG (one <g> each), so an edit pair's changed
# elements are the ids whose pieces differ.


def circle_frame(normal) -> tuple[np.ndarray, np.ndarray]:
    """Unit ``(e1, e2)`` spanning the plane normal to ``normal``, with ``e1 x e2`` along it: the
    zero and the sense of a circle's angle. For a horizontal circle that is +x, then +y."""
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    ref = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = ref - (ref @ n) * n
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(n, e1)


@dataclass(frozen=True)
class Segment:
    id: str
    a: tuple[float, float, float]
    b: tuple[float, float, float]
    role: str = "edge"  # edge | construction | axis
    hidden_style: str = "dashed"  # dashed | none (hidden pieces not drawn at all)

    def at(self, t) -> np.ndarray:
        """Points at parameters ``t`` (0 at ``a``, 1 at ``b``): shape ``t.shape + (3,)``."""
        a, b = np.asarray(self.a, dtype=float), np.asarray(self.b, dtype=float)
        return a + np.multiply.outer(np.asarray(t, dtype=float), b - a)


@dataclass(frozen=True)
class Circle:
    id: str
    centre: tuple[float, float, float]
    normal: tuple[float, float, float]
    radius: float
    role: str = "edge"
    hidden_style: str = "dashed"

    def at(self, theta) -> np.ndarray:
        """Points at angles ``theta`` (radians, in :func:`circle_frame` of the normal)."""
        e1, e2 = circle_frame(self.normal)
        th = np.asarray(theta, dtype=float)
        return np.asarray(self.centre, dtype=float) + self.radius * (
            np.multiply.outer(np.cos(th), e1) + np.multiply.outer(np.sin(th), e2)
        )


@dataclass(frozen=True)
class Patch:
    """A filled planar polygon (a section), drawn translucent under the lines."""

    id: str
    points: tuple[tuple[float, float, float], ...]
    fill: str = "#f5cba7"


@dataclass(frozen=True)
class Mark:
    """A labelled point drawn as a dot (a midpoint, a foot of a perpendicular), or a label only."""

    id: str
    at: tuple[float, float, float]
    text: str
    dot: bool = True


Stroke = Segment | Circle | Patch | Mark
