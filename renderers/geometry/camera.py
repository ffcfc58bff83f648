"""How a solid is seen: a camera that maps 3D points to canvas pixels (SVG coordinates, y down).

Two kinds. ``oblique`` is the cabinet projection of Chinese and US textbooks (斜二测画法): the
receding y axis drawn at 45 degrees and at half length, so screen x = x + (y/2)cos45 and screen
up = z + (y/2)sin45; it collapses one direction, which is therefore the view direction. A
``perspective`` camera is a pinhole at ``eye`` looking at ``target``. Both are one homogeneous 3x4
matrix (:meth:`Camera.matrix`), so straight lines stay straight and crossings of projected curves
can be solved exactly. A camera is fitted to a canvas by a 2D scale and offset only, which changes
no visibility: an edit pair fits once on the union of both figures and shares the camera.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

C45 = math.sqrt(2) / 2
# The direction the oblique projection collapses, towards the viewer (y < 0): the front face
# y = min, the top and the right face are seen.
OBLIQUE_VIEW = np.array([C45 / 2, -1.0, C45 / 2]) / math.sqrt(1 + C45**2 / 2)


@dataclass(frozen=True)
class Camera:
    kind: str  # oblique | perspective
    azimuth: float = 0.0  # degrees off the front (-y), positive towards +x
    elevation: float = 0.0  # degrees above the horizon
    distance: float = 0.0  # eye to target, model units
    fov: float = 40.0  # degrees, vertical
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0  # pixels per unit of the unfitted screen plane
    offset: tuple[float, float] = (0.0, 0.0)  # pixel position of the unfitted screen origin

    @classmethod
    def oblique(cls) -> Camera:
        return cls("oblique")

    @classmethod
    def perspective(
        cls,
        azimuth_deg: float,
        elevation_deg: float,
        distance: float,
        fov_deg: float = 40.0,
        target: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> Camera:
        return cls(
            "perspective",
            float(azimuth_deg),
            float(elevation_deg),
            float(distance),
            float(fov_deg),
            tuple(float(c) for c in target),
        )

    @classmethod
    def sample_perspective(
        cls, rng: np.random.Generator, centre: tuple[float, float, float], radius: float
    ) -> Camera:
        """A textbook-like view of a solid of this centre and radius: 20..60 degrees to either
        side of the front, 15..40 degrees above, 3..6 radii away (mild foreshortening)."""
        side = 1.0 if rng.random() < 0.5 else -1.0
        return cls.perspective(
            side * float(rng.uniform(20, 60)),
            float(rng.uniform(15, 40)),
            float(rng.uniform(3, 6)) * radius,
            float(rng.uniform(30, 45)),
            centre,
        )

    # -- JSON ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["target"], d["offset"] = list(self.target), list(self.offset)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Camera:
        return cls(**{**d, "target": tuple(d["target"]), "offset": tuple(d["offset"])})

    # -- geometry ------------------------------------------------------------------------------

    @property
    def eye(self) -> np.ndarray | None:
        """The perspective camera's position; None for oblique (the eye is at infinity)."""
        if self.kind == "oblique":
            return None
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        towards = np.array([math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)])
        return np.asarray(self.target) + self.distance * towards

    def matrix(self) -> np.ndarray:
        """The 3x4 homogeneous projection to pixels: ``(x, y, w) = M @ (X, 1)``, ``w > 0`` in
        front of the camera (1 everywhere for oblique)."""
        s, (ox, oy) = self.scale, self.offset
        if self.kind == "oblique":
            return np.array([[s, s * C45 / 2, 0.0, ox], [0.0, -s * C45 / 2, -s, oy], [0.0, 0.0, 0.0, 1.0]])
        eye = self.eye
        forward = np.asarray(self.target) - eye
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        focal = s / math.tan(math.radians(self.fov) / 2)
        rot = np.stack([focal * right + ox * forward, -focal * up + oy * forward, forward])
        return np.hstack([rot, (-rot @ eye)[:, None]])

    def project(self, P: np.ndarray) -> np.ndarray:
        """Pixels ``(N, 2)`` of points ``(N, 3)``."""
        P = np.atleast_2d(np.asarray(P, dtype=float))
        m = self.matrix()
        h = P @ m[:, :3].T + m[:, 3]
        return h[:, :2] / h[:, 2:]

    def towards_viewer(self, P: np.ndarray) -> np.ndarray:
        """Unit directions ``(N, 3)`` from the points towards the viewer: the rays that decide
        visibility."""
        P = np.atleast_2d(np.asarray(P, dtype=float))
        if self.kind == "oblique":
            return np.broadcast_to(OBLIQUE_VIEW, P.shape).copy()
        d = self.eye - P
        return d / np.linalg.norm(d, axis=1, keepdims=True)

    def fitted(self, points3d: np.ndarray, canvas: tuple[int, int], margin: float) -> Camera:
        """This view scaled and shifted so the points fill the canvas inside ``margin`` pixels
        (the room labels need), centred."""
        raw = replace(self, scale=1.0, offset=(0.0, 0.0)).project(points3d)
        lo, hi = raw.min(axis=0), raw.max(axis=0)
        w, h = canvas
        span = np.maximum(hi - lo, 1e-9)
        s = float(min((w - 2 * margin) / span[0], (h - 2 * margin) / span[1]))
        mid = (lo + hi) / 2  # the raw y already points down
        return replace(self, scale=s, offset=(w / 2 - s * float(mid[0]), h / 2 - s * float(mid[1])))
