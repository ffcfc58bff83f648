"""Graph layouts fitted to the canvas, self-loops clear of their node, labels clear of every node,
edge and label (the DFA of issue 17: the loop of q0 tight against its circle with its label
inside, and the label of q2 -> q1 on the q2 -> q0 edge)."""

from __future__ import annotations

import numpy as np

from pipelines.cs_diagram.kinds import KINDS
from renderers.diagrams import layout as L
from renderers.diagrams.graph import Drawing, Edge, Node, reach
from renderers.svg.clearance import crowded_texts
from renderers.svg.safe import SvgRenderer, intrinsic_size, parse

DFA = {
    "kind": "dfa",
    "states": ["q0", "q1", "q2"],
    "alphabet": ["a", "b"],
    "start": "q0",
    "accept": ["q2"],
    "delta": [
        ["q0", "a", "q1"],
        ["q0", "b", "q0"],
        ["q1", "a", "q2"],
        ["q1", "b", "q0"],
        ["q2", "a", "q1"],
        ["q2", "b", "q0"],
    ],
}


def _placed(structures):
    return L.place(L.fit(KINDS["dfa"].draw(structures), 1.5))


def test_self_loop_stands_clear_with_its_label_outside():
    (d,) = _placed([DFA])
    q0 = next(n for n in d.nodes if n.id == "sq0")
    loop = next(e for e in d.edges if e.tail == e.head == "sq0")
    path = L.routes(d)[loop.id]
    dist = np.hypot(path[:, 0] - q0.x, path[:, 1] - q0.y)
    u = np.array([np.cos(np.radians(loop.loop)), np.sin(np.radians(loop.loop))])
    r = reach(q0, u)
    assert dist.min() > r - 1  # never inside the circle
    assert dist.max() > r + 20  # not drawn tight against it
    centre = np.array(loop.lp)
    assert np.hypot(*(centre - [q0.x, q0.y])) > dist.max()  # the label beyond the loop, not inside
    box = L._box(loop.lp, L.text_size(loop.label, 12))
    assert L._box_gap(box, path) >= L.GAP / 2


def test_edge_labels_clear_other_edges_and_nodes():
    (d,) = _placed([DFA])
    assert L.clashes(d) == []
    paths = L.routes(d)
    for owner, text, box in L.labels(d):
        for eid, path in paths.items():
            if eid != owner:
                assert L._box_gap(box, path) >= L.GAP, (text, owner, eid)
    svg = d.svg()
    w, h = intrinsic_size(parse(svg))
    assert crowded_texts(SvgRenderer(), svg, (round(w), round(h))) == []


def test_a_label_on_another_edge_is_a_clash():
    nodes = (Node("a", "a", 40, 40), Node("b", "b", 200, 40), Node("c", "c", 120, 120))
    edges = (Edge("ab", "a", "b"), Edge("ac", "a", "c", "x", lp=(120, 40)))  # "x" sits on a-b
    assert L.clashes(Drawing(nodes, edges, directed=True, frame=(240, 160)))


def test_pair_keeps_untouched_labels_and_loops_in_place():
    target = {**DFA, "accept": ["q1", "q2"]}
    source, edited = _placed([DFA, target])
    assert source.frame == edited.frame
    a = {e.id: (e.lp, e.loop) for e in source.edges}
    b = {e.id: (e.lp, e.loop) for e in edited.edges}
    assert a == b


def test_fit_spreads_a_strip_within_the_aspect():
    strip = Drawing(
        tuple(Node(f"n{i}", str(i), 30 + 70 * i, 30 + 20 * (i % 2)) for i in range(8)), (), True, (550, 80)
    )
    (d,) = L.fit([strip], 1.5)
    w, h = d.frame
    assert max(w, h) / min(w, h) <= 1.5 + 1e-6
    ys = sorted({n.y for n in d.nodes})
    assert ys[1] - ys[0] > 20  # the layout spread, not only padded
