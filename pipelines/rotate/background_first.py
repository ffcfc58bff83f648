"""Background-First rotation pairs: the object stands on a photo's ground, seen by one fixed camera
under one fixed world light; only the object turns about its vertical axis through its base centre.
Both views are composited onto the same photo with the object's ground shadow, so every pixel
outside the two objects and their shadows keeps the photo's bytes (checked by
:func:`background_changed`).

"left" is the viewer's, as in poses.py: the object's near side swings to the viewer's left, so
the object turns clockwise seen from above, by -angle about +Z (what Object-First's camera orbit
by +angle shows); "right" turns it by +angle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image
from scipy.ndimage import binary_dilation
from scipy.spatial.transform import Rotation

from pipelines.rotate.config import TURNS, RotateConfig
from renderers.mesh import PerspectiveCamera, composite, fit_distance, ground_shadow, orbit, render_object
from renderers.mesh.render import AMBIENT, GAMMA
from renderers.mesh.scene import Light, Lighting, Prepared, Render
from synth.sampling import choice, pick

FILL = 0.25  # the fill light's strength against the key's 1.0
LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luminance of linear RGB
MIDDLE_GREY = 0.18  # the mean linear luminance a photo exposed as usual has
REFERENCE_SIZE = 512  # scene.shadow_softness_px is given at this size


@dataclass(frozen=True)
class Scene:
    direction: str
    angle: float  # degrees
    azimuth: float  # camera azimuth, degrees
    elevation: float  # camera elevation, degrees
    light_dir: tuple[float, float, float]  # world, toward the key light
    fill_dir: tuple[float, float, float]

    @property
    def yaw(self) -> float:
        """Degrees of the object's turn about +Z (counter-clockwise seen from above)."""
        return -self.angle if self.direction == "left" else self.angle


def _toward(azimuth: float, elevation: float) -> tuple[float, float, float]:
    """World unit vector toward a point at this azimuth and elevation (camera.orbit's convention)."""
    az, el = math.radians(azimuth), math.radians(elevation)
    v = (math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), math.sin(el))
    return tuple(round(x, 9) + 0.0 for x in v)


def draw_scene(
    rng: np.random.Generator, cfg: RotateConfig, angle: float | None = None, directions: dict | None = None
) -> Scene:
    """A left or right turn (by the weights of `directions`, else of cfg.directions) and an angle
    (one of cfg.angles unless given: a turntable's step), the camera's azimuth and elevation, and a
    key light to one side of the camera, above the ground."""
    direction = turn_direction(rng, directions or cfg.directions)
    angle = float(pick(rng, cfg.angles)) if angle is None else angle
    s = cfg.scene
    azimuth = round(float(rng.uniform(0.0, 360.0)), 2)
    elevation = round(float(rng.uniform(*s.elevation)), 2)
    side = 1.0 if rng.random() < 0.5 else -1.0
    light_az = azimuth + side * float(rng.uniform(*s.light_azimuth))
    light_el = float(rng.uniform(*s.light_elevation))
    return Scene(
        direction,
        angle,
        azimuth,
        elevation,
        _toward(light_az, light_el),
        _toward(azimuth - side * 60.0, 30.0),
    )


def turn_direction(rng: np.random.Generator, directions: dict[str, float]) -> str:
    """Left or right by their weights (config validation ensures one of them weighs)."""
    return choice(rng, {d: w for d, w in directions.items() if d in TURNS and w > 0})


def photo_light(pixels: np.ndarray) -> dict:
    """The photo's light as the object should receive it, by the grey-world estimate: the colour
    of the light is the photo's mean linear colour at unit luminance (half of it: a photo's own
    colours are not all light), and its exposure follows the mean luminance against middle grey,
    so an object on a dim photo is dimmer and one on a warm photo warmer. Bounded, so a black or
    saturated photo still shows the object."""
    linear = (pixels.reshape(-1, 3).astype(np.float64) / 255.0) ** GAMMA
    mean = linear.mean(axis=0)
    luminance = float(mean @ LUMA)
    colour = mean / max(luminance, 1e-6)
    tint = np.clip(1.0 + 0.5 * (colour - 1.0), 0.7, 1.3)
    tint = tint / float(tint @ LUMA)  # the tint colours the light, the exposure scales it
    exposure = float(np.clip((luminance / MIDDLE_GREY) ** 0.5, 0.55, 1.2))
    return {"tint": [round(float(x), 6) for x in tint], "exposure": round(exposure, 6)}


def lighting(scene: Scene, matched: dict | None = None) -> Lighting:
    """World lights: they stay with the photo while the object turns; matched to the photo's
    colour and brightness (photo_light) where given."""
    e = matched["exposure"] if matched else 1.0
    tint = tuple(matched["tint"]) if matched else (1.0, 1.0, 1.0)
    lights = (Light(scene.light_dir, e, world=True), Light(scene.fill_dir, FILL * e, world=True))
    return Lighting(lights, AMBIENT * e, tint)


def pivot(asset: Prepared) -> tuple[float, float, float]:
    """The centre of the object's base: its bounding box's middle in x, y at its lowest z."""
    points = np.concatenate([p.positions for p in asset.parts]).astype(np.float64)
    lo, hi = points.min(axis=0), points.max(axis=0)
    return (float((lo[0] + hi[0]) / 2) + 0.0, float((lo[1] + hi[1]) / 2) + 0.0, float(lo[2]) + 0.0)


def turned(asset: Prepared, yaw_deg: float, about: tuple[float, float, float]) -> Prepared:
    """A copy of the asset turned by yaw_deg about the vertical axis through `about`."""
    r = Rotation.from_euler("z", yaw_deg, degrees=True).as_matrix()
    c = np.asarray(about, np.float64)
    parts = tuple(
        replace(
            p,
            positions=((p.positions.astype(np.float64) - c) @ r.T + c).astype(np.float32),
            normals=p.normals @ r.T,
        )
        for p in asset.parts
    )
    return Prepared(parts, asset.name)


def model_rotation(yaw_deg: float, about: tuple[float, float, float]) -> dict:
    """The spec's record of the object's turn (world frame, Z up): quaternion (w, x, y, z), intrinsic
    ZYX Euler angles and the pivot it turns about."""
    rot = Rotation.from_euler("z", yaw_deg, degrees=True)
    q = rot.as_quat(scalar_first=True)
    q = -q if q[0] < 0 else q
    euler = rot.as_euler("ZYX", degrees=True)
    clean = lambda a: np.where(np.abs(a) < 1e-9, 0.0, a).tolist()  # noqa: E731
    return {
        "frame": "world",
        "axis": [0.0, 0.0, 1.0],
        "pivot": list(about),
        "yaw_deg": float(yaw_deg),
        "quaternion_wxyz": clean(q),
        "euler_deg": clean(euler),
        "euler_convention": "intrinsic ZYX",
        "angle_deg": float(abs(yaw_deg)),
    }


def turned_from_record(asset: Prepared, record: dict) -> Prepared:
    return turned(asset, record["yaw_deg"], tuple(record["pivot"]))


def camera(poses: list[Prepared], scene: Scene, cfg: RotateConfig, size: int) -> PerspectiveCamera:
    """One camera for every view: aimed above the object's middle so it stands low in the frame,
    far enough to frame every pose (the first is the object as given)."""
    points = np.concatenate([p.positions for a in poses for p in a.parts]).astype(np.float64)
    c = pivot(poses[0])
    target = (c[0], c[1], float((points[:, 2].min() + points[:, 2].max()) / 2) + cfg.scene.lift)
    r = cfg.render
    distance = fit_distance(points, scene.elevation, r.fov_y_deg, r.margin, target=target)
    return orbit(scene.azimuth, scene.elevation, distance, target, r.fov_y_deg, (size, size))


def fit_photo(pixels: np.ndarray, size: int) -> tuple[np.ndarray, dict]:
    """The photo's central square resized to size x size, and the crop (x, y, side) it took."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    x, y = (w - side) // 2, (h - side) // 2
    square = np.ascontiguousarray(pixels[y : y + side, x : x + side, :3])
    image = Image.fromarray(square).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image, np.uint8), {"x": x, "y": y, "side": side}


def shadow_softness(cfg: RotateConfig, size: int) -> float:
    """The shadow blur's sigma in pixels of a size-pixel view (the config gives it at 512)."""
    return cfg.scene.shadow_softness_px * size / REFERENCE_SIZE


@dataclass
class View:
    render: Render  # rgb: the composite on the photo
    shadow: np.ndarray  # (H, W) float32 shadow opacity

    @property
    def support(self) -> np.ndarray:
        """Pixels the object or its shadow may touch."""
        return self.render.mask | (self.render.alpha > 0) | (self.shadow > 0)


def render_view(
    asset: Prepared, cam: PerspectiveCamera, scene: Scene, photo: np.ndarray, cfg: RotateConfig, matched: dict
) -> View:
    softness = shadow_softness(cfg, cam.size[0])
    render = render_object(asset, cam, lighting(scene, matched))
    shadow = ground_shadow(asset, cam, np.asarray(scene.light_dir), softness, cfg.scene.shadow_strength)
    return View(replace(render, rgb=composite(photo, render, shadow)), shadow)


def background_changed(a: np.ndarray, b: np.ndarray, support: np.ndarray) -> int:
    """Pixels that differ between images a and b outside `support` dilated by 1 px."""
    grown = binary_dilation(support, structure=np.ones((3, 3), bool))
    return int(np.count_nonzero(np.any(a != b, axis=-1) & ~grown))
