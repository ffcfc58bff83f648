"""A drawing of nodes and edges at given positions, through Graphviz, as SVG.

Positions are ours, never Graphviz's: a structure's layout is computed once for both images of an
edit pair and written into the DOT as pinned ``pos`` (rendered with ``neato -n2``). Edges are
straight, or curved along a Bezier we compute from their two ends, so an edge's route depends on
its ends alone, and an element the edit does not touch is drawn at exactly the same place in both
images.

Labels are untrusted text: they go through ``graphviz.escape`` and ``graphviz.nohtml`` (a label
in ``<...>`` would otherwise be an HTML-like label that can pull in ``<IMG SRC>``), and only the
attributes in :data:`NODE_ATTRS` / :data:`EDGE_ATTRS` are passed; attributes that read files
(``image``, ``shapefile``, ``fontpath``, ...) cannot be expressed.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

#: Attribute name -> allowed values (None: any short value of the given type).
NODE_ATTRS = {
    "shape": {"circle", "doublecircle", "box", "ellipse", "diamond", "plaintext", "point", "Mrecord", "rect"},
    "style": {"filled", "filled,rounded", "rounded", "invis", "bold", "filled,bold"},
    "fillcolor": None,
    "color": None,
    "fontcolor": None,
    "penwidth": None,
    "width": None,
    "height": None,
    "fontsize": None,
    "xlabel": None,
}
EDGE_ATTRS = {
    "color": None,
    "fontcolor": None,
    "penwidth": None,
    "style": {"solid", "dashed", "bold", "invis"},
    "arrowhead": {"normal", "none", "vee", "empty"},
    "fontsize": None,
}
FONT = "DejaVu Sans"
TIMEOUT_S = 20.0


class DotError(ValueError):
    reason = "render_error"


class UnsafeDot(DotError):
    reason = "unsafe_input"


class OutOfFrame(DotError):
    """The drawing does not fit its frame: draw another structure."""


class LabelClash(OutOfFrame):
    """A label finds no place clear of the nodes, edges, strokes and other labels: draw another
    structure or scene (graph layouts and physics figures alike)."""


class DotTimeout(DotError):
    reason = "render_timeout"


@dataclass(frozen=True)
class Node:
    id: str  # the SVG group id; also the DOT name
    label: str
    x: float  # points, y up (Graphviz's convention)
    y: float
    attrs: dict[str, Any] = field(default_factory=dict)
    xlp: tuple[float, float] | None = None  # centre of the ``xlabel``, placed by layout.place


@dataclass(frozen=True)
class Edge:
    id: str
    tail: str
    head: str
    label: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    lp: tuple[float, float] | None = None  # centre of the label, placed by layout.place
    loop: float | None = None  # a self-loop's direction in degrees (y up), chosen by layout.place


@dataclass(frozen=True)
class Drawing:
    """Everything one image shows, with its own positions: what an edit pair compares."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    directed: bool
    frame: tuple[float, float]  # points
    curved: bool = False

    def elements(self) -> dict[str, tuple]:
        """Element id -> everything that decides how it is drawn."""
        out: dict[str, tuple] = {}
        for n in self.nodes:
            out[n.id] = ("node", n.label, round(n.x, 2), round(n.y, 2), tuple(sorted(n.attrs.items())), n.xlp)
        geometry = {
            n.id: (n.x, n.y, *(n.attrs.get(k) for k in ("shape", "width", "height"))) for n in self.nodes
        }
        for e in self.edges:  # an edge is clipped at its ends' outlines: their geometry is part of it
            ends = (geometry[e.tail], geometry[e.head])
            out[e.id] = ("edge", e.tail, e.head, e.label, tuple(sorted(e.attrs.items())), ends, e.lp, e.loop)
        return out

    def svg(self, timeout: float = 20.0) -> str:
        return check_canvas(dot_to_svg(to_dot(self), timeout), self.frame)

    def program(self) -> tuple[str, str]:
        """(language, source) that reproduces the image: DOT for ``neato -n2``."""
        return "dot", to_dot(self)


ARROW = 8.0  # points: Graphviz's arrow length at arrowsize 0.8
BEND = 0.18  # curved edges bow to the left of their direction by this share of their length
SLACK = 24.0  # points of canvas beyond the frame, for loops and labels near its edge


def check_canvas(svg: str, frame: tuple[float, float]) -> str:
    """Graphviz sizes the canvas to the drawing's bounding box and moves every coordinate with its
    lower-left corner; the two invisible corner nodes pin that box. A drawing that reaches beyond
    them would shift everything, so it is refused (:class:`OutOfFrame`)."""
    m = re.search(r'viewBox="[-0-9.]+ [-0-9.]+ ([0-9.]+) ([0-9.]+)"', svg)
    want = (frame[0] + 2 * SLACK, frame[1] + 2 * SLACK)
    if not m or any(abs(float(g) - w) > 20 for g, w in zip(m.groups(), want, strict=True)):
        raise OutOfFrame(f"the drawing reaches beyond its {frame[0]:.0f}x{frame[1]:.0f} pt frame")
    return svg


def changed(a: dict[str, tuple], b: dict[str, tuple]) -> set[str]:
    """Ids drawn differently in two element maps (added, removed or altered)."""
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def label(text: str) -> str:
    """Untrusted text as a plain DOT label: no HTML, no ``\\N``-style escapes."""
    return graphviz.nohtml(graphviz.escape(str(text)))


def _attrs(given: dict[str, Any], allowed: dict[str, set | None]) -> dict[str, str]:
    out = {}
    for key, value in sorted(given.items()):
        if key not in allowed:
            raise UnsafeDot(f"DOT attribute {key!r} is not allowed (allowed: {', '.join(sorted(allowed))})")
        value = str(value)
        choices = allowed[key]
        if (choices is not None and value not in choices) or len(value) > 64:
            raise UnsafeDot(f"DOT attribute {key}={value[:40]!r} is not allowed")
        out[key] = label(value) if key == "xlabel" else graphviz.escape(value)
    return out


def to_dot(d: Drawing) -> str:
    """DOT source with every position pinned. The frame (width, height in points) is marked by two
    invisible corner nodes, so both images of a pair share one canvas."""
    g = (graphviz.Digraph if d.directed else graphviz.Graph)(
        graph_attr={"splines": "line", "outputorder": "edgesfirst", "pad": "0.1"},
        node_attr={
            "fontname": FONT,
            "fontsize": "14",
            "width": "0.45",
            "height": "0.45",
            "fixedsize": "true",
        },
        edge_attr={"fontname": FONT, "fontsize": "12", "arrowsize": "0.8"},
    )
    w, h = d.frame
    for i, (x, y) in enumerate(((-SLACK, -SLACK), (w + SLACK, h + SLACK))):
        g.node(f"frame{i}", label="", pos=f"{x:.2f},{y:.2f}!", style="invis", width="0.01", height="0.01")
    for n in d.nodes:
        xlp = {"xlp": _pt(n.xlp)} if n.xlp is not None else {}
        g.node(
            n.id,
            label=label(n.label),
            id=n.id,
            pos=f"{n.x:.2f},{n.y:.2f}!",
            **xlp,
            **_attrs(n.attrs, NODE_ATTRS),
        )
    nodes = {n.id: n for n in d.nodes}
    for e in d.edges:
        geometry = {}
        a, b = nodes.get(e.tail), nodes.get(e.head)
        pts = None
        if a is not None and b is not None:
            if e.tail == e.head:
                pts = loop_points(a, e.loop) if e.loop is not None else None
            elif d.curved:
                pts = curve_points(a, b)
            elif e.lp is not None:  # Graphviz honours a label's place only on an edge with a route
                u = _toward(a, b)
                pts = np.array([[a.x, a.y] + reach(a, u) * u, [b.x, b.y] - reach(b, -u) * u])
        if pts is not None:
            geometry["pos"] = _pos(pts, d.directed)
            if e.label and e.lp is not None:
                geometry["lp"] = _pt(e.lp)
        g.edge(
            e.tail,
            e.head,
            label=label(e.label) if e.label else None,
            id=e.id,
            **geometry,
            **_attrs(e.attrs, EDGE_ATTRS),
        )
    return g.source


def reach(n: Node, toward: np.ndarray) -> float:
    """Distance from a node's centre to its outline along the unit vector ``toward``."""
    a = float(n.attrs.get("width", 0.45)) * 36  # half width, points
    b = float(n.attrs.get("height", 0.45)) * 36
    dx, dy = abs(float(toward[0])) + 1e-9, abs(float(toward[1])) + 1e-9
    shape = n.attrs.get("shape", "circle")
    if shape in ("box", "rect", "Mrecord", "plaintext"):
        return min(a / dx, b / dy)
    if shape == "diamond":
        return 1 / (dx / a + dy / b)
    if shape == "point":
        return 2.0
    extra = 4.0 if shape == "doublecircle" else 0.0
    return 1 / np.hypot(dx / a, dy / b) + extra  # circle, ellipse


def _toward(a: Node, b: Node) -> np.ndarray:
    d = np.array([b.x - a.x, b.y - a.y])
    return d / (float(np.hypot(*d)) or 1.0)


def _pt(p: tuple[float, float]) -> str:
    return f"{p[0]:.2f},{p[1]:.2f}"


def bezier(pts: np.ndarray, n: int = 40) -> np.ndarray:
    """Points along a route: a cubic Bezier's four points sampled, a segment's two kept."""
    if len(pts) == 2:
        return np.asarray(pts, dtype=float)
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2, p3 = pts
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3


def _pos(pts: np.ndarray, directed: bool) -> str:
    """A route as Graphviz's ``pos``: a cubic Bezier ending at the tip; a directed edge's curve
    stops an arrow's length short of it, where the arrowhead begins."""
    if len(pts) == 2:  # a straight route: its Bezier has its controls on the line
        p, q = pts
        pts = np.array([p, p + (q - p) / 3, p + 2 * (q - p) / 3, q])
    start, c1, c2, tip = pts
    if not directed:
        return " ".join(_pt(p) for p in pts)
    base = tip - ARROW * (tip - c2) / (np.linalg.norm(tip - c2) or 1.0)
    return f"e,{_pt(tip)} " + " ".join(_pt(p) for p in (start, c1, c2, base))


def curve_points(a: Node, b: Node) -> np.ndarray:
    """The route of a curved edge from a to b, computed from its two ends alone (Graphviz's own
    curved splines bend according to the other edges, which would move untouched edges): a cubic
    Bezier (start, control, control, tip) bowing to the left of its direction."""
    pa, pb = np.array([a.x, a.y]), np.array([b.x, b.y])
    d = pb - pa
    length = float(np.hypot(*d)) or 1.0
    normal = np.array([-d[1], d[0]]) / length
    ctrl = (pa + pb) / 2 + normal * BEND * length
    ua, ub = (ctrl - pa) / np.linalg.norm(ctrl - pa), (ctrl - pb) / np.linalg.norm(ctrl - pb)
    start, tip = pa + reach(a, ua) * ua, pb + reach(b, ub) * ub
    return np.array([start, start + 2 / 3 * (ctrl - start), tip + 2 / 3 * (ctrl - tip), tip])


LOOP_HEIGHT = 30.0  # points from a node's outline to the far side of its self-loop
LOOP_FOOT = 26.0  # degrees either side of the loop's direction where it leaves and meets the node
LOOP_SPREAD = 48.0  # degrees either side of the direction of its two control points


def loop_points(n: Node, angle: float) -> np.ndarray:
    """A self-loop's route (start, control, control, tip) in direction ``angle`` (degrees, y up):
    it leaves and meets the outline LOOP_FOOT either side of that direction and reaches
    LOOP_HEIGHT beyond the outline, so it stands clear of the circle, with room for a label
    beyond it."""
    c = np.array([n.x, n.y])

    def unit(deg: float) -> np.ndarray:
        return np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg))])

    r = reach(n, unit(angle))
    far = (r + LOOP_HEIGHT - 0.25 * r * np.cos(np.radians(LOOP_FOOT))) / (
        0.75 * np.cos(np.radians(LOOP_SPREAD))
    )
    u0, u1 = unit(angle + LOOP_FOOT), unit(angle - LOOP_FOOT)
    return np.array(
        [
            c + reach(n, u0) * u0,
            c + far * unit(angle + LOOP_SPREAD),
            c + far * unit(angle - LOOP_SPREAD),
            c + reach(n, u1) * u1,
        ]
    )


def dot_to_svg(dot: str, timeout: float = TIMEOUT_S) -> str:
    """Run ``neato -n2 -Tsvg`` (positions as given) with a timeout."""
    try:
        done = subprocess.run(
            ["neato", "-n2", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise DotTimeout(f"Graphviz ran past {timeout} s") from e
    except FileNotFoundError as e:
        raise DotError(
            "Graphviz's `neato` is not installed: apt-get install graphviz (make setup does)"
        ) from e
    if done.returncode != 0:
        raise DotError(f"Graphviz failed: {done.stderr.decode(errors='replace')[:300]}")
    return done.stdout.decode()
