"""The canvas every diagram row gets: within the configured aspect and short-side bounds, with
labels clear of everything else drawn.

Graph drawings (Graphviz) are fitted and their labels placed by
:mod:`renderers.diagrams.layout`; other drawings (physics scenes, charts) have fixed canvases.
Every row is then checked on its pixels (:func:`renderers.svg.clearance.crowded_texts`) and on
its size (:func:`shape_problem`), whatever drew it.
"""

from __future__ import annotations

from renderers.diagrams.graph import Drawing
from renderers.diagrams.layout import fit, place
from synth.decision import Verdict

__all__ = ["prepare", "shape_problem"]


def prepare(drawings: list, aspect_cap: float) -> list:
    """Graph drawings fitted to the aspect bound with their loops and labels placed (raises
    :class:`renderers.diagrams.graph.LabelClash` where a label finds no clear place); other
    drawings as they are."""
    if not drawings or not all(isinstance(d, Drawing) for d in drawings):
        return drawings
    return place(fit(drawings, aspect_cap))


def shape_problem(size: tuple[int, int], min_side: int, max_aspect: float) -> Verdict:
    """``(reason, detail)`` where an output size breaks the bounds, else None."""
    w, h = size
    if max(w, h) / min(w, h) > max_aspect + 1e-9:
        return "bad_aspect", f"{w}x{h} has an aspect beyond {max_aspect:g}"
    if min(w, h) < min_side:
        return "too_small", f"{w}x{h} has a shorter side under {min_side} px"
    return None
