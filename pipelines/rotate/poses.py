"""Source and target camera poses of a rotation pair, and what "left", "right", "up" and "down" mean.

Directions are the viewer's: the object's side that faces the viewer swings that way.
- left: the front swings to the viewer's left, so the object turns clockwise seen from above. By
  camera.orbit's docstring, orbit(az + a) sees the object turned by -a about +Z, which is exactly
  that: left is the camera's azimuth + angle, right is azimuth - angle.
- up: the near side swings up and the viewer sees more of the underside: the camera's elevation
  - angle. down: the near side swings down, the top tips toward the viewer: elevation + angle.
So relative_rotation(source, target)["camera"] has yaw -angle for left, +angle for right, pitch
+angle for down and -angle for up (its docstring: positive yaw turns counter-clockwise seen from
above, positive pitch tips the top toward the viewer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.rotate.config import RotateConfig
from synth.sampling import NotApplicable, choice, pick

#: direction -> (sign of the azimuth change, sign of the elevation change) of the camera
TURN = {"left": (1, 0), "right": (-1, 0), "up": (0, -1), "down": (0, 1)}


@dataclass(frozen=True)
class Pose:
    azimuth: float  # source camera azimuth, degrees
    elevation: float  # source camera elevation, degrees
    direction: str
    angle: float  # degrees

    @property
    def target(self) -> tuple[float, float]:
        """(azimuth, elevation) of the target camera."""
        return target_view(self.azimuth, self.elevation, self.direction, self.angle)


def target_view(azimuth: float, elevation: float, direction: str, angle: float) -> tuple[float, float]:
    """The camera (azimuth, elevation) that sees the object turned `angle` degrees toward `direction`."""
    da, de = TURN[direction]
    return round((azimuth + da * angle) % 360.0, 6), round(elevation + de * angle, 6)


def allowed_angles(
    direction: str, elevation: float, angles: list[float], bounds: tuple[float, float]
) -> list[float]:
    """The angles a turn toward `direction` may take from this elevation: a tilt must keep the
    target's elevation within `bounds` (past the pole the horizon would flip)."""
    de = TURN[direction][1]
    return [a for a in angles if bounds[0] <= elevation + de * a <= bounds[1]]


def draw_pose(rng: np.random.Generator, cfg: RotateConfig) -> Pose:
    """Source azimuth and elevation, then a direction among those that have an allowed angle
    (by their weights), then one of its allowed angles, uniformly."""
    azimuth = round(float(rng.uniform(0.0, 360.0)), 2)
    elevation = round(float(rng.uniform(*cfg.elevation.source)), 2)
    options = {
        d: w
        for d, w in cfg.directions.items()
        if w > 0 and allowed_angles(d, elevation, cfg.angles, cfg.elevation.target)
    }
    if not options:
        raise NotApplicable(f"no direction and angle keep the elevation within {cfg.elevation.target}")
    direction = choice(rng, options)
    angle = pick(rng, allowed_angles(direction, elevation, cfg.angles, cfg.elevation.target))
    return Pose(azimuth, elevation, direction, float(angle))
