"""A 3D asset in memory: triangle parts, one per material, in a normalised frame. Plain arrays and
numbers, so an asset pickles from the child process that read it, and a renderer needs neither
trimesh nor the file.

The normalised frame: Z up, the bounding box centred on the origin in x and y and resting on
z = 0, its longest side 1. A file point p lands at scale * rotation @ (p - centre) (extra holds
the three), so poses and distances mean the same for every asset, whatever its units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFAULT_COLOR = (0.6, 0.6, 0.6, 1.0)  # a part with no material: a light grey


@dataclass
class Part:
    """One material group. Colour comes from, in order of detail: `colors` (per vertex), else
    `texture` sampled at `uv` times `color`, else `color` alone."""

    vertices: np.ndarray  # (V, 3) float64, normalised frame
    triangles: np.ndarray  # (T, 3) int64, counter-clockwise seen from outside
    normals: np.ndarray | None  # (V, 3) float32 unit, the file's own; None: the renderer computes them
    uv: np.ndarray | None  # (V, 2) float32, OpenGL convention (v up; v = 0 is the image's last row)
    color: tuple[float, float, float, float]  # base colour factor, linear RGBA
    texture: np.ndarray | None  # (H, W, 3 or 4) uint8 base-colour texture, sRGB, row 0 at the top
    colors: np.ndarray | None = None  # (V, 4) uint8 per-vertex RGBA as the file stores them (PLY, OBJ)
    name: str = ""  # the node (or object) the part came from


@dataclass
class Asset:
    parts: list[Part]
    name: str | None  # what the object is, from the file's metadata or node names where present
    extra: dict = field(default_factory=dict)  # scale, centre, rotation, up, format, counts

    @property
    def triangles(self) -> int:
        return sum(len(p.triangles) for p in self.parts)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) of all parts' vertices."""
        v = np.concatenate([p.vertices for p in self.parts])
        return v.min(axis=0), v.max(axis=0)
