"""Every drawn view re-derived by other means than the one that drew it.

The lines come from OpenCascade's exact hidden-line removal on the B-rep; the checks come from the
kernel's triangle mesh: its shaded silhouette (a depth buffer) against the region the drawn
outline encloses, its projected extent against the view's extent, and its volume against the
kernel's. The hole tally read from the solid must equal the one the spec asks for.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import binary_dilation, binary_fill_holes

from renderers.cad.brep import expected_facts
from renderers.cad.drawing import Place
from renderers.cad.mesh import mesh_facts
from renderers.cad.part import PartViews
from renderers.cad.shade import pixel_box, render_view
from renderers.cad.views import frame
from renderers.mesh.render import silhouette_iou


def outline(
    part: PartViews, view: str, place: Place, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(lines, region) over the canvas pixels in ``box``: the view's visible lines (1 px wide)
    and the pixels they enclose, holes filled."""
    x0, y0, x1, y1 = box
    image = Image.new("1", (x1 - x0, y1 - y0), 0)
    draw = ImageDraw.Draw(image)
    for s in part.strokes[view]:
        if s.visible:
            pts = place.px(s.points) - [x0, y0]
            draw.line([tuple(p) for p in pts.tolist()], fill=1, width=1)
    lines = np.asarray(image, dtype=bool)
    return lines, binary_fill_holes(lines)


def mismatch(shaded: np.ndarray, lines: np.ndarray, region: np.ndarray) -> float:
    """Pixels where the silhouette and the drawn region disagree more than a pixel away from a
    drawn line, as a share of the region: 0 for a right drawing whatever its thinness (IoU
    punishes a strip a few pixels tall for its half-pixel edges)."""
    band = binary_dilation(lines, iterations=1)
    return float(((shaded ^ region) & ~band).sum()) / max(int(region.sum()), 1)


def extent_error(part: PartViews, view: str) -> float:
    """Largest gap between the view's drawn extent and the mesh's projected extent, as a share of
    the part's size."""
    strokes = [s.points for s in part.strokes[view] if s.visible or view != "iso"]
    drawn = np.vstack(strokes)
    _, x, y = frame(view)
    proj = part.vertices @ np.column_stack([x, y])  # (V, 2) view-plane mm
    size = float(np.ptp(part.vertices, axis=0).max())
    gap = np.abs(np.concatenate([drawn.min(0) - proj.min(0), drawn.max(0) - proj.max(0)]))
    return float(gap.max()) / size


def measure(spec: dict | None, part: PartViews, places: dict[str, Place], size: tuple[int, int]):
    """(scores, problem): the worst silhouette IoU, mismatch and extent error over the drawn views, the
    volume error; a problem where the solid's holes are not the spec's."""
    ious, misses, gaps = [], [], []
    for view, place in places.items():
        box = pixel_box(place, size)
        shaded = binary_fill_holes(render_view(part, view, place, box).mask)
        lines, region = outline(part, view, place, box)
        ious.append(silhouette_iou(shaded, region))
        misses.append(mismatch(shaded, lines, region))
        gaps.append(extent_error(part, view))
    mesh = mesh_facts(part.vertices, part.triangles)
    kernel = part.facts["volume"]
    scores = {
        "silhouette_iou": round(min(ious), 4),
        "silhouette_mismatch": round(max(misses), 6),
        "bbox_error": round(max(gaps), 6),
        "volume_error": round(abs(mesh["volume"] - kernel) / kernel, 6) if kernel else 1.0,
    }
    problem = None
    if spec is not None and "features" in spec:
        want, got = expected_facts(spec), part.facts
        for key in ("holes", "blind_holes", "counterbores"):
            if want[key] != got[key]:
                problem = f"{key} of the solid {got[key]} are not the spec's {want[key]}"
                break
        openings = through_openings(spec)
        if problem is None and mesh["genus"] != openings:
            problem = f"topology: the mesh has genus {mesh['genus']}, the spec {openings} through openings"
    return scores, problem


def through_openings(spec: dict) -> int:
    """Through holes and through slots the spec asks for: the genus a closed mesh of the part
    must have (blind holes, pockets, keyways and fillets add none), counted from the spec alone."""
    want = expected_facts(spec)
    holes = sum(h["count"] for h in want["holes"]) - sum(h["count"] for h in want["blind_holes"])
    slots = sum(1 for f in spec["features"] if f["type"] == "slot" and f.get("through", True))
    return holes + slots
