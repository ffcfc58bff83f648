"""Shaded renders of a part's views from the line drawing's own cameras: the same view frame,
scale and placement, so the shade sits exactly under the lines and its silhouette can check
their outline."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from renderers.cad.drawing import Place
from renderers.cad.part import PartViews
from renderers.cad.views import frame
from renderers.mesh.render import OrthoCamera, Shaded, shade


def pixel_box(place: Place, size: tuple[int, int], pad: int = 3) -> tuple[int, int, int, int]:
    """The view's box in whole pixels, padded, within the canvas."""
    x0, y0, x1, y1 = place.box
    return (
        max(0, math.floor(x0) - pad),
        max(0, math.floor(y0) - pad),
        min(size[0], math.ceil(x1) + pad),
        min(size[1], math.ceil(y1) + pad),
    )


def camera(view: str, place: Place, box: tuple[int, int, int, int]) -> OrthoCamera:
    """The camera that renders exactly the canvas pixels in ``box`` of the drawing's view."""
    toward, x, y = frame(view)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    centre = ((x0 + w / 2 - place.ox) / place.scale, (place.oy - (y0 + h / 2)) / place.scale)
    return OrthoCamera(
        toward=tuple(toward.tolist()),
        x=tuple(x.tolist()),
        y=tuple(y.tolist()),
        centre=centre,
        scale=place.scale,
        size=(w, h),
    )


def render_view(part: PartViews, view: str, place: Place, box: tuple[int, int, int, int]) -> Shaded:
    """The canvas pixels in ``box``, shaded, with the part where the drawing puts this view."""
    return shade(part.vertices, part.triangles, camera(view, place, box))


def shade_view(part: PartViews, view: str, place: Place, size: tuple[int, int]) -> tuple[bytes, tuple]:
    """The shaded view as an RGBA PNG of its box (transparent off the part) and the box."""
    box = pixel_box(place, size)
    shaded = render_view(part, view, place, box)
    rgba = np.dstack([shaded.rgb, np.where(shaded.mask, 255, 0).astype(np.uint8)])
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", compress_level=6)
    return buf.getvalue(), box
