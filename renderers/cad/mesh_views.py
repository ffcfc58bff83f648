"""Engineering views of a closed triangle mesh: sharp edges and silhouettes, visible and hidden.

A mesh file (STL, OBJ) has no B-rep for OpenCascade's hidden-line removal, so its views are drawn
from the triangles: an edge is drawn when its two triangles meet at more than a sharp angle, or
when one faces the viewer and the other faces away (a silhouette). Each drawn edge is split into
visible and hidden runs by testing points along it against the triangles that face the viewer.

Why only those triangles, and why not ray casting: on a closed surface, anything between a point
and the viewer is left through a triangle that faces the viewer, so those triangles alone decide
occlusion; they are bucketed on a view-plane grid and tested exactly (2D inclusion, then the depth
of the triangle's plane at the point) in numpy. That is exact for the mesh, needs no rtree/embree
(which trimesh's ray casts require), has no pixel grid to alias on, and costs milliseconds for the
few thousand triangles of a tessellated part. Where visibility changes between two samples, the
change is found by bisection, so a run ends where the occluding outline crosses the edge rather
than at the nearest sample.

Coordinates are those of views.project: view-plane mm, x = p . x, y = p . y for frame(view).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import trimesh

from renderers.cad.views import Stroke, _unique, _visible_first, frame

FACING = 1e-6  # cos of the angle from edge-on beyond which a triangle faces the viewer
TOL = 1e-6  # inclusion and depth tolerance, as a fraction of the part's size
STEP = 1 / 400  # sample spacing along an edge, as a fraction of the part's size
BISECT = 24  # halvings of a sample interval where visibility changes
COVER = 5e-4  # hidden within this fraction of the size of a visible line goes (views._visible_first)
MAX_PAIRS = 4_000_000  # (sample, triangle) tests per numpy batch, and grid entries at most


class _Occluders:
    """The triangles that face the viewer, bucketed on a uniform grid of the view plane. Each is
    kept as three side lines (a point is inside when its signed distance to each, positive
    inward, is at least -tol) and the plane of its depth (d = d0 + dx x + dy y)."""

    def __init__(self, p2: np.ndarray, depth: np.ndarray, tris: np.ndarray, ids: np.ndarray, tol: float):
        self.tol = tol
        self.ids = ids
        a, b, c = p2[tris[:, 0]], p2[tris[:, 1]], p2[tris[:, 2]]
        e1, e2 = b - a, c - a
        det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        sides = np.stack([b - a, c - b, a - c], axis=1) * np.sign(det)[:, None, None]  # counter-clockwise
        sides /= np.maximum(np.linalg.norm(sides, axis=2, keepdims=True), 1e-300)
        starts = np.stack([a, b, c], axis=1)
        nx, ny = -sides[..., 1], sides[..., 0]  # inward normals
        offset = nx * starts[..., 0] + ny * starts[..., 1]
        da, dd1, dd2 = (
            depth[tris[:, 0]],
            depth[tris[:, 1]] - depth[tris[:, 0]],
            depth[tris[:, 2]] - depth[tris[:, 0]],
        )
        det = np.where(det == 0.0, 1.0, det)
        dx = (dd1 * e2[:, 1] - dd2 * e1[:, 1]) / det  # d = da + u dd1 + v dd2 with (u, v) linear in q
        dy = (dd2 * e1[:, 0] - dd1 * e2[:, 0]) / det
        d0 = da - dx * a[:, 0] - dy * a[:, 1]
        self.sides = [np.stack([nx[:, k], ny[:, k], offset[:, k]], axis=1) for k in range(3)]
        self.plane = np.stack([d0, dx, dy], axis=1)
        self._grid(np.minimum(np.minimum(a, b), c) - tol, np.maximum(np.maximum(a, b), c) + tol)

    def _grid(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.origin = lo.min(axis=0) if len(lo) else np.zeros(2)
        span = float((hi.max(axis=0) - self.origin).max()) if len(lo) else 1.0
        n = max(1, math.ceil(math.sqrt(len(lo))))
        while True:
            self.n, self.cell = n, max(span, 1e-300) / n
            i0, i1 = self._cells(lo), self._cells(hi)
            counts = (i1[:, 0] - i0[:, 0] + 1) * (i1[:, 1] - i0[:, 1] + 1)
            if n == 1 or counts.sum() <= MAX_PAIRS:
                break
            n //= 2
        tri = np.repeat(np.arange(len(lo)), counts)
        k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        width = np.repeat(i1[:, 0] - i0[:, 0] + 1, counts)
        cx, cy = np.repeat(i0[:, 0], counts) + k % width, np.repeat(i0[:, 1], counts) + k // width
        cell = cy * n + cx
        order = np.argsort(cell, kind="stable")
        self.cell_tris = tri[order]
        self.cell_start = np.searchsorted(cell[order], np.arange(n * n + 1))

    def _cells(self, p: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((p - self.origin) / self.cell).astype(np.int64), 0, self.n - 1)

    def hidden(self, q: np.ndarray, qd: np.ndarray, own: np.ndarray) -> np.ndarray:
        """Which points q (S, 2) at depth qd (S,) lie behind a triangle other than their own
        (S, 2) mesh face ids."""
        out = np.zeros(len(q), dtype=bool)
        if not len(self.ids) or not len(q):
            return out
        cell = self._cells(q)
        cell = cell[:, 1] * self.n + cell[:, 0]
        first, count = self.cell_start[cell], self.cell_start[cell + 1] - self.cell_start[cell]
        done = np.concatenate([[0], np.cumsum(count)])  # tests before each point
        start = 0
        while start < len(q):  # batches of at most MAX_PAIRS tests (or one point)
            stop = max(start + 1, int(np.searchsorted(done, done[start] + MAX_PAIRS, side="right")) - 1)
            sl = slice(start, stop)
            out[sl] = self._hidden(q[sl], qd[sl], own[sl], first[sl], count[sl])
            start = stop
        return out

    def _hidden(self, q, qd, own, first, count) -> np.ndarray:
        s = np.repeat(np.arange(len(q)), count)
        t = self.cell_tris[np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())]
        keep = (self.ids[t] != own[s, 0]) & (self.ids[t] != own[s, 1])
        s, t = s[keep], t[keep]
        for line in self.sides:  # narrowing side by side: most candidates fail the first test
            k = line[t]
            keep = k[:, 0] * q[s, 0] + k[:, 1] * q[s, 1] - k[:, 2] >= -self.tol
            s, t = s[keep], t[keep]
        k = self.plane[t]
        front = k[:, 0] + k[:, 1] * q[s, 0] + k[:, 2] * q[s, 1] > qd[s] + self.tol
        return np.bincount(s[front], minlength=len(q)) > 0


def _candidates(mesh: trimesh.Trimesh, toward: np.ndarray, sharp_deg: float):
    """(vertex pairs (E, 2), face pairs (E, 2), sharp (E,)) of the edges a view draws: sharp
    ones and silhouettes (one triangle facing the viewer, the other not)."""
    pairs = mesh.face_adjacency
    facing = mesh.face_normals @ toward > FACING
    sharp = mesh.face_adjacency_angles > math.radians(sharp_deg)
    draw = sharp | (facing[pairs[:, 0]] != facing[pairs[:, 1]])
    edges = np.sort(mesh.face_adjacency_edges[draw], axis=1)
    return edges, pairs[draw], sharp[draw]


def _runs(edges, faces, p2, depth, occ: _Occluders, step: float) -> list[tuple[int, float, float, bool]]:
    """(edge, t0, t1, visible) for every visible or hidden run along the edges."""
    a2, b2 = p2[edges[:, 0]], p2[edges[:, 1]]
    n = np.maximum(1, np.ceil(np.linalg.norm(b2 - a2, axis=1) / step)).astype(np.int64)
    e = np.repeat(np.arange(len(edges)), n)
    t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + 0.5) / n[e]

    def hidden(e: np.ndarray, t: np.ndarray) -> np.ndarray:
        q = a2[e] + t[:, None] * (b2[e] - a2[e])
        d = depth[edges[e, 0]] + t * (depth[edges[e, 1]] - depth[edges[e, 0]])
        return occ.hidden(q, d, faces[e])

    h = hidden(e, t)
    change = np.nonzero((e[1:] == e[:-1]) & (h[1:] != h[:-1]))[0]
    lo, hi, h_lo = t[change], t[change + 1], h[change]
    for _ in range(BISECT):
        mid = (lo + hi) / 2
        same = hidden(e[change], mid) == h_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    cuts: dict[int, list[float]] = defaultdict(list)
    for i, tau in zip(e[change].tolist(), ((lo + hi) / 2).tolist(), strict=True):
        cuts[i].append(tau)
    first = np.cumsum(n) - n
    runs = []
    for i in range(len(edges)):
        ts, vis = [0.0, *cuts.get(i, []), 1.0], not h[first[i]]
        for t0, t1 in zip(ts[:-1], ts[1:], strict=False):
            runs.append((i, t0, t1, vis))
            vis = not vis
    return runs


def _chains(runs, edges, sharp) -> list[tuple[bool, str, list[tuple]]]:
    """Join runs of one visibility and kind end to end where exactly two meet: (visible, kind,
    [(edge, t0, t1) in order, each possibly reversed])."""
    ends: dict[tuple, list[int]] = defaultdict(list)

    def key(r: tuple, end: int) -> tuple:
        i, t = r[0], r[1 + end]
        cls = (r[3], bool(sharp[i]))
        if t in (0.0, 1.0):
            return (*cls, "v", int(edges[i, int(t)]))
        return (*cls, "e", i, t)

    for j, r in enumerate(runs):
        ends[key(r, 0)].append(j)
        ends[key(r, 1)].append(j)
    used = [False] * len(runs)

    def walk(j: int, end: int) -> list[tuple]:
        """From run j leaving through its `end` (0 or 1), as long as the joint has two runs."""
        out = []
        while True:
            k = key(runs[j], end)
            nxt = [m for m in ends[k] if m != j and not used[m]] if len(ends[k]) == 2 else []
            if not nxt:
                return out
            j = nxt[0]
            used[j] = True
            enter = 0 if key(runs[j], 0) == k else 1
            i, t0, t1, _ = runs[j]
            out.append((i, t0, t1) if enter == 0 else (i, t1, t0))
            end = 1 - enter

    out = []
    for j, (i, t0, t1, vis) in enumerate(runs):
        if used[j]:
            continue
        used[j] = True
        back = walk(j, 0)
        fwd = walk(j, 1)
        path = [(a, y, x) for a, x, y in reversed(back)] + [(i, t0, t1)] + fwd
        out.append((vis, "sharp" if sharp[i] else "outline", path))
    return out


def _polyline(path: list[tuple], edges: np.ndarray, p2: np.ndarray, tol: float) -> np.ndarray:
    """The chain's view-plane points, repeats and collinear interior points dropped."""
    pts = []
    for i, t0, t1 in path:
        a, b = p2[edges[i, 0]], p2[edges[i, 1]]
        pts.extend([a + t0 * (b - a), a + t1 * (b - a)])
    keep = [pts[0]]
    for p in pts[1:]:
        if np.abs(p - keep[-1]).max() > tol:
            keep.append(p)
    out = [keep[0]]
    for p, nxt in zip(keep[1:-1], keep[2:], strict=False):
        d, e = p - out[-1], nxt - out[-1]
        if abs(d[0] * e[1] - d[1] * e[0]) > tol * np.linalg.norm(e) or d @ e <= 0 or d @ d > e @ e:
            out.append(p)
    if len(keep) > 1:
        out.append(keep[-1])
    return np.round(np.array(out, dtype=np.float64), 9) + 0.0


def project_mesh(
    vertices: np.ndarray, triangles: np.ndarray, view: str, sharp_angle_deg: float = 30.0
) -> list[Stroke]:
    """The view's strokes for a closed, outward-wound mesh: sharp edges (dihedral angle above
    sharp_angle_deg) and silhouettes, split into visible and hidden runs, chained into
    polylines, hidden pieces under visible lines dropped (as views.project does). Deterministic."""
    mesh = trimesh.Trimesh(np.asarray(vertices, np.float64), np.asarray(triangles, np.int64), process=False)
    toward, x, y = frame(view)
    v = mesh.vertices
    size = float(np.ptp(v, axis=0).max()) if len(v) else 0.0
    if size <= 0.0:
        return []
    p2, depth = np.stack([v @ x, v @ y], axis=1), v @ toward
    facing = np.nonzero(mesh.face_normals @ toward > FACING)[0]
    occ = _Occluders(p2, depth, mesh.faces[facing], facing, TOL * size)
    edges, faces, sharp = _candidates(mesh, toward, sharp_angle_deg)
    runs = _runs(edges, faces, p2, depth, occ, STEP * size)
    strokes = []
    for vis, kind, path in _chains(runs, edges, sharp):
        pts = _polyline(path, edges, p2, 1e-9 * size)
        if len(pts) >= 2 and np.ptp(pts, axis=0).max() > 1e-9 * size:
            strokes.append(Stroke(vis, kind, pts))
    strokes.sort(key=lambda s: (s.visible, s.kind != "sharp"))
    strokes = _visible_first(_unique(strokes), tol=COVER * size, step=size / 200)
    for s in strokes:
        s.points.setflags(write=False)
    return strokes
