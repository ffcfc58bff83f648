"""Biology figures as SVG: a scene (elements with absolute coordinates) in, SVG text out.

As in :mod:`renderers.svg.physics`, each element becomes one ``<g id=...>`` drawn only from its
own fields, so an element an edit does not touch draws identical pixels in both images of a
pair and the edit mask is the union of the changed elements. Coordinates are SVG user units
(y down). Texts are ``<text>`` in DejaVu Sans, which the OCR check reads back.
"""

from __future__ import annotations

from typing import Any, ClassVar

from renderers.svg import physics
from renderers.svg.physics import _f, _pts, arrow, line, text

STROKE = "#222222"


def _cell(e: dict[str, Any]) -> str:
    """A box with an optional centred text (a Punnett cell, a codon, an amino acid)."""
    x, y, w, h = e["x"], e["y"], e["w"], e["h"]
    dash = f' stroke-dasharray="{e["dash"]}"' if e.get("dash") else ""
    out = (
        f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="{_f(e.get("rx", 0))}" '
        f'fill="{e.get("fill", "white")}" stroke="{e.get("stroke", STROKE)}" stroke-width="{_f(e.get("sw", 2))}"{dash}/>'
    )
    if e.get("text"):
        size = e.get("size", 22)
        out += text(x + w / 2, y + h / 2 + 0.36 * size, e["text"], size, color=e.get("color", STROKE))
    return out


def _label(e: dict[str, Any]) -> str:
    return text(
        e["x"], e["y"], e["text"], e.get("size", 18), e.get("anchor", "middle"), e.get("color", STROKE)
    )


def _lines(e: dict[str, Any]) -> str:
    """Polylines of one colour and width (mating lines, sibship bars, grid rules)."""
    w, color = e.get("width", 2.0), e.get("color", STROKE)
    return "".join(
        f'<polyline points="{_pts(p)}" fill="none" stroke="{color}" stroke-width="{_f(w)}"/>'
        for p in e["paths"]
    )


def _person(e: dict[str, Any]) -> str:
    """A pedigree symbol: square (male) or circle (female), filled when affected, with the stem
    that joins it to its sibship bar (``stem``: the bar's y) when it has parents in the chart."""
    x, y, r = e["x"], e["y"], e["r"]
    fill = "#333333" if e["affected"] else "white"
    out = line(x, e["stem"], x, y - r, 2) if e.get("stem") is not None else ""
    if e["sex"] == "M":
        out += f'<rect x="{_f(x - r)}" y="{_f(y - r)}" width="{_f(2 * r)}" height="{_f(2 * r)}" fill="{fill}" stroke="{STROKE}" stroke-width="2.5"/>'
    else:
        out += f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="{fill}" stroke="{STROKE}" stroke-width="2.5"/>'
    return out


def _arrow(e: dict[str, Any]) -> str:
    return arrow(e["x1"], e["y1"], e["x2"], e["y2"], e.get("width", 2.5), e.get("color", STROKE))


DRAW = {"cell": _cell, "label": _label, "lines": _lines, "person": _person, "arrow": _arrow}


class Figure(physics.Figure):
    """A biology scene as a drawing for the diagram stages."""

    draw: ClassVar[physics.Draw] = DRAW


def cell(eid: str, x: float, y: float, w: float, h: float, label: str = "", **style: Any) -> dict[str, Any]:
    return {"id": eid, "type": "cell", "x": x, "y": y, "w": w, "h": h, "text": label, **style}


def label(
    eid: str, x: float, y: float, s: str, size: float = 18, anchor: str = "middle", **style: Any
) -> dict:
    return {"id": eid, "type": "label", "x": x, "y": y, "text": s, "size": size, "anchor": anchor, **style}
