"""Graphviz drawings: pinned positions, untrusted labels as plain text, no file-reading attributes."""

from __future__ import annotations

import pytest

from renderers.diagrams.graph import Drawing, Edge, Node, UnsafeDot, changed, to_dot
from renderers.svg.safe import SvgRenderer
from renderers.svg.text import text_boxes


def _drawing(label: str = "5", **attrs) -> Drawing:
    nodes = (Node("n1", label, 40, 40, attrs), Node("n2", "7", 120, 40))
    return Drawing(nodes, (Edge("e12", "n1", "n2", "w"),), directed=True, frame=(160, 80))


def test_html_like_label_is_plain_text():
    evil = '<IMG SRC="file:///etc/passwd"/>'
    d = _drawing(evil)
    dot = to_dot(d)
    assert 'label="<IMG SRC=\\"file:///etc/passwd\\"/>"' in dot  # quoted, not <...> HTML
    svg = d.svg()
    assert "&lt;IMG SRC=" in svg and "<image" not in svg.lower()
    SvgRenderer().rgb(svg)  # and it renders (no reference to fetch)


def test_escape_sequences_are_not_expanded():
    svg = _drawing("\\N \\G").svg()
    texts = [t["text"] for t in text_boxes(svg)]
    assert "\\N \\G" in texts  # not the node's name or the graph's


@pytest.mark.parametrize(
    "attrs", [{"image": "/etc/passwd"}, {"shapefile": "/etc/passwd"}, {"fontpath": "/"}, {"shape": "epsf"}]
)
def test_file_reading_attributes_are_refused(attrs):
    with pytest.raises(UnsafeDot):
        to_dot(_drawing(**attrs))


def test_pinned_positions_keep_untouched_elements_identical():
    a, b = _drawing("5"), _drawing("6")
    assert changed(a.elements(), b.elements()) == {"n1"}  # a new label: the outline, so the edge, stays
    wider = _drawing("5", shape="doublecircle")
    assert changed(a.elements(), wider.elements()) == {"n1", "e12"}  # the edge is clipped at the outline
    ra, rb = SvgRenderer().rgb(a.svg()), SvgRenderer().rgb(b.svg())
    assert ra.shape == rb.shape
    right = slice(ra.shape[1] // 2, None)
    assert (ra[:, right] == rb[:, right]).all()  # n2, far from the change, is the same pixels
