"""Fit graph drawings to a trainable canvas and place their labels clear of everything else.

Both steps act on all drawings of an edit pair at once (the union of their nodes and edges, which
share ids and positions), so an element the edit does not touch keeps its place, and its label
keeps its place, in both images.

* :func:`fit` stretches the node layout along its short side (node sizes stay) and then widens the
  frame, until the frame's aspect is within bounds: content spreads over the canvas instead of
  lying in a strip;
* :func:`place` routes self-loops (away from the other nodes, clear of the circle) and puts every
  edge label and external node label where its box is clear of every node, every other edge and
  every other label, as this module computes their geometry (:func:`routes`); a label with no
  clear place raises :class:`LabelClash`, and the pipeline draws another structure.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from renderers.diagrams.graph import (
    SLACK,
    Drawing,
    Edge,
    LabelClash,
    Node,
    bezier,
    curve_points,
    loop_points,
    reach,
)
from renderers.svg.text import advance

GAP = 4.0  # points of white between a label box and anything else
MAX_STRETCH = 2.5  # the most a layout is spread along its short side before the frame is widened
ALONG = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)  # where along an edge its label may sit, in order
ANGLES = (90, 45, 135, 0, 180, 315, 225, 270)  # directions a loop may take, degrees (y up)
XLABEL_ANGLES = (135, 45, 225, 315, 90, 180, 0, 270)  # where an external node label may sit


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in points


def fit(drawings: list[Drawing], max_aspect: float) -> list[Drawing]:
    """The drawings with their frame's aspect within ``[1 / max_aspect, max_aspect]``."""
    w, h = drawings[0].frame
    pts = np.array([(n.x, n.y) for d in drawings for n in d.nodes])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    scale, size = np.ones(2), np.array([w, h], dtype=float)
    for short in (0, 1):  # 0: too tall (widen x), 1: too wide (heighten y)
        want = size[1 - short] / max_aspect
        span = hi[short] - lo[short]
        if size[short] < want and span > 0:
            scale[short] = min(MAX_STRETCH, (want - (size[short] - span)) / span)
            size[short] += span * (scale[short] - 1)
    shift = np.maximum(size, size[::-1] / max_aspect) - size  # widening what stretching left
    size = size + shift

    def move(n: Node) -> Node:
        x = lo[0] + (n.x - lo[0]) * scale[0] + shift[0] / 2
        y = lo[1] + (n.y - lo[1]) * scale[1] + shift[1] / 2
        return replace(n, x=round(float(x), 2), y=round(float(y), 2))

    frame = (round(float(size[0]), 2), round(float(size[1]), 2))
    return [replace(d, nodes=tuple(move(n) for n in d.nodes), frame=frame) for d in drawings]


def text_size(text: str, fontsize: float) -> tuple[float, float]:
    """Width and height in points of a one-line label in DejaVu Sans."""
    return advance(text, fontsize) + 2, fontsize * 1.05


def _edge_font(e: Edge) -> float:
    return float(e.attrs.get("fontsize", 12))


def _node_font(n: Node) -> float:
    return float(n.attrs.get("fontsize", 14))


def routes(d: Drawing) -> dict[str, np.ndarray]:
    """Edge id -> the points (n, 2) of its drawn path, dense enough to measure distances."""
    nodes = {n.id: n for n in d.nodes}
    out = {}
    for e in d.edges:
        a, b = nodes.get(e.tail), nodes.get(e.head)
        if a is None or b is None:
            continue
        if e.tail == e.head:
            pts = loop_points(a, e.loop if e.loop is not None else 90.0)
        elif d.curved:
            pts = curve_points(a, b)
        else:
            pa, pb = np.array([a.x, a.y]), np.array([b.x, b.y])
            u = (pb - pa) / (np.linalg.norm(pb - pa) or 1.0)
            pts = np.array([pa + reach(a, u) * u, pb - reach(b, -u) * u])
        out[e.id] = _dense(bezier(np.asarray(pts, dtype=float)))
    return out


def _dense(pts: np.ndarray, step: float = 1.5) -> np.ndarray:
    seg = [pts[:1]]
    for p, q in zip(pts, pts[1:], strict=False):
        k = max(1, math.ceil(float(np.linalg.norm(q - p)) / step))
        seg.append(p + (q - p) * (np.arange(1, k + 1)[:, None] / k))
    return np.concatenate(seg)


def _box_gap(box: Box, pts: np.ndarray) -> float:
    """Distance from a box to the nearest of some points (0 inside)."""
    dx = np.maximum(np.maximum(box[0] - pts[:, 0], pts[:, 0] - box[2]), 0)
    dy = np.maximum(np.maximum(box[1] - pts[:, 1], pts[:, 1] - box[3]), 0)
    return float(np.hypot(dx, dy).min()) if len(pts) else math.inf


def _hits_node(box: Box, n: Node) -> bool:
    """Whether a box comes within GAP of a node's outline or inside it."""
    shape = n.attrs.get("shape", "circle")
    if shape == "plaintext":  # a label itself: its text box is what it occupies
        w, h = text_size(n.label, _node_font(n))
        a, b = w / 2, h / 2
    else:
        a = float(n.attrs.get("width", 0.45)) * 36 + (4 if shape == "doublecircle" else 0)
        b = float(n.attrs.get("height", 0.45)) * 36 + (4 if shape == "doublecircle" else 0)
    cx = min(max(n.x, box[0]), box[2]) - n.x  # the box's point nearest the centre (in each metric)
    cy = min(max(n.y, box[1]), box[3]) - n.y
    if shape in ("circle", "doublecircle", "ellipse", "point"):
        return (cx / (a + GAP)) ** 2 + (cy / (b + GAP)) ** 2 < 1
    if shape == "diamond":
        return abs(cx) / (a + GAP) + abs(cy) / (b + GAP) < 1
    return abs(cx) < a + GAP and abs(cy) < b + GAP


def _overlap(p: Box, q: Box) -> bool:
    return p[0] < q[2] + GAP and q[0] < p[2] + GAP and p[1] < q[3] + GAP and q[1] < p[3] + GAP


def _box(center, size) -> Box:
    (x, y), (w, h) = center, size
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _inside(box: Box, frame: tuple[float, float]) -> bool:
    m = SLACK - 2
    return box[0] > -m and box[1] > -m and box[2] < frame[0] + m and box[3] < frame[1] + m


def _clear(box: Box, nodes, paths: dict[str, np.ndarray], own: str | None, placed: list[Box]) -> bool:
    if any(_hits_node(box, n) for n in nodes):
        return False
    if any(_box_gap(box, p) < GAP for eid, p in paths.items() if eid != own):
        return False
    if own is not None and own in paths and _box_gap(box, paths[own]) < GAP / 2:
        return False
    return not any(_overlap(box, q) for q in placed)


def labels(d: Drawing) -> list[tuple[str, str, Box]]:
    """(owner id, text, box) of every edge label and external node label of a placed drawing."""
    out = []
    for e in d.edges:
        if e.label and e.lp is not None:
            out.append((e.id, e.label, _box(e.lp, text_size(e.label, _edge_font(e)))))
    for n in d.nodes:
        if n.attrs.get("xlabel") and n.xlp is not None:
            out.append(
                (n.id, str(n.attrs["xlabel"]), _box(n.xlp, text_size(str(n.attrs["xlabel"]), _node_font(n))))
            )
    return out


def clashes(d: Drawing) -> list[str]:
    """Labels of a placed drawing that touch a node, another edge or another label (empty when all
    are clear): the check every row passes. A label not placed by :func:`place` is a clash."""
    paths = routes(d)
    found = labels(d)
    problems = [
        f"label {e.label!r} of {e.id} has no computed place" for e in d.edges if e.label and e.lp is None
    ]
    for i, (owner, text, box) in enumerate(found):
        others = [b for j, (_, _, b) in enumerate(found) if j != i]
        if not _clear(box, d.nodes, paths, owner, others) or not _inside(box, d.frame):
            problems.append(f"label {text!r} of {owner} touches another element")
    return problems


def _union(drawings: list[Drawing]) -> Drawing:
    """One drawing holding every node and edge of the pair (the first version of each id; labels
    sized by the longest text the id has)."""
    nodes = {n.id: n for d in reversed(drawings) for n in d.nodes}
    edges: dict[str, Edge] = {}
    for d in drawings:
        for e in d.edges:
            if e.id not in edges or len(e.label) > len(edges[e.id].label):
                edges[e.id] = e
    d = drawings[0]
    return replace(
        d,
        nodes=tuple(sorted(nodes.values(), key=lambda n: n.id)),
        edges=tuple(edges[k] for k in sorted(edges)),
    )


def _unit(deg: float) -> np.ndarray:
    return np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))])


def _loop_angles(n: Node, nodes) -> list[float]:
    """Loop directions, the one farthest (in angle) from every other node first."""
    away = [math.degrees(math.atan2(m.y - n.y, m.x - n.x)) for m in nodes if m.id != n.id]

    def room(a: float) -> float:
        return min((abs((a - b + 180) % 360 - 180) for b in away), default=180.0)

    return sorted(ANGLES, key=lambda a: (-round(room(a), 3), ANGLES.index(a)))


def _edge_candidates(path: np.ndarray, size, curved: bool) -> list[tuple[float, float]]:
    """Label centres beside an edge: along it, first on the outer side of a curve (our curves bow
    to their left), above or left of a straight edge."""
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    out = []
    for t in ALONG:
        k = int(np.searchsorted(arc, t * arc[-1]))
        k = min(max(k, 1), len(path) - 1)
        u = path[k] - path[k - 1]
        u = u / (np.linalg.norm(u) or 1.0)
        normal = np.array([-u[1], u[0]])
        if not curved and (normal[1] < -1e-9 or (abs(normal[1]) <= 1e-9 and normal[0] > 0)):
            normal = -normal
        off = GAP + 1 + abs(normal[0]) * size[0] / 2 + abs(normal[1]) * size[1] / 2
        for side in (1.0, -1.0):
            c = path[k] + side * normal * off
            out.append((round(float(c[0]), 2), round(float(c[1]), 2)))
    return out


def _around(n: Node, size, angles, extra: float = 0.0) -> list[tuple[float, float]]:
    out = []
    for a in angles:
        u = _unit(a)
        dist = reach(n, u) + extra + GAP + 1 + abs(u[0]) * size[0] / 2 + abs(u[1]) * size[1] / 2
        c = np.array([n.x, n.y]) + u * dist
        out.append((round(float(c[0]), 2), round(float(c[1]), 2)))
    return out


def _fits(c, size, u: Drawing, paths: dict[str, np.ndarray], own: str, placed: list[Box]) -> bool:
    box = _box(c, size)
    return _inside(box, u.frame) and _clear(box, u.nodes, paths, own, placed)


def _path_hits(path: np.ndarray, n: Node) -> bool:
    """Whether a path comes within GAP of a node other than its own ends."""
    a = float(n.attrs.get("width", 0.45)) * 36 + GAP
    b = float(n.attrs.get("height", 0.45)) * 36 + GAP
    return bool((((path[:, 0] - n.x) / a) ** 2 + ((path[:, 1] - n.y) / b) ** 2 < 1).any())


def place(drawings: list[Drawing]) -> list[Drawing]:
    """The drawings with loops routed and every label placed (the same place in every drawing)."""
    u = _union(drawings)
    nodes = {n.id: n for n in u.nodes}
    loops: dict[str, float] = {}
    lps: dict[str, tuple[float, float]] = {}
    placed: list[Box] = []
    for e in (e for e in u.edges if e.tail == e.head):  # loops first: other labels keep clear of them
        n, size = nodes[e.tail], text_size(e.label, _edge_font(e))
        for a in _loop_angles(n, u.nodes):
            path = _dense(bezier(loop_points(n, a)))
            if any(_path_hits(path, m) for m in u.nodes if m.id != n.id):
                continue
            loops[e.id] = a
            if not e.label:
                break
            top = float(((path - [n.x, n.y]) @ _unit(a)).max()) - reach(n, _unit(a))
            c = _around(n, size, [a], extra=top)[0]
            if _fits(c, size, u, routes(_with(u, loops, lps)), e.id, placed):
                lps[e.id] = c
                placed.append(_box(c, size))
                break
            del loops[e.id]
        else:
            raise LabelClash(f"the loop of {n.label} and its label find no clear place")
    paths = routes(_with(u, loops, lps))
    for e in u.edges:
        if e.tail == e.head or not e.label:
            continue
        size = text_size(e.label, _edge_font(e))
        c = next(
            (
                c
                for c in _edge_candidates(paths[e.id], size, u.curved)
                if _fits(c, size, u, paths, e.id, placed)
            ),
            None,
        )
        if c is None:
            raise LabelClash(f"label {e.label!r} of {e.id} finds no place clear of the other edges")
        lps[e.id] = c
        placed.append(_box(c, size))
    xlps: dict[str, tuple[float, float]] = {}
    for n in u.nodes:
        if not n.attrs.get("xlabel"):
            continue
        size = text_size(str(n.attrs["xlabel"]), _node_font(n))
        c = next((c for c in _around(n, size, XLABEL_ANGLES) if _fits(c, size, u, paths, n.id, placed)), None)
        if c is None:
            raise LabelClash(f"the external label of node {n.label} finds no clear place")
        xlps[n.id] = c
        placed.append(_box(c, size))
    return [
        replace(
            d,
            nodes=tuple(replace(n, xlp=xlps.get(n.id)) for n in d.nodes),
            edges=tuple(replace(e, loop=loops.get(e.id), lp=lps.get(e.id)) for e in d.edges),
        )
        for d in drawings
    ]


def _with(u: Drawing, loops: dict[str, float], lps: dict[str, tuple[float, float]]) -> Drawing:
    return replace(u, edges=tuple(replace(e, loop=loops.get(e.id), lp=lps.get(e.id)) for e in u.edges))
