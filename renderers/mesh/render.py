"""Offscreen shaded renders of triangle meshes: pyrender through EGL (Mesa's software rasteriser
on a machine without a GPU), an orthographic camera, a key and a fill directional light and
ambient.

Pixel convention, shared with the SVG line drawings: a model point p lands at the continuous image
point X = W/2 + (p.x - centre[0]) * scale, Y = H/2 - (p.y - centre[1]) * scale, and pixel (i, j)
covers [i, i+1) x [j, j+1). OpenGL samples a pixel at its centre, so the mask is exactly the
pixels whose centres the projected mesh covers.

The lights are evaluated per vertex here (Lambert, on normals smoothed across gentle edges and
split at creases) and drawn with pyrender's unlit shader: the same look as its PBR shader with a
matte material, at half the frame time on the software rasteriser, and nothing view-dependent.
Two passes: the coloured one with pyrender's 4x MSAA gives the picture (antialiased edges); one
without multisampling gives mask and depth, so coverage is sampled at pixel centres and not at
the first MSAA sample's offset (off by a row there).

The renderer cache, welding, lighting and the exact depth pass are shared with scene.py's
perspective renders of 3D assets.
"""

from __future__ import annotations

import os

# PyOpenGL picks its platform when it is first imported: EGL renders without a display.
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import functools  # noqa: E402
import importlib.util  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import pyrender  # noqa: E402
import trimesh  # noqa: E402
from scipy.sparse import coo_matrix  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

WELD_TOL = 1e-6  # vertices closer than this fraction of the bounding-box diagonal are one vertex
CREASE = np.radians(25.0)  # normals are smoothed across edges flatter than this, split at sharper
AMBIENT = 0.18
# (direction toward the light in camera coordinates: x right, y up, z toward the viewer; strength)
# The key comes from the upper left and the front, the fill from the right: in the iso view the
# top, front and right faces of a box come out light, middle and dark.
LIGHTS = (((-0.50, 0.65, 0.55), 1.0), ((0.60, -0.30, 0.75), 0.25))
GAMMA = 2.2  # light adds up linearly; the picture is encoded for display
_RENDERERS: dict[tuple[int, int, int, str], pyrender.OffscreenRenderer] = {}


@dataclass(frozen=True)
class OrthoCamera:
    """A parallel projection; (x, y, toward) must be a right-handed orthonormal frame."""

    toward: tuple[float, float, float]  # unit, from the object toward the viewer
    x: tuple[float, float, float]  # image x axis in model coordinates (unit)
    y: tuple[float, float, float]  # image y axis, up (unit)
    centre: tuple[float, float]  # view-plane point (p.x, p.y) at the image centre
    scale: float  # pixels per model unit
    size: tuple[int, int]  # (width, height) in pixels


@dataclass
class Shaded:
    """A render: a covered pixel's model point p has p.toward == plane - depth."""

    rgb: np.ndarray  # (H, W, 3) uint8, the mesh shaded over the background
    mask: np.ndarray  # (H, W) bool, pixels whose centres the mesh covers (from the depth buffer)
    depth: np.ndarray  # (H, W) float32, distance along -toward from the camera plane, 0 where empty
    plane: float  # the camera plane's offset along toward: 1% of the mesh's diagonal past its nearest point


def weld(
    vertices: np.ndarray, triangles: np.ndarray, rel_tol: float = WELD_TOL
) -> tuple[np.ndarray, np.ndarray]:
    """Merge vertices closer than rel_tol of the bounding-box diagonal (a kernel mesh repeats the
    vertices on every B-rep edge, once per face) and drop the triangles that collapse. Each merged
    vertex keeps its first occurrence's coordinates, so the result is deterministic."""
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    t = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    if len(v) == 0:
        return v, t
    labels, first = weld_labels(v, rel_tol)
    t = labels[t]
    keep = (t[:, 0] != t[:, 1]) & (t[:, 1] != t[:, 2]) & (t[:, 2] != t[:, 0])
    return v[first], t[keep]


def weld_labels(vertices: np.ndarray, rel_tol: float = WELD_TOL) -> tuple[np.ndarray, np.ndarray]:
    """((V,) merged vertex of each vertex, numbered in order of first appearance; (M,) the first
    vertex of each merged one): what weld does, without touching triangles, for callers that keep
    per-vertex data (UVs) and only need to know which vertices share a position."""
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    tol = rel_tol * max(float(np.linalg.norm(np.ptp(v, axis=0))), 1e-300)
    pairs = cKDTree(v).query_pairs(tol, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(v), len(v)))
    _, labels = connected_components(graph, directed=False)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first)  # number the merged vertices in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse], first[order]


def _rotation(camera: OrthoCamera) -> np.ndarray:
    """Columns x, y, toward: the camera's axes in model coordinates, checked."""
    r = np.array([camera.x, camera.y, camera.toward], dtype=np.float64).T
    if not np.allclose(r.T @ r, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
        raise ValueError("camera axes (x, y, toward) must be a right-handed orthonormal frame")
    return r


def _look(r: np.ndarray, position: np.ndarray) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = r, position
    return pose


def offscreen(width: int, height: int, slot: str = "main") -> pyrender.OffscreenRenderer:
    """This process's renderer for the size (a GL context is costly; one forked from a parent
    would be dead, hence the pid). Shared by every mesh renderer here; a pass that would evict
    the main one's textures (pyrender frees those a scene does not use) takes another slot."""
    key = (os.getpid(), width, height, slot)
    if key not in _RENDERERS:
        _llvm_first()
        _RENDERERS[key] = pyrender.OffscreenRenderer(width, height)
    return _RENDERERS[key]


@functools.cache
def _llvm_first() -> None:
    """Load Triton's native library before Mesa's: both carry LLVM, and Triton loaded after a Mesa
    EGL context exists crashes the process (a segmentation fault at ``import triton``, which torch
    does lazily, e.g. for CLIP scoring after rendering in one process). The other order works;
    about 0.14 s, once, where Triton is installed."""
    if importlib.util.find_spec("triton") is not None:
        importlib.import_module("triton._C.libtriton")


def lambert(normals: np.ndarray, lights: list[tuple[np.ndarray, float]], ambient: float) -> np.ndarray:
    """(N,) linear light at unit normals (N, 3): ambient plus each directional light's Lambert
    term; lights are (unit direction toward the light, in the normals' frame; strength). Matte and
    view-independent, so it can be baked into vertex colours and drawn unlit."""
    light = np.full(len(normals), float(ambient))
    for direction, strength in lights:
        light += strength * np.clip(normals @ direction, 0.0, None)
    return light


def encode(light: np.ndarray) -> np.ndarray:
    """Linear light (clipped to 0..1) to display values: light adds up linearly, pictures are
    stored encoded."""
    return np.clip(light, 0.0, 1.0) ** (1 / GAMMA)


def _lit_colors(normals: np.ndarray, r: np.ndarray, color: tuple[float, float, float]) -> np.ndarray:
    """(N, 4) float32 vertex colours: ambient plus the key and fill lights' Lambert terms, in linear
    light, encoded for display; a face lit at full strength shows `color`."""
    lights = [(r @ (np.asarray(d) / np.linalg.norm(d)), s) for d, s in LIGHTS]
    rgba = np.ones((len(normals), 4))
    rgba[:, :3] = encode(lambert(normals, lights, AMBIENT))[:, None] * np.asarray(color, dtype=np.float64)
    return rgba.astype(np.float32)


def _scene(mesh: trimesh.Trimesh, colors: np.ndarray, background: tuple[int, int, int]):
    """The scene (camera still to be added) and the mesh's node."""
    scene = pyrender.Scene(bg_color=[c / 255.0 for c in background] + [1.0])
    material = pyrender.MetallicRoughnessMaterial(baseColorFactor=[1.0, 1.0, 1.0, 1.0], doubleSided=True)
    primitive = pyrender.Primitive(
        positions=mesh.vertices.astype(np.float32),
        indices=mesh.faces.astype(np.uint32),
        color_0=colors,
        material=material,
    )
    return scene, scene.add(pyrender.Mesh([primitive]))


def shade(
    vertices: np.ndarray,
    triangles: np.ndarray,
    camera: OrthoCamera,
    color: tuple[float, float, float] = (0.72, 0.75, 0.80),
    background: tuple[int, int, int] = (255, 255, 255),
) -> Shaded:
    """The mesh shaded in engineering style (smooth across gentle edges, sharp across creases),
    with its exact pixel-centre mask and depth. Deterministic: equal inputs give equal bytes."""
    width, height = (int(s) for s in camera.size)
    r = _rotation(camera)
    v, t = weld(vertices, triangles)
    if len(t) == 0:
        rgb = np.empty((height, width, 3), np.uint8)
        rgb[:] = background
        zero = np.zeros((height, width))
        return Shaded(rgb, zero.astype(bool), zero.astype(np.float32), 0.0)
    mesh = trimesh.graph.smooth_shade(trimesh.Trimesh(v, t, process=False), angle=CREASE)
    along = v @ r[:, 2]
    span = float(along.max() - along.min())
    margin = 0.01 * max(float(np.linalg.norm(np.ptp(v, axis=0))), 1e-9)
    plane = float(along.max()) + margin
    znear, zfar = margin / 2, span + 2 * margin
    cam = pyrender.OrthographicCamera(
        xmag=width / (2 * camera.scale), ymag=height / (2 * camera.scale), znear=znear, zfar=zfar
    )
    scene, node = _scene(mesh, _lit_colors(mesh.vertex_normals, r, color), background)
    scene.add(cam, pose=_look(r, r @ np.array([camera.centre[0], camera.centre[1], plane])))
    renderer = offscreen(width, height)
    rgb, _ = renderer.render(scene, pyrender.RenderFlags.FLAT)
    linear = exact_depth(renderer, scene, node)
    mask = linear > 0
    depth = np.zeros((height, width), np.float32)
    depth[mask] = _ortho_distance(linear[mask], znear, zfar).astype(np.float32)
    return Shaded(np.ascontiguousarray(rgb), mask, depth, plane)


def exact_depth(renderer: pyrender.OffscreenRenderer, scene: pyrender.Scene, node) -> np.ndarray:
    """(H, W) float32 depth of the node, 0 where it does not cover the pixel centre: a pass with
    multisampling off (the SEG flag turns it off), so coverage is decided at pixel centres. The
    values are pyrender's perspective conversion of the depth buffer (true distance for a
    perspective camera; an orthographic one must undo it, see _ortho_distance)."""
    flags = pyrender.RenderFlags.DEPTH_ONLY | pyrender.RenderFlags.SEG
    return renderer.render(scene, flags, seg_node_map={node: (255, 255, 255)})


def _ortho_distance(linear: np.ndarray, znear: float, zfar: float) -> np.ndarray:
    """pyrender turns the depth buffer into distance with the perspective formula; undo it and
    apply the orthographic one (the buffer is linear in distance there)."""
    ndc = (zfar + znear - 2 * znear * zfar / linear.astype(np.float64)) / (zfar - znear)
    return znear + (ndc + 1) / 2 * (zfar - znear)


def silhouette_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two equal-shape bool masks; 1.0 when both are empty."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"mask shapes differ: {a.shape} vs {b.shape}")
    union = int(np.count_nonzero(a | b))
    return 1.0 if union == 0 else int(np.count_nonzero(a & b)) / union
