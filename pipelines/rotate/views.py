"""Pure image helpers of rotation rows: backgrounds, orbit cameras, the change measure, the
side-by-side image of an und row and the grid of a turntable row."""

from __future__ import annotations

import numpy as np

from pipelines.rotate.config import RenderConfig
from pipelines.rotate.poses import Pose
from renderers.mesh import PerspectiveCamera, fit_distance, gradient_background, orbit
from renderers.mesh.scene import Prepared, Render
from synth.sampling import pick

PLAIN = ((255, 255, 255), (242, 242, 242), (236, 240, 246), (246, 241, 232))
GRADIENTS = (
    ((252, 252, 254), (200, 205, 215)),
    ((255, 250, 240), (214, 204, 188)),
    ((236, 245, 255), (176, 196, 222)),
)


def background(rng: np.random.Generator, kind: str, size: int) -> tuple[np.ndarray, dict]:
    """((size, size, 3) uint8 image, its record for the spec): light, so every object stands out."""
    if kind == "plain":
        rgb = pick(rng, PLAIN)
        image = np.empty((size, size, 3), np.uint8)
        image[:] = rgb
        return image, {"kind": kind, "rgb": list(rgb)}
    top, bottom = pick(rng, GRADIENTS)
    return gradient_background((size, size), top, bottom), {
        "kind": kind,
        "top": list(top),
        "bottom": list(bottom),
    }


def cameras(asset: Prepared, pose: Pose, render: RenderConfig) -> tuple[PerspectiveCamera, PerspectiveCamera]:
    """Source and target orbit cameras at one distance that frames the object from every side."""
    source, target = orbit_cameras(asset, [(pose.azimuth, pose.elevation), pose.target], render, render.size)
    return source, target


def orbit_cameras(
    asset: Prepared, views: list[tuple[float, float]], render: RenderConfig, size: int
) -> list[PerspectiveCamera]:
    """Orbit cameras at (azimuth, elevation) degrees, all at the one distance that frames the object
    from every side, so the object keeps its size from view to view."""
    points = np.concatenate([p.positions for p in asset.parts])
    distance = fit_distance(points, views[0][1], render.fov_y_deg, render.margin)
    return [orbit(a, e, distance, fov_y_deg=render.fov_y_deg, size=(size, size)) for a, e in views]


def rotation_change(a: Render, b: Render) -> float:
    """Mean absolute difference (0..1) of the two views over the union of the object's masks: the
    background, identical in both, would dilute it by the object's size; 0 when nothing shows."""
    union = a.mask | b.mask
    if not union.any():
        return 0.0
    diff = np.abs(a.rgb.astype(np.int16) - b.rgb.astype(np.int16)).mean(axis=-1)
    return float(diff[union].mean() / 255.0)


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int) -> np.ndarray:
    """(H, 2W + gap, 3): the two views with a white gap between them, so they read as two images."""
    h = left.shape[0]
    return np.concatenate([left, np.full((h, gap, 3), 255, np.uint8), right], axis=1)


def grid(images: list[np.ndarray], columns: int) -> np.ndarray:
    """(rows * H, columns * W, ...) the images row-major from the top left, no gaps."""
    rows = [np.concatenate(images[i : i + columns], axis=1) for i in range(0, len(images), columns)]
    return np.concatenate(rows, axis=0)


def mask_png_array(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8 0/255: a mask as the image trainers read."""
    return np.where(mask, 255, 0).astype(np.uint8)
