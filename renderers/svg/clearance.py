"""Whether the texts of an SVG stand clear of everything else it draws.

The drawing is rendered once without its ``<text>`` elements; inside each text's box (from
:func:`renderers.svg.text.text_boxes`) the pixels should then be one plain colour: the background,
or the fill of the shape the text sits in. Pixels far from the box's median colour are something
else drawn there (an edge, an outline, a tick, another shape's border). A white plate under a label
(as physics labels over field lines have) is kept, so what it covers counts as covered.
"""

from __future__ import annotations

import numpy as np

from renderers.svg.safe import SvgRenderer, _local, parse, serialize
from renderers.svg.text import text_boxes

INK = 80  # a channel this far from the box's median colour is a stroke, not the plain ground
TOLERANCE = 2  # pixels of ink a box may hold (antialiasing at its rim)


def without_text(svg: str | bytes) -> bytes:
    """The same SVG with every ``<text>`` element removed."""
    root = parse(svg)
    for parent in root.iter():
        for child in list(parent):
            if _local(child.tag) == "text":
                parent.remove(child)
    return serialize(root)


def crowded_texts(renderer: SvgRenderer, svg: str | bytes, size: tuple[int, int]) -> list[tuple[str, int]]:
    """``(text, pixels)`` for each text whose box (shrunk by a pixel) holds more than TOLERANCE
    pixels of other ink, at the given output size; empty when every text is clear."""
    bare = renderer.rgb(without_text(svg), *size).astype(np.int16)
    h, w = bare.shape[:2]
    out = []
    for t in text_boxes(svg, *size):
        x0, y0, x1, y1 = t["bbox"]
        x0, y0 = max(0, int(np.ceil(x0)) + 1), max(0, int(np.ceil(y0)) + 1)
        x1, y1 = min(w, int(x1) - 1), min(h, int(y1) - 1)
        if x1 <= x0 or y1 <= y0:
            continue
        patch = bare[y0:y1, x0:x1].reshape(-1, 3)
        ink = int((np.abs(patch - np.median(patch, axis=0)).max(axis=1) > INK).sum())
        if ink > TOLERANCE:
            out.append((t["text"], ink))
    return out
