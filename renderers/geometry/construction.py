"""What a construction returns, and the point helpers every construction shares.

Kept apart from :mod:`renderers.geometry.construct` so that the constructions split into their own
modules (:mod:`~renderers.geometry.spheres`, :mod:`~renderers.geometry.nets`) can use them while
``construct`` imports those modules to dispatch to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from renderers.geometry import measure as ms
from renderers.geometry.model import Point3, Solid, Stroke, as_float
from synth.sampling import NotApplicable

EPS = 1e-9
#: Labels for new points, in the order they are handed out (I and O are left out: they read as 1
#: and 0, and O is the textbook's centre); each construction puts its customary letter first.
NEW_LABELS = "EFGHKLMNQRSTUVWXYZ"


@dataclass(frozen=True)
class SphereOutline:
    """A sphere to draw: its outline depends on the camera, so the scene draws it as the circle
    about ``centre`` whose normal is the view direction, plus the equator."""

    id: str
    centre: tuple[float, float, float]
    radius: float


@dataclass
class Construction:
    """``points``: new labelled points (exact); ``strokes``: what the figure adds; ``facts``: the
    exact results a question asks about (lengths, the section polygon, a sphere's radius, the net's
    faces); ``solid``: the moved solid, for a rotation."""

    op: str
    params: dict[str, Any]
    points: dict[str, Point3] = field(default_factory=dict)
    strokes: list[Stroke | SphereOutline] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    solid: Solid | None = None


def floats(p: Point3) -> tuple[float, float, float]:
    """An exact point as floats, for strokes and tolerance tests."""
    return tuple(float(x) for x in p)


def simplified(p: Sequence[sp.Expr]) -> Point3:
    """A point with each coordinate simplified, so that equal points print the same."""
    return tuple(ms.simplify(x) for x in p)


def label_at(solid: Solid, p: Point3) -> str | None:
    """The label of an existing point at p, if any."""
    f = as_float(p)
    return next((k for k, q in solid.points.items() if np.allclose(as_float(q), f, atol=EPS)), None)


def fresh_label(solid: Solid, prefer: str = "", taken: Sequence[str] = ()) -> str:
    """The first label, customary ones first, that the solid and ``taken`` do not use."""
    used = set(solid.points) | set(taken)
    label = next((c for c in dict.fromkeys(prefer + NEW_LABELS) if c not in used), None)
    if label is None:
        raise NotApplicable("no free label left")
    return label
