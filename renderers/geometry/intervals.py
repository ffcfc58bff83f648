"""Where a ray runs inside one convex part of a solid: the parts as float shapes and, per kind,
the interval of the ray's parameter that lies strictly inside.

This is the one exact test visibility rests on (a point is hidden when its ray towards the viewer
runs inside some part); kept apart from :mod:`renderers.geometry.visibility`, which decides where a
stroke can change visibility and asks this module at each run's midpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from renderers.geometry.model import Cone, Cylinder, Polytope, Solid, Sphere


@dataclass(frozen=True)
class Flat:
    """A convex polyhedron as the half-spaces ``normals @ x < offsets`` and its edges."""

    normals: np.ndarray  # (k, 3) outward unit normals
    offsets: np.ndarray  # (k,)
    edges: np.ndarray  # (m, 2, 3)


@dataclass(frozen=True)
class Round:
    """A cylinder, cone or frustum: radius ``r0`` at ``base``, ``r1`` at ``top``."""

    name: str  # "<bottom>-<apex>", for the ids of its outline strokes
    base: np.ndarray
    top: np.ndarray
    r0: float
    r1: float

    @cached_property
    def height(self) -> float:
        return float(np.linalg.norm(self.top - self.base))

    @cached_property
    def axis(self) -> np.ndarray:
        return (self.top - self.base) / self.height

    @cached_property
    def slope(self) -> float:
        """Change of radius per unit of height."""
        return (self.r1 - self.r0) / self.height


@dataclass(frozen=True)
class Ball:
    name: str
    centre: np.ndarray
    radius: float


Shape = Flat | Round | Ball


def shapes(solid: Solid) -> list[Shape]:
    """The solid's convex parts with float geometry."""
    out: list[Shape] = []
    for part in solid.parts:
        if isinstance(part, Polytope):
            normals, offsets, edges = [], [], set()
            for i in part.faces:
                face = solid.faces[i]
                pts = np.array([solid.xyz(v) for v in face])
                n = _newell(pts)
                normals.append(n)
                offsets.append(float(n @ pts.mean(axis=0)))
                edges |= {tuple(sorted((a, b))) for a, b in zip(face, face[1:] + face[:1], strict=True)}
            seg = np.array([[solid.xyz(a), solid.xyz(b)] for a, b in sorted(edges)])
            out.append(Flat(np.array(normals), np.array(offsets), seg))
        elif isinstance(part, Cylinder):
            r = float(part.radius)
            out.append(Round(f"{part.bottom}-{part.top}", solid.xyz(part.bottom), solid.xyz(part.top), r, r))
        elif isinstance(part, Cone):
            out.append(
                Round(
                    f"{part.bottom}-{part.apex}",
                    solid.xyz(part.bottom),
                    solid.xyz(part.apex),
                    float(part.radius),
                    float(part.top_radius),
                )
            )
        elif isinstance(part, Sphere):
            out.append(Ball(part.centre, solid.xyz(part.centre), float(part.radius)))
    return out


def _newell(pts: np.ndarray) -> np.ndarray:
    """Unit normal of a planar polygon, right-handed to its vertex order."""
    nxt = np.roll(pts, -1, axis=0)
    n = np.cross(pts, nxt).sum(axis=0)
    return n / np.linalg.norm(n)


def ray_interval(shape: Shape, origin: np.ndarray, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(t0, t1)`` per ray ``origin + t * direction`` (arrays ``(N, 3)``): the open interval of
    ``t`` where the ray is strictly inside the part; empty where ``t0 >= t1``."""
    o = np.atleast_2d(np.asarray(origin, dtype=float))
    v = np.atleast_2d(np.asarray(direction, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if isinstance(shape, Flat):
            return _flat_interval(shape, o, v)
        if isinstance(shape, Round):
            return _round_interval(shape, o, v)
        return _ball_interval(shape, o, v)


def _flat_interval(shape: Flat, o: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cyrus-Beck: each face plane bounds ``t`` from below (entering) or above (leaving)."""
    slack = shape.offsets - o @ shape.normals.T  # > 0 inside that half-space
    nv = v @ shape.normals.T
    scale = np.linalg.norm(v, axis=1, keepdims=True)
    parallel = np.abs(nv) <= 1e-12 * scale
    t = slack / np.where(parallel, 1.0, nv)
    t0 = np.where(nv < 0, t, -np.inf).max(axis=1, initial=-np.inf)
    t1 = np.where(nv > 0, t, np.inf).min(axis=1, initial=np.inf)
    outside = (parallel & (slack <= 0)).any(axis=1)
    return np.where(outside, np.inf, t0), np.where(outside, -np.inf, t1)


def _round_interval(shape: Round, o: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Between the base and top planes, ``|radial| < r0 + slope * height``: a quadratic in ``t``
    intersected with the slab; the part is convex, so the result is one interval."""
    a, h, k = shape.axis, shape.height, shape.slope
    w = o - shape.base
    s0, sv = w @ a, v @ a
    wr, vr = w - s0[:, None] * a, v - sv[:, None] * a
    ra, rb = shape.r0 + k * s0, k * sv
    qa = np.einsum("ij,ij->i", vr, vr) - rb**2
    qb = 2 * (np.einsum("ij,ij->i", wr, vr) - ra * rb)
    qc = np.einsum("ij,ij->i", wr, wr) - ra**2
    # the slab 0 < s0 + t sv < h
    flat_s = np.abs(sv) <= 1e-12
    ta, tb = -s0 / np.where(flat_s, 1.0, sv), (h - s0) / np.where(flat_s, 1.0, sv)
    in_slab = (s0 > 0) & (s0 < h)
    lo = np.where(flat_s, np.where(in_slab, -np.inf, np.inf), np.minimum(ta, tb))
    hi = np.where(flat_s, np.where(in_slab, np.inf, -np.inf), np.maximum(ta, tb))
    # the quadric qa t^2 + qb t + qc < 0: one interval, everything, or two rays
    disc = qb**2 - 4 * qa * qc
    root = np.sqrt(np.maximum(disc, 0.0))
    linear = np.abs(qa) <= 1e-12
    safe_a = np.where(linear, 1.0, qa)
    r_lo = np.minimum((-qb - root) / (2 * safe_a), (-qb + root) / (2 * safe_a))
    r_hi = np.maximum((-qb - root) / (2 * safe_a), (-qb + root) / (2 * safe_a))
    # qa = 0 (the ray parallel to a generator): qb t + qc < 0
    lin_root = -qc / np.where(qb == 0, 1.0, qb)
    everywhere = qc < 0
    lin_lo = np.where(qb < 0, lin_root, np.where((qb > 0) | everywhere, -np.inf, np.inf))
    lin_hi = np.where(qb > 0, lin_root, np.where((qb < 0) | everywhere, np.inf, -np.inf))
    # qa > 0: (r_lo, r_hi) where disc > 0
    pos_lo = np.where(disc > 0, r_lo, np.inf)
    pos_hi = np.where(disc > 0, r_hi, -np.inf)
    # qa < 0: (-inf, r_lo) or (r_hi, inf) within the slab, whichever holds the inside
    first = np.minimum(hi, r_lo) - lo
    second = hi - np.maximum(lo, r_hi)
    take_first = first >= second
    neg_lo = np.where(disc > 0, np.where(take_first, -np.inf, r_hi), -np.inf)
    neg_hi = np.where(disc > 0, np.where(take_first, r_lo, np.inf), np.inf)
    q_lo = np.where(linear, lin_lo, np.where(qa > 0, pos_lo, neg_lo))
    q_hi = np.where(linear, lin_hi, np.where(qa > 0, pos_hi, neg_hi))
    return np.maximum(lo, q_lo), np.minimum(hi, q_hi)


def _ball_interval(shape: Ball, o: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = o - shape.centre
    qa = np.einsum("ij,ij->i", v, v)
    qb = 2 * np.einsum("ij,ij->i", w, v)
    qc = np.einsum("ij,ij->i", w, w) - shape.radius**2
    disc = qb**2 - 4 * qa * qc
    root = np.sqrt(np.maximum(disc, 0.0))
    t0 = np.where(disc > 0, (-qb - root) / (2 * qa), np.inf)
    t1 = np.where(disc > 0, (-qb + root) / (2 * qa), -np.inf)
    return t0, t1
