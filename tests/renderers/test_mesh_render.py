"""Shaded mesh renders and mesh facts: the pixel convention the SVG drawings share (exact masks,
off-centre and non-square cameras), depth from the camera plane, distinct greys for faces facing
different ways, byte determinism, EGL in a fresh process, and mesh volume and genus set against
the kernel's B-rep."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from renderers.cad import build, facts, sample_spec
from renderers.cad.layout import named
from renderers.cad.mesh import as_trimesh, mesh_facts
from renderers.cad.part import MESH_TOL
from renderers.cad.views import frame
from renderers.mesh.render import OrthoCamera, shade, silhouette_iou, weld

TOP = OrthoCamera((0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0), 100.0, (300, 300))
CUBE = trimesh.creation.box((1.0, 1.0, 1.0))
ROOT = Path(__file__).resolve().parents[2]
VOLUME_ANGLE = 0.1  # radians: fine enough that the kernel mesh's chord error stays under 1e-3


def camera(view: str, centre: tuple[float, float], scale: float, size: tuple[int, int]) -> OrthoCamera:
    toward, x, y = (tuple(a.tolist()) for a in frame(view))
    return OrthoCamera(toward, x, y, centre, scale, size)


def covered(lo: float, hi: float) -> np.ndarray:
    """Pixel indices whose centres (i + 0.5) fall inside (lo, hi)."""
    return np.arange(int(np.floor(lo - 0.5)) + 1, int(np.ceil(hi - 0.5)))


def box_mask(cam: OrthoCamera, lo: tuple[float, float], hi: tuple[float, float]) -> np.ndarray:
    """The mask the pixel convention predicts for a view-plane rectangle lo..hi."""
    w, h = cam.size
    xs = covered(w / 2 + (lo[0] - cam.centre[0]) * cam.scale, w / 2 + (hi[0] - cam.centre[0]) * cam.scale)
    ys = covered(h / 2 - (hi[1] - cam.centre[1]) * cam.scale, h / 2 - (lo[1] - cam.centre[1]) * cam.scale)
    mask = np.zeros((h, w), bool)
    mask[np.ix_(ys, xs)] = True
    return mask


@functools.cache
def part(kind: str, seed: int):
    spec = sample_spec(np.random.default_rng(seed), kind)
    return spec, build(spec)


def kernel_mesh(solid, angle: float = VOLUME_ANGLE) -> tuple[np.ndarray, np.ndarray]:
    bb = solid.bounding_box()
    verts, tris = solid.tessellate(MESH_TOL * max(bb.size.X, bb.size.Y, bb.size.Z), angle)
    return np.array([[p.X, p.Y, p.Z] for p in verts]), np.array(tris, dtype=np.int64).reshape(-1, 3)


def test_unit_cube_covers_pixels_100_to_199() -> None:
    """The convention's anchor case: edges on pixel boundaries, so no tie is left to the rasteriser."""
    s = shade(CUBE.vertices, CUBE.faces, TOP)
    ys, xs = np.nonzero(s.mask)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (100, 199, 100, 199)
    assert s.mask.sum() == 100 * 100
    assert s.rgb.shape == (300, 300, 3) and s.rgb.dtype == np.uint8
    assert (s.rgb[~s.mask] == 255).all()


@pytest.mark.parametrize(
    ("centre", "size", "scale"),
    [
        ((0.003, -0.2537), (300, 300), 100.0),
        ((-0.71, 0.318), (320, 240), 87.5),
        ((0.0, 0.0), (257, 131), 61.3),
    ],
)
def test_off_centre_camera_shifts_as_predicted(centre, size, scale) -> None:
    """Sub-pixel shifts, odd and non-square sizes: a mask sampled anywhere but at pixel centres
    (MSAA's first sample, a half-pixel slip) would be off by a row or column here."""
    cam = OrthoCamera((0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), centre, scale, size)
    s = shade(CUBE.vertices, CUBE.faces, cam)
    assert (s.mask == box_mask(cam, (-0.5, -0.5), (0.5, 0.5))).all()


def test_front_view_frame() -> None:
    """A view from views.frame: the image's x is model X and its y is model Z."""
    box = trimesh.creation.box((2.0, 1.0, 0.5))
    cam = camera("front", (0.31, 0.117), 47.3, (200, 160))
    s = shade(box.vertices, box.faces, cam)
    assert (s.mask == box_mask(cam, (-1.0, -0.25), (1.0, 0.25))).all()


def test_depth_is_distance_from_the_camera_plane() -> None:
    """In the iso view the top face's depth changes across the image; every pixel whose centre
    sees that face must hold plane - (the hit point . toward)."""
    cam = camera("iso", (0.0, 0.0), 100.0, (300, 300))
    s = shade(CUBE.vertices, CUBE.faces, cam)
    toward, x, y = (np.array(a) for a in (cam.toward, cam.x, cam.y))
    j, i = np.mgrid[0:300, 0:300]
    u, v = (i + 0.5 - 150) / 100, -(j + 0.5 - 150) / 100
    origin = u[..., None] * x + v[..., None] * y  # the pixel centre's ray passes here, along toward
    t = (0.5 - origin[..., 2]) / toward[2]  # where it meets the plane z = 0.5
    hit = origin + t[..., None] * toward
    on_top = (np.abs(hit[..., :2]) < 0.48).all(axis=-1)
    assert on_top.sum() > 2000 and s.mask[on_top].all()
    assert np.allclose(s.depth[on_top], s.plane - t[on_top], atol=1e-4)
    assert (s.depth[~s.mask] == 0).all() and (s.depth[s.mask] > 0).all()


def test_faces_facing_different_ways_get_different_greys() -> None:
    """Engineering shading: in the iso view the top, front and right faces read apart."""
    cam = camera("iso", (0.0, 0.0), 100.0, (300, 300))
    s = shade(CUBE.vertices, CUBE.faces, cam)
    x, y = np.array(cam.x), np.array(cam.y)
    greys = []
    for p in ((0.0, 0.0, 0.5), (0.0, -0.5, 0.0), (0.5, 0.0, 0.0)):  # top, front, right
        q = np.array(p)
        greys.append(int(s.rgb[int(150 - q @ y * 100), int(150 + q @ x * 100)].mean()))
    top, front, right = greys
    assert top - front >= 15 and front - right >= 15, greys


def test_same_input_same_bytes() -> None:
    """Shards are compared by hash, so two renders of one part must be identical."""
    _, solid = part("flange", 0)
    v, t = kernel_mesh(solid, 0.2)
    cam = camera("iso", (0.0, 0.0), 2.5, (256, 256))
    a, b = shade(v, t, cam), shade(v, t, cam)
    assert a.rgb.tobytes() == b.rgb.tobytes()
    assert a.mask.tobytes() == b.mask.tobytes() and a.depth.tobytes() == b.depth.tobytes()


def test_left_handed_camera_is_refused() -> None:
    with pytest.raises(ValueError, match="right-handed"):
        shade(CUBE.vertices, CUBE.faces, OrthoCamera((0, 0, -1), (1, 0, 0), (0, 1, 0), (0, 0), 1.0, (8, 8)))


def test_egl_in_a_fresh_process() -> None:
    """Importing the module picks EGL by itself: no display, no variable set beforehand."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYOPENGL_PLATFORM", "DISPLAY")}
    code = (
        "import trimesh; from renderers.mesh.render import OrthoCamera, shade; "
        "b = trimesh.creation.box((1, 1, 1)); "
        "s = shade(b.vertices, b.faces, OrthoCamera((0, 0, 1), (1, 0, 0), (0, 1, 0), (0, 0), 10.0, (20, 20))); "
        "import OpenGL, os; print(os.environ['PYOPENGL_PLATFORM'], int(s.mask.sum()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["egl", "100"]


def test_weld_merges_the_copies_of_shared_vertices() -> None:
    """The kernel repeats a B-rep edge's vertices in each face, a float's noise apart."""
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 1e-14], [0, 1, 0], [1, 1, 0]], float)
    w, t = weld(v, np.array([[0, 1, 2], [3, 5, 4]]))
    assert len(w) == 4 and t.tolist() == [[0, 1, 2], [1, 3, 2]]


def test_silhouette_iou() -> None:
    a, b = np.zeros((4, 4), bool), np.zeros((4, 4), bool)
    assert silhouette_iou(a, b) == 1.0
    a[:2], b[1:3] = True, True
    assert silhouette_iou(a, b) == pytest.approx(4 / 12)
    with pytest.raises(ValueError):
        silhouette_iou(a, b[:3])


def test_mesh_facts_of_boxes() -> None:
    """One box: watertight, genus 0, exact volume and area; two boxes: two bodies, no genus."""
    box = trimesh.creation.box((2.0, 3.0, 4.0))
    f = mesh_facts(box.vertices, box.faces)
    assert f["watertight"] and f["bodies"] == 1 and f["genus"] == 0
    assert f["volume"] == pytest.approx(24.0) and f["area"] == pytest.approx(52.0)
    assert f["bbox_size"] == pytest.approx([2.0, 3.0, 4.0])
    two = trimesh.util.concatenate([box, box.copy().apply_translation((10, 0, 0))])
    g = mesh_facts(two.vertices, two.faces)
    assert g["bodies"] == 2 and g["genus"] is None


@pytest.mark.parametrize("kind", ["plate", "bracket", "flange", "shaft", "housing"])
def test_mesh_volume_matches_the_kernel(kind: str) -> None:
    """The mesh is closed once welded and its volume is the B-rep's; tessellated at 0.1 rad, since
    a straight chord cuts a cylinder's volume by about angle**2 / 24 (0.2 rad: 1.7e-3)."""
    for seed in range(3):
        _, solid = part(kind, seed)
        f = mesh_facts(*kernel_mesh(solid))
        assert f["watertight"] and f["bodies"] == 1
        assert f["volume"] == pytest.approx(solid.volume, rel=1e-3)
        bb = solid.bounding_box()
        assert f["bbox_size"] == pytest.approx([bb.size.X, bb.size.Y, bb.size.Z], rel=1e-3)


@pytest.mark.parametrize(
    ("kind", "seed"), [("plate", 0), ("plate", 1), ("plate", 2), ("flange", 0), ("housing", 0)]
)
def test_genus_counts_through_openings(kind: str, seed: int) -> None:
    """Genus = through holes + through slots: plate 0 has holes only, plates 1 and 2 a slot too;
    housing 0 is an open box with no holes (its pocket is blind: genus 0)."""
    spec, solid = part(kind, seed)
    f = facts(solid, spec)
    through = sum(h["count"] for h in f["holes"]) - sum(h["count"] for h in f["blind_holes"])
    slots = int("slot" in named(spec))
    assert mesh_facts(*kernel_mesh(solid, 0.2))["genus"] == through + slots


def test_as_trimesh_welds_kernel_faces() -> None:
    """Unwelded, the kernel mesh is a pile of open faces; welded, it is one closed body."""
    _, solid = part("bracket", 0)
    v, t = kernel_mesh(solid, 0.2)
    assert not trimesh.Trimesh(v, t, process=False).is_watertight
    mesh = as_trimesh(v, t)
    assert mesh.is_watertight and len(mesh.vertices) < len(v)


def test_triton_loads_after_a_render():
    """Triton imported after a Mesa EGL context existed crashed the process (both carry LLVM):
    offscreen() loads Triton's library first. In a child process, so a crash fails only this test."""
    code = (
        "from renderers.mesh.render import offscreen\noffscreen(32, 32)\nimport triton.knobs\nprint('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
