"""Object renders for rotation pairs: cameras that project where the pixels land, orbits that equal
turning the object, textures, coverage against the exact mask, ground shadows, compositing that
leaves the background's bytes alone, and determinism. Assets are built here from primitives."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import trimesh
from scipy.ndimage import binary_dilation, binary_erosion
from scipy.spatial.transform import Rotation

from renderers.mesh.asset import Asset, Part
from renderers.mesh.camera import PerspectiveCamera, fit_distance, orbit, relative_rotation
from renderers.mesh.render import silhouette_iou
from renderers.mesh.scene import (
    Light,
    Lighting,
    composite,
    corner_normals,
    gradient_background,
    ground_shadow,
    light_direction,
    prepare,
    render_object,
)

RED, GREEN = (220, 30, 30), (30, 200, 40)


def checker(n: int = 64, cells: int = 8) -> np.ndarray:
    """(n, n, 3) red and green checker."""
    i = np.arange(n) * cells // n
    odd = (i[:, None] + i[None, :]) % 2 == 1
    return np.where(odd[..., None], np.array(GREEN, np.uint8), np.array(RED, np.uint8))


def part(mesh: trimesh.Trimesh, color=(1.0, 1.0, 1.0, 1.0), texture: np.ndarray | None = None) -> Part:
    """A Part with one vertex per triangle corner and planar UVs along each face's main axis, as
    an exporter splits vertices at UV seams; normals left to the renderer."""
    v = mesh.vertices[mesh.faces].reshape(-1, 3)
    axis = np.repeat(np.abs(mesh.face_normals).argmax(axis=1), 3)
    other = np.array([[1, 2], [0, 2], [0, 1]])[axis]
    uv = (np.take_along_axis(v, other, axis=1) * 2.0).astype(np.float32)
    return Part(
        v, np.arange(len(v)).reshape(-1, 3), None, uv if texture is not None else None, color, texture
    )


def box(size, centre) -> trimesh.Trimesh:
    return trimesh.creation.box(size).apply_translation(centre)


def l_shape(texture: np.ndarray | None = None) -> Asset:
    """An L of two boxes on z = 0, asymmetric under every turn about Z."""
    return Asset(
        [
            part(box((0.8, 0.3, 0.3), (0.0, 0.0, 0.15)), texture=texture),
            part(box((0.25, 0.3, 0.6), (0.275, 0.0, 0.6))),
        ],
        "l",
        {},
    )


def faces_asset() -> Asset:
    """A cube whose front (-Y) is red, right (+X) blue, the rest green: which side a camera sees."""
    cube = box((0.6, 0.6, 0.6), (0.0, 0.0, 0.5))
    parts = []
    for normal, color in (((0, -1, 0), (1.0, 0.0, 0.0, 1.0)), ((1, 0, 0), (0.0, 0.0, 1.0, 1.0))):
        faces = np.nonzero((cube.face_normals @ np.array(normal)) > 0.9)[0]
        parts.append(part(cube.submesh([faces], append=True), color))
    rest = np.nonzero(((cube.face_normals @ [0, -1, 0]) < 0.9) & ((cube.face_normals @ [1, 0, 0]) < 0.9))[0]
    parts.append(part(cube.submesh([rest], append=True), (0.0, 1.0, 0.0, 1.0)))
    return Asset(parts, "cube", {})


def turned(asset: Asset, rotation: np.ndarray, pivot=(0.0, 0.0, 0.5)) -> Asset:
    """The asset rotated about the pivot."""
    p = np.asarray(pivot)
    return Asset(
        [
            Part((q.vertices - p) @ rotation.T + p, q.triangles, None, q.uv, q.color, q.texture)
            for q in asset.parts
        ],
        asset.name,
        {},
    )


def test_project_lands_on_the_rendered_pixel() -> None:
    """Tiny bright cubes on a non-square, off-axis camera: each one's coverage-weighted centre is
    where project() puts it, within 0.5 px, and the depth there is the cube's."""
    points = [(0.3, -0.2, 0.9), (-0.35, 0.1, 0.15), (0.05, 0.3, 0.55)]
    cam = orbit(37.0, 23.0, 2.5, target=(0.02, -0.03, 0.48), fov_y_deg=40.0, size=(320, 240))
    xy, depth = cam.project(np.array(points))
    for p, (x, y), d in zip(points, xy, depth, strict=True):
        r = render_object(Asset([part(box((0.02, 0.02, 0.02), p))], None, {}), cam)
        j, i = np.mgrid[0:240, 0:320]
        w = r.alpha
        cx, cy = (w * (i + 0.5)).sum() / w.sum(), (w * (j + 0.5)).sum() / w.sum()
        assert abs(cx - x) < 0.5 and abs(cy - y) < 0.5, (p, (cx, cy), (x, y))
        assert r.mask.any() and np.abs(r.depth[r.mask] - d).max() < 0.02


def test_extrinsics_record_round_trips_and_projects_like_opencv() -> None:
    cam = orbit(-61.0, 35.0, 3.1, fov_y_deg=30.0, size=(200, 150))
    record = json.loads(json.dumps(cam.to_dict()))
    assert PerspectiveCamera.from_dict(record) == cam
    k, r, t = (np.array(record[key]) for key in ("K", "R", "t"))
    p = np.array([[0.1, 0.2, 0.3], [-0.4, 0.0, 0.9]])
    c = p @ r.T + t  # OpenCV: z forward, y down
    assert (c[:, 2] > 0).all()
    assert np.allclose((c @ k.T)[:, :2] / c[:, 2:], cam.project(p)[0])


@pytest.mark.parametrize(("azimuth", "colour"), [(0.0, 0), (90.0, 2), (-90.0, 1), (180.0, 1)])
def test_orbit_sees_the_side_its_azimuth_names(azimuth: float, colour: int) -> None:
    """Azimuth 0 sees the red front; +90 (counter-clockwise from above) the blue right side."""
    r = render_object(faces_asset(), orbit(azimuth, 0.0, 3.0, size=(96, 96)))
    assert r.rgb[48, 48].argmax() == colour, r.rgb[48, 48]
    # The face square to the view lies 0.3 in front of the target, 3 from the camera: depth 2.7.
    assert np.abs(r.depth[40:56, 40:56] - 2.7).max() < 1e-3


def test_orbit_90_equals_turning_the_object_by_minus_90() -> None:
    asset = l_shape()
    d = fit_distance(np.concatenate([p.vertices for p in asset.parts]), 20.0, 35.0, 0.1)
    a, b = orbit(0.0, 20.0, d, size=(256, 256)), orbit(90.0, 20.0, d, size=(256, 256))
    turn = Rotation.from_euler("z", -90, degrees=True).as_matrix()
    moved, seen = render_object(turned(asset, turn), a), render_object(asset, b)
    assert silhouette_iou(moved.mask, seen.mask) > 0.999  # exactly equal here; ties may flip a pixel
    # The lights turn with the camera, so the shading matches too: a turn under the photo's light.
    assert np.abs(moved.rgb.astype(int) - seen.rgb).max() <= 2
    rel = relative_rotation(a, b)
    assert rel["world"]["quaternion_wxyz"] == pytest.approx([np.sqrt(0.5), 0.0, 0.0, -np.sqrt(0.5)])
    assert rel["world"]["euler_deg"] == pytest.approx([-90.0, 0.0, 0.0]) and rel[
        "angle_deg"
    ] == pytest.approx(90.0)


def test_relative_rotation_turns_view_a_into_view_b() -> None:
    """For any two orbits about one target at one distance, view a of the object turned by the
    recorded world rotation (about the target) is view b; elevation up tips the top toward the
    viewer (positive camera-frame pitch)."""
    asset = l_shape()
    a, b = orbit(25.0, 10.0, 2.6, size=(200, 200)), orbit(-40.0, 35.0, 2.6, size=(200, 200))
    q = relative_rotation(a, b)["world"]["quaternion_wxyz"]
    turn = Rotation.from_quat(q, scalar_first=True).as_matrix()
    assert silhouette_iou(render_object(turned(asset, turn), a).mask, render_object(asset, b).mask) > 0.99
    up = relative_rotation(orbit(0.0, 0.0, 3.0), orbit(0.0, 30.0, 3.0))["camera"]
    assert up["euler_deg"] == pytest.approx([0.0, 30.0, 0.0])


def test_fit_distance_keeps_every_azimuth_in_frame() -> None:
    asset = l_shape()
    v = np.concatenate([p.vertices for p in asset.parts])
    d = fit_distance(v, 30.0, 35.0, 0.1)
    for az in range(0, 360, 45):
        xy, _ = orbit(az, 30.0, d, size=(128, 128)).project(v)
        assert (xy > 128 * 0.05).all() and (xy < 128 * 0.95).all()


def test_checker_texture_shows_both_colours() -> None:
    r = render_object(l_shape(checker()), orbit(30.0, 25.0, 2.5, size=(200, 200)))
    px = r.rgb[r.mask].astype(int)
    red = (px[:, 0] > px[:, 1] + 40).sum()
    green = (px[:, 1] > px[:, 0] + 40).sum()
    assert red > 0.1 * len(px) and green > 0.1 * len(px), (red, green, len(px))


def test_alpha_and_mask_agree() -> None:
    """Coverage is full inside the exact mask, zero away from it, fractional only at edges."""
    r = render_object(l_shape(), orbit(20.0, 15.0, 2.5, size=(200, 200)))
    assert (r.alpha[r.mask] > 0.5).mean() > 0.98
    assert (r.alpha[binary_erosion(r.mask, iterations=2)] == 1.0).all()
    assert (r.alpha[~binary_dilation(r.mask, iterations=2)] == 0.0).all()
    assert (r.depth[~r.mask] == 0).all() and (r.depth[r.mask] > 0).all()


def test_shadow_falls_away_from_the_light_and_fades_to_zero() -> None:
    """A light from +X throws the shadow toward -X, the image's left at azimuth 0; beyond three
    sigmas of the sharp shadow it is exactly zero."""
    asset, cam, sigma = l_shape(), orbit(0.0, 35.0, 3.0, size=(200, 200)), 3.0
    light = np.array([1.0, 0.0, 1.0])
    sharp = ground_shadow(asset, cam, light, 0.0, 1.0)
    soft = ground_shadow(asset, cam, light, sigma, 0.6)
    r = render_object(asset, cam)
    cols = np.arange(200) + 0.5
    assert (sharp.sum(0) * cols).sum() / sharp.sum() < (r.alpha.sum(0) * cols).sum() / r.alpha.sum() - 10
    assert sharp.max() == 1.0 and 0.5 < soft.max() <= 0.6
    near = binary_dilation(sharp > 0, np.ones((3, 3)), iterations=int(3 * sigma) + 1)  # the filter's square
    assert (soft[~near] == 0).all() and (soft[near] > 0).any()
    # Straight down, the shadow is the footprint: under the object's base, not beside it.
    footprint = ground_shadow(asset, cam, np.array([0.0, 0.0, 1.0]), 0.0, 1.0) > 0.5
    assert footprint.any() and (r.mask[footprint]).mean() > 0.9
    with pytest.raises(ValueError, match="horizon"):
        ground_shadow(asset, cam, np.array([1.0, 0.0, 0.0]), 1.0, 1.0)


def test_composite_keeps_untouched_background_bytes() -> None:
    """Background-First: the object turns, the photo outside object and shadow keeps its bytes."""
    photo = np.random.default_rng(0).integers(0, 256, (160, 200, 3), dtype=np.uint8)
    asset, lighting = prepare(l_shape(checker())), Lighting()
    outs, touched = [], np.zeros((160, 200), bool)
    for az in (0.0, 90.0):
        cam = orbit(az, 25.0, 2.8, size=(200, 160))
        r = render_object(asset, cam, lighting, background=photo)
        shadow = ground_shadow(asset, cam, light_direction(lighting.key, cam), 4.0, 0.5)
        out = composite(photo, r, shadow)
        untouched = (r.alpha == 0) & (shadow == 0)
        assert (out[untouched] == photo[untouched]).all() and untouched.mean() > 0.5
        assert (
            out[(shadow > 0.2) & (r.alpha == 0)].astype(int) <= photo[(shadow > 0.2) & (r.alpha == 0)]
        ).all()
        assert (r.rgb[r.alpha == 0] == photo[r.alpha == 0]).all()
        outs.append(out)
        touched |= ~untouched
    assert (outs[0][~touched] == outs[1][~touched]).all() and (outs[0][touched] != outs[1][touched]).any()


def test_world_lights_stay_put_and_camera_lights_turn_with_the_view() -> None:
    cam = orbit(90.0, 0.0, 3.0)
    assert np.allclose(light_direction(Light((1.0, 0.0, 0.0), 1.0, world=True), cam), [1, 0, 0])
    assert np.allclose(
        light_direction(Light((0.0, 0.0, 1.0), 1.0), cam), [1, 0, 0], atol=1e-12
    )  # toward the viewer


def test_same_inputs_same_bytes() -> None:
    asset, cam = l_shape(checker()), orbit(33.0, 21.0, 2.5, size=(160, 160))
    a, b = (
        render_object(asset, cam, background=(10, 20, 30)),
        render_object(prepare(asset), cam, background=(10, 20, 30)),
    )
    for x, y in ((a.rgb, b.rgb), (a.alpha, b.alpha), (a.mask, b.mask), (a.depth, b.depth)):
        assert x.tobytes() == y.tobytes()
    light = np.array([0.3, -0.5, 1.0])
    shadows = [ground_shadow(x, cam, light, 3.0, 0.5) for x in (asset, asset, prepare(asset))]
    assert shadows[0].tobytes() == shadows[1].tobytes() == shadows[2].tobytes()


def test_corner_normals_keep_creases_and_smooth_curves() -> None:
    cube = box((1.0, 1.0, 1.0), (0, 0, 0))
    n = corner_normals(cube.vertices, cube.faces)
    assert np.allclose(n, cube.face_normals[:, None, :].repeat(3, axis=1))
    sphere = trimesh.creation.icosphere(subdivisions=3)
    v = sphere.vertices[sphere.faces].reshape(-1, 3)  # split at every corner, as UV seams would
    n = corner_normals(v, np.arange(len(v)).reshape(-1, 3)).reshape(-1, 3)
    assert np.abs((n * v / np.linalg.norm(v, axis=1, keepdims=True)).sum(1)).min() > 0.995


def test_vertex_colours_and_file_normals() -> None:
    """A PLY's per-vertex colours win over the base colour; the file's own normals are used and
    shade like the computed ones on a smooth sphere."""
    ball = trimesh.creation.icosphere(subdivisions=3, radius=0.4).apply_translation((0.0, 0.0, 0.4))
    cam = orbit(10.0, 20.0, 2.5, size=(128, 128))
    computed = Part(ball.vertices, ball.faces, None, None, (0.0, 0.0, 1.0, 1.0), None)
    red = np.tile(np.array([[255, 0, 0, 255]], np.uint8), (len(ball.vertices), 1))
    given = Part(
        ball.vertices,
        ball.faces,
        ball.vertex_normals.astype(np.float32),
        None,
        (0.0, 0.0, 1.0, 1.0),
        None,
        red,
    )
    a, b = render_object(Asset([computed], None, {}), cam), render_object(Asset([given], None, {}), cam)
    assert (a.mask == b.mask).all()
    inside = a.alpha == 1.0
    assert (a.rgb[inside][:, :2] == 0).all() and (b.rgb[inside][:, 1:] == 0).all()
    assert np.abs(a.rgb[inside][:, 2].astype(int) - b.rgb[inside][:, 0]).mean() < 3


def test_gradient_background() -> None:
    g = gradient_background((7, 100), (200, 220, 255), (40, 40, 40))
    assert g.shape == (100, 7, 3) and g.dtype == np.uint8
    assert g[0].tolist() == [[199, 219, 254]] * 7 and g[-1].tolist() == [[41, 41, 41]] * 7


def test_frame_time_512(capsys) -> None:
    """Printed, not asserted: a ~5k-triangle textured asset at 512 x 512."""
    ball = trimesh.creation.icosphere(subdivisions=4, radius=0.3).apply_translation((0.15, 0.0, 0.3))
    asset = Asset(
        [part(ball, texture=checker(1024)), part(box((0.5, 0.3, 0.4), (-0.25, 0.0, 0.2)), texture=checker())],
        "ball",
        {},
    )
    cams = [orbit(az, 20.0, 2.4) for az in range(0, 360, 60)]
    lighting, backdrop = Lighting(), gradient_background((512, 512), (205, 215, 230), (95, 95, 105))
    t0 = time.perf_counter()
    prepared = prepare(asset)
    render_object(prepared, cams[0])
    first = time.perf_counter() - t0
    plain, shadowed = [], []
    for cam in cams:
        t0 = time.perf_counter()
        r = render_object(prepared, cam)
        plain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        r = render_object(prepared, cam, lighting)
        composite(backdrop, r, ground_shadow(prepared, cam, light_direction(lighting.key, cam), 6.0, 0.5))
        shadowed.append(time.perf_counter() - t0)
    with capsys.disabled():
        print(
            f"\n512x512, {asset.triangles} triangles, textured: first {first * 1e3:.0f} ms, "
            f"steady {np.median(plain) * 1e3:.0f} ms, with shadow and composite {np.median(shadowed) * 1e3:.0f} ms"
        )
