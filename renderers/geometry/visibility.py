"""Which parts of a figure's strokes the solid hides, decided exactly (to float precision).

A point is hidden when the ray from it towards the viewer passes through the inside of some convex
part of the solid (:func:`~renderers.geometry.intervals.ray_interval` per part). A stroke is split
where its visibility can change: where its projection crosses the projection of a curve on which
the solid's outline can lie (every polytope edge, the rims and the tangent generators of cylinders
and cones, a sphere's outline), where it pierces the surface, and, for a circle lying on a curved
surface, at its exact tangency angles. Between consecutive splits visibility is constant, so the
midpoint decides; pieces with the same visibility are merged again, so extra split candidates
change nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from renderers.geometry.camera import OBLIQUE_VIEW, Camera
from renderers.geometry.intervals import Ball, Flat, Round, Shape, ray_interval, shapes
from renderers.geometry.model import Circle, Segment, Solid, Stroke, circle_frame

EPS = 1e-6  # a ray must run this far (times the solid's size) inside a part to be hidden
TAU = 2 * math.pi
SAMPLES = 1440  # angles sampled to bracket crossings that have no closed form
PX_PER_POINT = 3.0  # polyline spacing of a drawn arc


@dataclass(frozen=True)
class Piece:
    """A run of a stroke with one visibility: parameters ``t0 < t1`` in the stroke's own
    parameter (a segment: 0..1 from ``a`` to ``b``; a circle: radians, possibly past 2*pi where a
    piece wraps), and its projected polyline in pixels."""

    t0: float
    t1: float
    points: tuple[tuple[float, float], ...]
    visible: bool


def _trig(alpha: float, beta: float, gamma: float) -> list[float]:
    """The angles where ``alpha cos(x) + beta sin(x) = gamma``."""
    rho = math.hypot(alpha, beta)
    if rho < 1e-15 or abs(gamma) > rho:
        return []
    phi, delta = math.atan2(beta, alpha), math.acos(max(-1.0, min(1.0, gamma / rho)))
    return [phi - delta, phi + delta]


def _param_on(h0: np.ndarray, d: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``t`` with ``h0 + t d`` proportional to the homogeneous points ``X`` (N, 3) (on that
    projected line)."""
    c0, c1 = np.cross(h0, X), np.cross(d, X)
    i = np.abs(c1).argmax(axis=1)
    rows = np.arange(len(X))
    with np.errstate(divide="ignore", invalid="ignore"):
        return -c0[rows, i] / c1[rows, i]


class View:
    """A solid seen by a camera: the parts, and the curves on which its outline can lie."""

    def __init__(self, solid: Solid, camera: Camera):
        self.camera = camera
        self.shapes = shapes(solid)
        self.matrix = camera.matrix()
        self.eps = EPS * _size(solid, self.shapes)
        segs: list[np.ndarray] = [s.edges for s in self.shapes if isinstance(s, Flat)]
        self.circles: list[tuple[np.ndarray, np.ndarray, float]] = []
        for s in self.shapes:
            if isinstance(s, Round):
                gens = self._generators(s)
                if gens:
                    segs.append(np.array(gens))
                self.circles += [(c, s.axis, r) for c, r in ((s.base, s.r0), (s.top, s.r1)) if r > 0]
            elif isinstance(s, Ball):
                c, n, r = self._outline(s)
                self.circles.append((c, n, r))
        self.segments = np.concatenate(segs) if segs else np.zeros((0, 2, 3))

    # -- visibility of points ------------------------------------------------------------------

    def hidden(self, P: np.ndarray) -> np.ndarray:
        """Whether each point ``(N, 3)`` is hidden by the solid."""
        P = np.atleast_2d(np.asarray(P, dtype=float))
        d = self.camera.towards_viewer(P)
        reach = np.inf if self.camera.eye is None else np.linalg.norm(self.camera.eye - P, axis=1)
        out = np.zeros(len(P), dtype=bool)
        for s in self.shapes:
            t0, t1 = ray_interval(s, P, d)
            out |= np.minimum(t1, reach) - np.maximum(t0, 0.0) > self.eps
        return out

    # -- the curved parts' outlines --------------------------------------------------------------

    def _tangency(self, s: Round) -> list[float]:
        """Angles (in :func:`circle_frame` of the axis) of the generators along which the side
        surface is seen edge-on: its normal ``radial - slope * axis`` is perpendicular to the
        view. The same angle holds along the whole generator, for both camera kinds."""
        e1, e2 = circle_frame(s.axis)
        if self.camera.eye is None:
            w = OBLIQUE_VIEW
            return _trig(w @ e1, w @ e2, s.slope * (s.axis @ w))
        q = self.camera.eye - s.base
        return _trig(q @ e1, q @ e2, s.r0 + s.slope * (s.axis @ q))

    def _generators(self, s: Round) -> list[tuple[np.ndarray, np.ndarray]]:
        """The two outline generators, left one first on the canvas."""
        e1, e2 = circle_frame(s.axis)
        out = []
        for th in self._tangency(s):
            radial = math.cos(th) * e1 + math.sin(th) * e2
            out.append((s.base + s.r0 * radial, s.top + s.r1 * radial))
        return sorted(out, key=lambda g: float(self.camera.project(g[0])[0, 0]))

    def _outline(self, s: Ball) -> tuple[np.ndarray, np.ndarray, float]:
        """The sphere's circle of tangency: a great circle for oblique, a smaller one nearer the
        eye for perspective."""
        if self.camera.eye is None:
            return s.centre, OBLIQUE_VIEW, s.radius
        q = self.camera.eye - s.centre
        dist = float(np.linalg.norm(q))
        f = (s.radius / dist) ** 2
        return s.centre + f * q, q / dist, s.radius * math.sqrt(1 - f)

    def silhouettes(self) -> list[Stroke]:
        """Outline strokes of the curved parts for this camera: a cylinder's or cone's two tangent
        generators, a sphere's outline and its equator."""
        out: list[Stroke] = []
        for s in self.shapes:
            if isinstance(s, Round):
                for k, (a, b) in enumerate(self._generators(s)):
                    out.append(Segment(f"sil:{s.name}:{k}", tuple(a.tolist()), tuple(b.tolist())))
            elif isinstance(s, Ball):
                c, n, r = self._outline(s)
                out.append(Circle(f"sil:{s.name}", tuple(c.tolist()), tuple(n.tolist()), r))
                out.append(Circle(f"equator:{s.name}", tuple(s.centre.tolist()), (0.0, 0.0, 1.0), s.radius))
        return out

    # -- pieces ----------------------------------------------------------------------------------

    def _hom(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) @ self.matrix[:, :3].T + self.matrix[:, 3]

    def _homv(self, V: np.ndarray) -> np.ndarray:
        return np.asarray(V, dtype=float) @ self.matrix[:, :3].T

    def pieces(self, stroke: Segment | Circle) -> list[Piece]:
        """The stroke split where its visibility changes, each run with its polyline."""
        if isinstance(stroke, Segment):
            return self._segment_pieces(stroke)
        return self._circle_pieces(stroke)

    def _segment_pieces(self, seg: Segment) -> list[Piece]:
        a, b = np.array(seg.a, dtype=float), np.array(seg.b, dtype=float)
        ts = [0.0, 1.0]
        for s in self.shapes:  # where the segment pierces a part
            t0, t1 = ray_interval(s, a, b - a)
            ts += [float(t) for t in (t0[0], t1[0]) if t0[0] < t1[0] and 0 < t < 1]
        ha, hb = self._hom(a), self._hom(b)
        d, line = hb - ha, np.cross(ha, hb)
        if len(self.segments):  # crossings with outline segments
            hp, hq = self._hom(self.segments[:, 0]), self._hom(self.segments[:, 1])
            den = (hq - hp) @ line
            ok = np.abs(den) > 1e-12 * np.linalg.norm(line) * np.linalg.norm(hq - hp, axis=1)
            u = -(hp @ line) / np.where(ok, den, 1.0)
            ok &= (u >= -1e-9) & (u <= 1 + 1e-9)
            X = hp[ok] + u[ok, None] * (hq - hp)[ok]
            ts += _param_on(ha, d, X).tolist() if len(X) else []
        for c, n, r in self.circles:  # crossings with outline circles
            e1, e2 = circle_frame(n)
            p0, p1, p2 = self._hom(c), r * self._homv(e1), r * self._homv(e2)
            for th in _trig(line @ p1, line @ p2, -(line @ p0)):
                X = (p0 + math.cos(th) * p1 + math.sin(th) * p2)[None]
                ts.append(float(_param_on(ha, d, X)[0]))
        cuts = _unique([t for t in ts if 0 <= t <= 1], 1e-12)
        mids = [(x + y) / 2 for x, y in zip(cuts, cuts[1:], strict=False)]
        hid = self.hidden(seg.at(np.array(mids)))
        out = []
        for (t0, t1), h in _merge(list(zip(cuts, cuts[1:], strict=False)), hid.tolist()):
            pts = self.camera.project(seg.at(np.array([t0, t1])))
            out.append(Piece(t0, t1, tuple(map(tuple, pts.tolist())), not h))
        return out

    def _circle_pieces(self, circ: Circle) -> list[Piece]:
        c, r = np.array(circ.centre, dtype=float), float(circ.radius)
        f1, f2 = circle_frame(circ.normal)
        n = np.cross(f1, f2)
        P0, P1, P2 = self._hom(c), r * self._homv(f1), r * self._homv(f2)
        angles: list[float] = []
        exact: list[float] = []  # tangency angles: other curves touch the circle there, and
        # their crossings (double roots) come out only to about 1e-8, so they give way
        grid = np.linspace(0.0, TAU, SAMPLES + 1)
        on_grid = circ.at(grid)
        for s in self.shapes:
            if isinstance(s, Flat):  # crossing a face plane
                for nf, off in zip(s.normals, s.offsets, strict=True):
                    angles += _trig(r * (nf @ f1), r * (nf @ f2), off - nf @ c)
            else:
                exact += self._lying_tangency(s, circ, c, n, r, f1, f2)
                angles += _sign_changes(lambda th, s=s: _inside(s, circ.at(th)), grid, _inside(s, on_grid))
        for p, q in self.segments:  # crossings with outline segments
            hp, hq = self._hom(p), self._hom(q)
            line = np.cross(hp, hq)
            for th in _trig(line @ P1, line @ P2, -(line @ P0)):
                X = (P0 + math.cos(th) * P1 + math.sin(th) * P2)[None]
                if -1e-9 <= _param_on(hp, hq - hp, X)[0] <= 1 + 1e-9:
                    angles.append(th)
        for k in self.circles:  # crossings with other outline circles
            if not _same_circle(k, (c, n, r)):
                conic = self._conic(k)
                if conic is not None:

                    def g(th, conic=conic):
                        y = (
                            np.asarray(
                                P0 + np.multiply.outer(np.cos(th), P1) + np.multiply.outer(np.sin(th), P2)
                            )
                            @ conic.T
                        )
                        return y[..., 0] ** 2 + y[..., 1] ** 2 - y[..., 2] ** 2

                    angles += _sign_changes(g, grid, g(grid))
        angles = [a for a in angles if all(abs((a - e + math.pi) % TAU - math.pi) > 1e-6 for e in exact)]
        cuts = _unique([a % TAU for a in exact + angles], 1e-10)
        if len(cuts) > 1 and cuts[-1] - cuts[0] > TAU - 1e-10:  # the same cut either side of 0
            cuts.pop()
        runs = list(zip(cuts, cuts[1:] + [cuts[0] + TAU], strict=True)) if cuts else [(0.0, TAU)]
        hid = self.hidden(circ.at(np.array([(x + y) / 2 for x, y in runs]))).tolist()
        merged = _merge_cyclic(runs, hid)
        return [Piece(t0, t1, self._arc(circ, t0, t1), not h) for (t0, t1), h in merged]

    def _lying_tangency(self, s: Shape, circ: Circle, c, n, r, f1, f2) -> list[float]:
        """Angles where a circle that lies on a curved part's surface (a rim, a parallel of a
        cylinder or cone, a circle on a sphere) meets that part's outline: closed form."""
        tol = 1e-9 * max(1.0, r)
        if isinstance(s, Round):
            rel = c - s.base
            h = float(rel @ s.axis)
            radial = rel - h * s.axis
            if (
                np.linalg.norm(np.cross(n, s.axis)) > 1e-9
                or np.linalg.norm(radial) > tol
                or not -tol <= h <= s.height + tol
                or abs(s.r0 + s.slope * h - r) > tol
            ):
                return []
            e1, e2 = circle_frame(s.axis)
            pts = [
                c + r * (math.cos(th) * e1 + math.sin(th) * e2) for th in self._tangency(s)
            ]  # the same angles at every height: convert to this circle's own frame
            return [math.atan2((p - c) @ f2, (p - c) @ f1) for p in pts]
        assert isinstance(s, Ball)
        rel = c - s.centre
        if np.linalg.norm(np.cross(rel, n)) > tol or abs(rel @ rel + r * r - s.radius**2) > tol * s.radius:
            return []
        if self.camera.eye is None:  # the sphere's normal perpendicular to the view
            w = OBLIQUE_VIEW
            return _trig(r * (f1 @ w), r * (f2 @ w), -(rel @ w))
        q = self.camera.eye - s.centre  # (X - centre) . (eye - X) = 0
        return _trig(r * (f1 @ q), r * (f2 @ q), s.radius**2 - rel @ q)

    def _conic(self, k: tuple[np.ndarray, np.ndarray, float]) -> np.ndarray | None:
        """A matrix ``H^-1`` taking homogeneous pixels to the unit-circle coordinates of circle
        ``k``'s plane: a pixel ``x`` is on its projection where ``y0^2 + y1^2 - y2^2 = 0`` for
        ``y = H^-1 x``. None when the circle is seen edge-on."""
        c, n, r = k
        e1, e2 = circle_frame(n)
        H = np.column_stack([r * self._homv(e1), r * self._homv(e2), self._hom(c)])
        if np.linalg.cond(H) > 1e10:
            return None
        return np.linalg.inv(H)

    def _arc(self, circ: Circle, t0: float, t1: float) -> tuple[tuple[float, float], ...]:
        """The projected arc, about one point per 3 px."""
        coarse = self.camera.project(circ.at(np.linspace(t0, t1, 33)))
        length = float(np.linalg.norm(np.diff(coarse, axis=0), axis=1).sum())
        n = max(2, math.ceil(length / PX_PER_POINT) + 1)
        return tuple(map(tuple, self.camera.project(circ.at(np.linspace(t0, t1, n))).tolist()))


def _size(solid: Solid, parts: list[Shape]) -> float:
    pts = [solid.xyz(k) for k in solid.points]
    for s in parts:
        if isinstance(s, Round):
            pts += [s.base - max(s.r0, s.r1), s.top + max(s.r0, s.r1)]
        elif isinstance(s, Ball):
            pts += [s.centre - s.radius, s.centre + s.radius]
    if not pts:  # nothing to hide behind (a net drawn flat)
        return 1.0
    P = np.array(pts)
    return float(np.linalg.norm(P.max(axis=0) - P.min(axis=0))) or 1.0


def _inside(s: Shape, X: np.ndarray) -> np.ndarray:
    """A continuous function of points, negative strictly inside a curved part."""
    if isinstance(s, Ball):
        return np.linalg.norm(X - s.centre, axis=-1) - s.radius
    rel = X - s.base
    h = rel @ s.axis
    radial = np.linalg.norm(rel - h[..., None] * s.axis, axis=-1)
    return np.maximum(radial - (s.r0 + s.slope * h), np.maximum(-h, h - s.height))


def _sign_changes(f, grid: np.ndarray, values: np.ndarray) -> list[float]:
    """Roots of ``f`` bracketed by sign changes on the grid, refined to machine precision; a
    function that stays at zero (a curve lying on the surface) has none worth splitting at."""
    scale = float(np.abs(values).max())
    if scale < 1e-9:
        return []
    sign = np.sign(np.where(np.abs(values) < 1e-12 * scale, 0.0, values))
    out = []
    for i in np.nonzero(sign[:-1] * sign[1:] < 0)[0]:
        out.append(brentq(lambda x: float(f(np.array(x))), grid[i], grid[i + 1], xtol=1e-14))
    return out


def _same_circle(k, m) -> bool:
    (c1, n1, r1), (c2, n2, r2) = k, m
    return (
        np.linalg.norm(c1 - c2) < 1e-9 * max(1.0, r1)
        and abs(r1 - r2) < 1e-9 * max(1.0, r1)
        and np.linalg.norm(np.cross(n1, n2)) < 1e-9
    )


def _unique(values: list[float], tol: float) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _merge(runs: list[tuple[float, float]], hid: list[bool]) -> list[tuple[tuple[float, float], bool]]:
    out: list[tuple[tuple[float, float], bool]] = []
    for (t0, t1), h in zip(runs, hid, strict=True):
        if out and out[-1][1] == h:
            out[-1] = ((out[-1][0][0], t1), h)
        else:
            out.append(((t0, t1), h))
    return out


def _merge_cyclic(runs: list[tuple[float, float]], hid: list[bool]) -> list[tuple[tuple[float, float], bool]]:
    """Runs around a circle merged; one visibility all round is the single run 0..2pi."""
    if all(h == hid[0] for h in hid):
        return [((0.0, TAU), hid[0])]
    start = next(i for i in range(len(runs)) if hid[i] != hid[i - 1])
    runs, hid = runs[start:] + [(a + TAU, b + TAU) for a, b in runs[:start]], hid[start:] + hid[:start]
    merged = _merge(runs, hid)
    return [((t0 % TAU, t0 % TAU + (t1 - t0)), h) for (t0, t1), h in merged]


def hidden(solid: Solid, camera: Camera, P: np.ndarray) -> np.ndarray:
    return View(solid, camera).hidden(P)


def pieces(solid: Solid, camera: Camera, stroke: Segment | Circle) -> list[Piece]:
    return View(solid, camera).pieces(stroke)


def silhouettes(solid: Solid, camera: Camera) -> list[Stroke]:
    return View(solid, camera).silhouettes()
