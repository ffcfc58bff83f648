"""An independent check of a drawing's visibility: triangles and rays, sharing no code with
:mod:`renderers.geometry.visibility`.

The solid's surface is triangulated (faces fanned; cylinders, cones and spheres tessellated
finely, inscribed in the true surface) and every sample point casts a ray towards the viewer
(Moller-Trumbore against all triangles): a hit in front of the point hides it. Near an outline the
tessellation and the true surface can disagree within a pixel, so each sample casts two rays
tilted a hair to either side of the stroke, and a point where they disagree is not judged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.geometry.camera import Camera
from renderers.geometry.model import (
    Circle,
    Cone,
    Cylinder,
    Polytope,
    Segment,
    Solid,
    Sphere,
    Stroke,
    circle_frame,
)

MARGIN_PX = 3.0  # samples keep this far from a piece's ends, where visibility changes
SAMPLES_PER_PIECE = 3
CHUNK = 4_000_000  # rays x triangles per batch


def mesh(solid: Solid, segments: int = 256) -> np.ndarray:
    """Triangles ``(M, 3, 3)`` of the surfaces of all parts (internal faces included: a ray that
    meets one is inside the solid anyway)."""
    tris: list[np.ndarray] = []
    for part in solid.parts:
        if isinstance(part, Polytope):
            for i in part.faces:
                pts = np.array([solid.xyz(v) for v in solid.faces[i]])
                tris += [np.array([pts[0], pts[k], pts[k + 1]]) for k in range(1, len(pts) - 1)]
        elif isinstance(part, Cylinder | Cone):
            tris += _round(solid, part, segments)
        elif isinstance(part, Sphere):
            tris += _sphere(solid.xyz(part.centre), float(part.radius), segments)
    return np.array(tris)


def _round(solid: Solid, part: Cylinder | Cone, n: int) -> list[np.ndarray]:
    if isinstance(part, Cylinder):
        c0, c1, r0, r1 = solid.xyz(part.bottom), solid.xyz(part.top), float(part.radius), float(part.radius)
    else:
        c0, c1 = solid.xyz(part.bottom), solid.xyz(part.apex)
        r0, r1 = float(part.radius), float(part.top_radius)
    e1, e2 = circle_frame(c1 - c0)
    th = np.linspace(0, 2 * np.pi, n + 1)
    ring = np.cos(th)[:, None] * e1 + np.sin(th)[:, None] * e2
    bottom, top = c0 + r0 * ring, c1 + r1 * ring
    out = []
    for i in range(n):
        if r0 > 0:
            out += [
                np.array([bottom[i], bottom[i + 1], top[i + 1]]),
                np.array([c0, bottom[i + 1], bottom[i]]),
            ]
        if r1 > 0:
            out += [np.array([bottom[i], top[i + 1], top[i]]), np.array([c1, top[i], top[i + 1]])]
    return out


def _sphere(c: np.ndarray, r: float, n: int) -> list[np.ndarray]:
    lon = np.linspace(0, 2 * np.pi, n + 1)
    lat = np.linspace(-np.pi / 2, np.pi / 2, n // 2 + 1)
    g = c + r * np.stack(
        [
            np.cos(lat)[:, None] * np.cos(lon),
            np.cos(lat)[:, None] * np.sin(lon),
            np.sin(lat)[:, None] * np.ones_like(lon),
        ],
        axis=-1,
    )
    out = []
    for i in range(len(lat) - 1):
        for j in range(n):
            a, b, cc, d = g[i, j], g[i, j + 1], g[i + 1, j + 1], g[i + 1, j]
            if i > 0:
                out.append(np.array([a, b, cc]))
            if i < len(lat) - 2:
                out.append(np.array([a, cc, d]))
    return out


def _cast(
    tris: np.ndarray, origins: np.ndarray, dirs: np.ndarray, reach: np.ndarray, tmin: float
) -> np.ndarray:
    """Whether each ray hits a triangle at a distance in ``(tmin, reach)`` (Moller-Trumbore)."""
    v0, e1, e2 = tris[:, 0], tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]
    out = np.zeros(len(origins), dtype=bool)
    step = max(1, CHUNK // max(1, len(tris)))
    for s in range(0, len(origins), step):
        o, d, far = origins[s : s + step, None], dirs[s : s + step, None], reach[s : s + step, None]
        p = np.cross(d, e2)
        det = np.einsum("mk,nmk->nm", e1, p)
        ok = np.abs(det) > 1e-14
        inv = 1.0 / np.where(ok, det, 1.0)
        tv = o - v0
        u = np.einsum("nmk,nmk->nm", tv, p) * inv
        q = np.cross(tv, e1)
        v = np.einsum("nmk,nmk->nm", np.broadcast_to(d, q.shape), q) * inv
        t = np.einsum("mk,nmk->nm", e2, q) * inv
        hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > tmin) & (t < far)
        out[s : s + step] = hit.any(axis=1)
    return out


def _size(tris: np.ndarray) -> float:
    P = tris.reshape(-1, 3)
    return float(np.linalg.norm(P.max(axis=0) - P.min(axis=0))) or 1.0


def hidden_by_raycast(
    tris: np.ndarray, camera: Camera, P: np.ndarray, tilt: np.ndarray | None = None
) -> np.ndarray:
    """Whether each point ``(N, 3)`` is hidden: its ray towards the viewer (turned by the
    vectors ``tilt``, if given) meets a triangle."""
    P = np.atleast_2d(np.asarray(P, dtype=float))
    d = camera.towards_viewer(P)
    if tilt is not None:
        d = d + tilt
        d /= np.linalg.norm(d, axis=1, keepdims=True)
    eye = camera.eye
    reach = np.full(len(P), np.inf) if eye is None else np.linalg.norm(eye - P, axis=1)
    return _cast(tris, P, d, reach, 1e-7 * _size(tris))


def _tangent(stroke: Segment | Circle, t: np.ndarray) -> np.ndarray:
    if isinstance(stroke, Segment):
        return np.broadcast_to(np.subtract(stroke.b, stroke.a, dtype=float), (len(t), 3))
    e1, e2 = circle_frame(stroke.normal)
    return -np.sin(t)[:, None] * e1 + np.cos(t)[:, None] * e2


def _interior(stroke: Segment | Circle, camera: Camera, t0: float, t1: float) -> np.ndarray:
    """A few parameters of a piece at least MARGIN_PX (on the canvas) from its ends."""
    ts = np.linspace(t0, t1, 65)
    xy = camera.project(stroke.at(ts))
    along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
    length = along[-1]
    if length < 2 * MARGIN_PX + 1:
        return np.zeros(0)
    k = np.arange(1, SAMPLES_PER_PIECE + 1) / (SAMPLES_PER_PIECE + 1)
    return np.interp(MARGIN_PX + (length - 2 * MARGIN_PX) * k, along, ts)


def _tilts(camera: Camera, stroke: Segment | Circle, t: np.ndarray, P: np.ndarray, size: float) -> np.ndarray:
    """Per point, a direction change that moves the ray about a pixel across the stroke over the
    solid's size."""
    d = camera.towards_viewer(P)
    side = np.cross(d, _tangent(stroke, t))
    norm = np.linalg.norm(side, axis=1, keepdims=True)
    fallback = np.cross(d, [0.0, 0.0, 1.0])
    side = np.where(
        norm > 1e-9,
        side / np.maximum(norm, 1e-300),
        fallback / np.linalg.norm(fallback, axis=1, keepdims=True),
    )
    step = 1e-3 * size
    px_per_unit = np.linalg.norm(camera.project(P + step * side) - camera.project(P), axis=1) / step
    return side / (px_per_unit * size)[:, None]


def check_pieces(
    solid: Solid, camera: Camera, strokes: list[Stroke], scene: dict[str, Any], segments: int = 256
) -> str | None:
    """The first drawn piece whose style (solid or dashed) disagrees with ray casting at a sample
    point, described; None when all agree."""
    by_id = {s.id: s for s in strokes if isinstance(s, Segment | Circle)}
    tris = mesh(solid, segments)
    size = _size(tris)
    samples: list[tuple[str, bool, float]] = []
    points, tilts = [], []
    for e in scene["elements"]:
        stroke = by_id.get(e["id"])
        if e["type"] != "pieces" or stroke is None:
            continue
        for piece in e["pieces"]:
            ts = _interior(stroke, camera, *piece["t"])
            if not len(ts):
                continue
            P = stroke.at(ts)
            points.append(P)
            tilts.append(_tilts(camera, stroke, ts, P, size))
            samples += [(e["id"], piece["dashed"], float(t)) for t in ts]
    if not samples:
        return None
    P, tilt = np.concatenate(points), np.concatenate(tilts)
    left = hidden_by_raycast(tris, camera, P, tilt)
    right = hidden_by_raycast(tris, camera, P, -tilt)
    for (eid, dashed, t), a, b in zip(samples, left, right, strict=True):
        if a == b and a != dashed:
            return f"{eid} drawn {'dashed' if dashed else 'solid'} at t={t:.3f} but {'hidden' if a else 'visible'}"
    return None
