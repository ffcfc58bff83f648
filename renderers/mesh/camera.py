"""Exact perspective cameras for object rotation data: intrinsics and extrinsics that a spec records,
orbits about a Z-up object, and the object rotation that relates two views.

Conventions. The world is the asset's normalised frame: Z up, the object's front faces -Y (toward
a viewer at azimuth 0, as renderers/cad/views.py's front view). `rotation` maps world to camera
coordinates in OpenGL's camera frame (x right, y up, looking along -z); OpenCV's frame (x right,
y down, looking along +z) is diag(1, -1, -1) times it. Pixel (i, j) covers [i, i+1) x [j, j+1),
so a pixel's centre is at (i + 0.5, j + 0.5) and the principal point of a W x H image is
(W/2, H/2); a tool that puts pixel centres on integers (OpenCV's own) uses cx - 0.5, cy - 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

GL_TO_CV = np.diag([1.0, -1.0, -1.0])  # OpenGL camera axes to OpenCV's (y down, z forward)
TARGET = (0.0, 0.0, 0.5)  # the middle of a normalised asset's unit box


@dataclass(frozen=True)
class PerspectiveCamera:
    """A pinhole camera: a world point p has camera coordinates rotation @ (p - position)."""

    fov_y_deg: float  # vertical field of view
    size: tuple[int, int]  # (width, height) in pixels
    rotation: tuple  # 3x3 nested tuples, world -> camera (OpenGL axes)
    position: tuple  # (3,) camera centre in world coordinates

    @property
    def focal(self) -> float:
        """Focal length in pixels, the same for x and y (square pixels)."""
        return (self.size[1] / 2) / math.tan(math.radians(self.fov_y_deg) / 2)

    def intrinsics(self) -> np.ndarray:
        """(3, 3) K for image y down, pixel-edge convention (see the module docstring)."""
        f, (w, h) = self.focal, self.size
        return np.array([[f, 0.0, w / 2], [0.0, f, h / 2], [0.0, 0.0, 1.0]])

    def world_to_camera(self) -> tuple[np.ndarray, np.ndarray]:
        """(R, t) in OpenGL axes: camera point = R @ p + t."""
        r = np.asarray(self.rotation, dtype=np.float64)
        return r, -r @ np.asarray(self.position, dtype=np.float64)

    def pose(self) -> np.ndarray:
        """(4, 4) camera-to-world matrix in OpenGL axes: what pyrender places a camera with."""
        m = np.eye(4)
        m[:3, :3] = np.asarray(self.rotation, dtype=np.float64).T
        m[:3, 3] = self.position
        return m

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) world points -> ((N, 2) continuous pixel coordinates, y down; (N,) depth along
        the viewing axis, negative behind the camera)."""
        r, t = self.world_to_camera()
        c = np.asarray(points, dtype=np.float64).reshape(-1, 3) @ r.T + t  # (N, 3) OpenGL camera
        depth = -c[:, 2]
        k = self.intrinsics()
        xy = np.stack([k[0, 2] + k[0, 0] * c[:, 0] / depth, k[1, 2] - k[1, 1] * c[:, 1] / depth], axis=1)
        return xy, depth

    def to_dict(self) -> dict:
        """JSON-able record: K, and R, t in OpenCV axes (x right, y down, z forward: the usual
        extrinsics), R_gl, t_gl in OpenGL axes, position, fov, size, and the conventions in words."""
        r, t = self.world_to_camera()
        return {
            "K": self.intrinsics().tolist(),
            "R": (GL_TO_CV @ r).tolist(),
            "t": (GL_TO_CV @ t).tolist(),
            "R_gl": r.tolist(),
            "t_gl": t.tolist(),
            "position": [float(x) for x in self.position],
            "fov_y_deg": float(self.fov_y_deg),
            "size": [int(s) for s in self.size],
            "convention": "world->camera x_cam = R @ x_world + t; R, t: OpenCV axes (x right, y down, "
            "z forward); R_gl, t_gl: OpenGL axes (x right, y up, looking along -z); world Z up; "
            "pixel (i, j) covers [i, i+1) x [j, j+1), so K's principal point is (W/2, H/2)",
        }

    @classmethod
    def from_dict(cls, d: dict) -> PerspectiveCamera:
        """The camera a to_dict record describes (the verifier re-renders from it)."""
        r = tuple(tuple(float(x) for x in row) for row in d["R_gl"])
        return cls(float(d["fov_y_deg"]), (int(d["size"][0]), int(d["size"][1])), r, tuple(d["position"]))


def orbit(
    azimuth_deg: float,
    elevation_deg: float,
    distance: float,
    target: tuple[float, float, float] = TARGET,
    fov_y_deg: float = 35.0,
    size: tuple[int, int] = (512, 512),
) -> PerspectiveCamera:
    """A camera on a sphere about `target`, looking at it, image up toward +Z.

    Azimuth 0 looks at the object's front (from -Y toward +Y); a positive azimuth moves the camera
    counter-clockwise seen from above (at 90 it looks from +X, at the object's right side). The
    object therefore appears to turn clockwise seen from above, by -azimuth about +Z: its front
    swings toward the viewer's left and its right side comes into view. Positive elevation looks
    down on the object. Example: orbit(90, 0, 3) sees what orbit(0, 0, 3) sees of the object turned
    by -90 degrees about Z.
    """
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    back = np.array(
        [math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), math.sin(el)]
    )  # toward viewer
    right = np.array([math.cos(az), math.sin(az), 0.0])  # horizontal, so the horizon stays level
    up = np.cross(back, right)
    r = np.stack([right, up, back])  # rows: camera axes in world coordinates
    position = np.asarray(target, dtype=np.float64) + distance * back
    return PerspectiveCamera(
        float(fov_y_deg),
        (int(size[0]), int(size[1])),
        tuple(tuple(float(x) + 0.0 for x in row) for row in r),  # + 0.0: no -0.0 in records
        tuple(float(x) + 0.0 for x in position),
    )


def fit_distance(
    vertices: np.ndarray,
    elevation_deg: float,
    fov_y_deg: float,
    margin: float,
    target: tuple[float, float, float] = TARGET,
    aspect: float = 1.0,
) -> float:
    """A distance at which an orbit camera about `target` frames the object for every azimuth
    (and, since the bound is the sphere about the target through the farthest vertex, for every
    elevation too: elevation_deg is taken for the call's symmetry and changes nothing). `margin`
    is the fraction of the half-frame left free around the sphere's image; `aspect` is width /
    height, since a tall image narrows the horizontal field."""
    del elevation_deg  # the sphere about the target looks the same from every direction
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    radius = float(np.linalg.norm(v - np.asarray(target), axis=1).max())
    half = math.tan(math.radians(fov_y_deg) / 2) * min(1.0, aspect) * (1.0 - margin)
    # A sphere of radius r at distance d images as a disc of radius tan(asin(r / d)) (focal 1).
    return max(radius, 1e-9) / math.sin(math.atan(half))


def relative_rotation(a: PerspectiveCamera, b: PerspectiveCamera) -> dict:
    """The object rotation that takes view a to view b: rendering the object turned by it from
    camera a gives camera b's image (exactly so when both look at the pivot from the same
    distance, as orbits about one target do; the pivot is that target).

    Quaternions are (w, x, y, z) with w >= 0. Euler angles are intrinsic, in degrees:
    world frame "ZYX" = (yaw about Z, pitch about the new Y, roll about the newest X), so a
    turntable turn is pure yaw; camera frame (camera a's OpenGL axes: x right, y up, z toward the
    viewer) "YXZ" = (yaw about the vertical y, pitch about x, roll about the viewing axis z), so a
    positive yaw turns the object counter-clockwise seen from above and a positive pitch tips its
    top toward the viewer.
    """
    ra, rb = (np.asarray(c.rotation, dtype=np.float64) for c in (a, b))
    world = Rotation.from_matrix(ra.T @ rb)  # R_a @ Q = R_b: b's view of p is a's view of Q p
    camera = Rotation.from_matrix(rb @ ra.T)  # the same turn written in camera a's axes
    return {
        "world": _describe(world, "ZYX"),
        "camera": _describe(camera, "YXZ"),
        "angle_deg": float(np.degrees(world.magnitude())),
    }


def _describe(rot: Rotation, seq: str) -> dict:
    q = rot.as_quat(scalar_first=True)  # (w, x, y, z)
    q = -q if q[0] < 0 else q
    q = np.where(np.abs(q) < 1e-12, 0.0, q)  # no -0.0 or float dust in the record
    euler = np.where(np.abs(e := rot.as_euler(seq, degrees=True)) < 1e-9, 0.0, e)
    return {
        "quaternion_wxyz": q.tolist(),
        "euler_deg": euler.tolist(),
        "euler_convention": f"intrinsic {seq}",
    }
