"""Object renders for rotation data: an asset through an exact perspective camera, with antialiased
colour and coverage, an exact mask and depth, a soft ground shadow, and compositing onto a plain,
gradient or photo background.

Lighting is render.py's: Lambert per vertex (ambient plus directional lights) baked into vertex
colours and drawn with pyrender's unlit shader, times the base-colour texture. It is matte and
view-independent, and on Mesa's software rasteriser its colour pass takes about a third of the
time of pyrender's lit (PBR, per-pixel) shader (19 against 56 ms for a 5k-triangle textured asset
at 512 x 512); the price is Gouraud interpolation across large smooth triangles. Parts are drawn
opaque: the base colour's and the texture's alpha are dropped.

The colour pass renders over transparent black with pyrender's 4x MSAA, so its resolved RGBA is
the object's colour premultiplied by its coverage: the object lands on any background afterwards
and pixels it does not touch keep the background's bytes. Mask and depth come from a second pass
without multisampling (render.exact_depth), as in render.py.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pyrender
import trimesh
from scipy.ndimage import gaussian_filter
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from renderers.mesh.asset import Asset, Part
from renderers.mesh.camera import PerspectiveCamera
from renderers.mesh.render import (
    AMBIENT,
    CREASE,
    GAMMA,
    LIGHTS,
    encode,
    exact_depth,
    lambert,
    offscreen,
    weld_labels,
)

SHADOW_TRUNCATE = 3.0  # the shadow's Gaussian is cut at this many sigmas: exactly 0 beyond
TEXTURE_CACHE = 8  # GL textures kept per renderer
_TEXTURES: dict[tuple, OrderedDict] = {}  # (pid, width, height) -> id(image) -> (image, pyrender.Texture)


@dataclass(frozen=True)
class Light:
    """A directional light; `world` False: in camera axes (x right, y up, z toward the viewer), so it
    turns with the camera, as a photo's light stays with the photo while the object turns."""

    direction: tuple[float, float, float]  # toward the light
    strength: float
    world: bool = False


@dataclass(frozen=True)
class Lighting:
    """Key, fill (render.py's: key from the upper left and front, fill from the right) and ambient."""

    lights: tuple[Light, ...] = tuple(Light(d, s) for d, s in LIGHTS)
    ambient: float = AMBIENT
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)  # linear RGB factor on all light (a scene's colour)

    @property
    def key(self) -> Light:
        """The strongest light: the one that casts the ground shadow."""
        return max(self.lights, key=lambda light: light.strength)


@dataclass
class Render:
    """One view of an asset. premultiplied is what composite() lays over another background."""

    rgb: np.ndarray  # (H, W, 3) uint8, the object over the background, antialiased edges
    alpha: np.ndarray  # (H, W) float32 0..1, coverage from the 4x MSAA samples
    mask: np.ndarray  # (H, W) bool, pixels whose centres the object covers
    depth: np.ndarray  # (H, W) float32, camera-space depth along the viewing axis, 0 where empty
    premultiplied: np.ndarray = field(repr=False)  # (H, W, 3) uint8, colour x coverage, black elsewhere


def light_direction(light: Light, camera: PerspectiveCamera) -> np.ndarray:
    """(3,) unit direction toward the light in world coordinates."""
    d = np.asarray(light.direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    return d if light.world else np.asarray(camera.rotation, dtype=np.float64).T @ d


def corner_normals(vertices: np.ndarray, triangles: np.ndarray, crease: float = CREASE) -> np.ndarray:
    """(T, 3, 3) unit normal at each triangle corner: area-weighted over the faces around the corner's
    position reachable across edges flatter than `crease`, so a box keeps sharp edges and a sphere
    comes out smooth. Positions are welded first (UV seams split vertices, not surfaces)."""
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    if len(t) == 0:
        return np.zeros((0, 3, 3))
    welded = weld_labels(v)[0][t]  # (T, 3)
    cross = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])  # (T, 3), length 2 x area
    unit = cross / np.maximum(np.linalg.norm(cross, axis=1, keepdims=True), 1e-300)
    adjacent, edges = trimesh.graph.face_adjacency(faces=welded, return_edges=True)  # (E, 2) each
    flat = (unit[adjacent[:, 0]] * unit[adjacent[:, 1]]).sum(axis=1) > np.cos(crease)
    adjacent, edges = adjacent[flat], edges[flat]
    links = [
        (_corner(welded, adjacent[:, 0], edges[:, e]), _corner(welded, adjacent[:, 1], edges[:, e]))
        for e in (0, 1)
    ]
    a, b = (np.concatenate(side) for side in zip(*links, strict=True))
    n = 3 * len(t)
    _, group = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    weighted = np.repeat(cross, 3, axis=0)  # (3T, 3), corner-major like group
    sums = np.stack([np.bincount(group, weighted[:, k], minlength=group.max() + 1) for k in range(3)], 1)
    normals = sums[group]
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.where(length > 0, normals / np.maximum(length, 1e-300), np.repeat(unit, 3, axis=0))
    return normals.reshape(-1, 3, 3)


def _corner(welded: np.ndarray, faces: np.ndarray, vertex: np.ndarray) -> np.ndarray:
    """Corner ids (face * 3 + k) of the faces at the given welded vertices."""
    return faces * 3 + np.argmax(welded[faces] == vertex[:, None], axis=1)


@dataclass(frozen=True, eq=False)
class Drawable:
    """One part ready to draw: numpy only, so it pickles to a worker; made once per asset."""

    positions: np.ndarray  # (N, 3) float32
    triangles: np.ndarray  # (T, 3) uint32
    normals: np.ndarray  # (N, 3) float64, unit
    linear: np.ndarray  # (N, 3) float64, linear base colour: the factor, or the file's vertex colours
    uv: np.ndarray | None  # (N, 2) float32, with texture
    texture: np.ndarray | None  # (H, W, 3) uint8 sRGB, alpha dropped (drawn opaque)


@dataclass(frozen=True, eq=False)
class Prepared:
    """An asset's parts ready to draw; render several views of one asset from one of these."""

    parts: tuple[Drawable, ...]
    name: str | None


def prepare(asset: Asset | Prepared) -> Prepared:
    """Normals (the file's, else crease-split ones) and colours, made once: about 3 ms per 1,000
    triangles, which render_object would otherwise spend on every view."""
    if isinstance(asset, Prepared):
        return asset
    parts = tuple(d for d in (_drawable(p) for p in asset.parts) if d is not None)
    return Prepared(parts, asset.name)


def _drawable(part: Part) -> Drawable | None:
    """Without the file's normals, corners are split where the crease normals differ: vertices
    that share a position but not a smoothing group come apart."""
    v, t = np.asarray(part.vertices, np.float64), np.asarray(part.triangles, np.int64).reshape(-1, 3)
    if len(t) == 0:
        return None
    source = np.arange(len(v))  # the part's vertex behind each drawn vertex
    if part.normals is not None:
        n = np.asarray(part.normals, np.float64)
        n = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    else:
        corner = corner_normals(v, t).reshape(-1, 3)  # (3T, 3)
        key = np.concatenate([t.reshape(-1, 1), np.round(corner, 6)], axis=1)  # (3T, 4) vertex, normal
        _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        source, t, n = t.reshape(-1)[first], inverse.reshape(-1, 3), corner[first]
    if part.colors is not None:  # the file's own colours are display-encoded
        linear = (np.asarray(part.colors)[source, :3].astype(np.float64) / 255.0) ** GAMMA
    else:
        linear = np.broadcast_to(np.asarray(part.color[:3], np.float64), (len(source), 3))
    textured = part.texture is not None and part.uv is not None and part.colors is None
    return Drawable(
        positions=v[source].astype(np.float32),
        triangles=t.astype(np.uint32),
        normals=n,
        linear=np.ascontiguousarray(linear),
        uv=np.asarray(part.uv, np.float32)[source] if textured else None,
        texture=_rgb(part.texture) if textured else None,
    )


def _rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: the image itself where it already is one, so the texture cache, keyed by
    identity, also hits for an Asset rendered unprepared."""
    if image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8 and image.flags.c_contiguous:
        return image
    return np.ascontiguousarray(np.atleast_3d(image)[..., :3].astype(np.uint8, copy=False))


def _texture(key: tuple, image: np.ndarray) -> pyrender.Texture:
    """The GL texture of an image for one renderer, kept between views: an upload with mipmaps
    costs about 15 ms for 1024 x 1024 and 60 ms for 2048 x 2048 on the software rasteriser. A
    Texture object belongs to one GL context (pyrender refuses to load it into a second), hence
    one cache per renderer; the entry holds the image, so its id cannot be reused meanwhile."""
    cache = _TEXTURES.setdefault(key, OrderedDict())
    hit = cache.get(id(image))
    if hit is not None and hit[0] is image:
        cache.move_to_end(id(image))
        return hit[1]
    texture = pyrender.Texture(source=image, source_channels="RGB")
    cache[id(image)] = (image, texture)
    while len(cache) > TEXTURE_CACHE:
        cache.popitem(last=False)  # the renderer frees its GL copy once a scene no longer uses it
    return texture


def _primitive(
    part: Drawable,
    lights: list[tuple[np.ndarray, float]],
    ambient: float,
    tint: tuple[float, float, float],
    key: tuple,
) -> pyrender.Primitive:
    """The part as a pyrender primitive for the unlit shader: light x tint x base colour in the
    vertex colours (display-encoded), times the texture (sRGB) in the shader."""
    colors = np.ones((len(part.positions), 4), np.float32)
    light = lambert(part.normals, lights, ambient)[:, None] * np.asarray(tint, np.float64)
    colors[:, :3] = encode(light * part.linear)
    texture = None if part.texture is None else _texture(key, part.texture)
    material = pyrender.MetallicRoughnessMaterial(
        baseColorFactor=[1.0, 1.0, 1.0, 1.0], baseColorTexture=texture, doubleSided=True
    )
    return pyrender.Primitive(
        positions=part.positions,
        indices=part.triangles,
        texcoord_0=part.uv,
        color_0=colors,
        material=material,
    )


def _draw(
    primitives: list, camera: PerspectiveCamera, points: np.ndarray, slot: str = "main", exact: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """((H, W, 4) uint8 MSAA colour over transparent black, so premultiplied by coverage; (H, W)
    float32 exact depth, if asked) of the primitives through the camera; points (N, 3) bound the
    geometry and set the clipping planes."""
    width, height = camera.size
    scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 0.0])
    node = scene.add(pyrender.Mesh(primitives))
    near, far = _clip(camera.project(points)[1])
    k = camera.intrinsics()
    cam = pyrender.IntrinsicsCamera(k[0, 0], k[1, 1], k[0, 2], k[1, 2], znear=near, zfar=far)
    scene.add(cam, pose=camera.pose())
    renderer = offscreen(width, height, slot)
    rgba, _ = renderer.render(scene, pyrender.RenderFlags.FLAT | pyrender.RenderFlags.RGBA)
    depth = exact_depth(renderer, scene, node).astype(np.float32) if exact else None
    return np.ascontiguousarray(rgba), depth


def _clip(depths: np.ndarray) -> tuple[float, float]:
    """Near and far planes around the geometry's depth range with room to spare; not a fixed tiny
    near plane, which would waste the depth buffer's precision."""
    lo, hi = float(depths.min()), float(depths.max())
    far = max(hi, 1e-3) * 1.5 + 1e-3
    near = lo * 0.5 if lo > 0 else far * 1e-4
    return near, far


def render_object(
    asset: Asset | Prepared,
    camera: PerspectiveCamera,
    lights: Lighting = Lighting(),  # noqa: B008 (frozen: a shared default is safe)
    background: np.ndarray | tuple[int, int, int] = (255, 255, 255),
) -> Render:
    """The asset through the camera over a colour or an (H, W, 3) uint8 image, with coverage, exact
    mask and depth. Pass prepare(asset) when rendering several views of one asset. Deterministic:
    equal inputs give equal bytes."""
    width, height = camera.size
    prepared = prepare(asset)
    if prepared.parts:
        directions = [(light_direction(x, camera), x.strength) for x in lights.lights]
        key = (os.getpid(), width, height)
        primitives = [_primitive(p, directions, lights.ambient, lights.tint, key) for p in prepared.parts]
        points = np.concatenate([p.positions for p in prepared.parts])
        rgba, depth = _draw(primitives, camera, points)
    else:
        rgba, depth = np.zeros((height, width, 4), np.uint8), np.zeros((height, width), np.float32)
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    premultiplied = np.ascontiguousarray(rgba[..., :3])
    render = Render(premultiplied, alpha, depth > 0, depth, premultiplied)
    render.rgb = composite(background_image(background, camera.size), render)
    return render


def ground_shadow(
    asset: Asset | Prepared,
    camera: PerspectiveCamera,
    light_dir: np.ndarray,
    softness_px: float,
    strength: float,
) -> np.ndarray:
    """(H, W) float32 0..strength shadow opacity on the ground plane z = 0: the object's triangles
    projected onto the plane along light_dir (world, toward the light, pointing up), drawn through
    the camera with MSAA coverage and blurred by a Gaussian of sigma softness_px cut at
    SHADOW_TRUNCATE sigmas, so it is exactly 0 farther than that from the projected outline. It
    includes the pixels under the object itself: the object covers them when composited, and its
    antialiased edge then shows the shadowed ground behind it."""
    width, height = camera.size
    d = np.asarray(light_dir, dtype=np.float64)
    d = d / np.linalg.norm(d)
    if d[2] < 0.05:
        raise ValueError(f"light_dir {tuple(d)} is at or below the horizon: no ground shadow")
    v, t = _mesh(asset)
    if len(t) == 0:
        return np.zeros((height, width), np.float32)
    points = v - (v[:, 2:3] / d[2]) * d  # slide each point down the light ray to z = 0
    white = pyrender.MetallicRoughnessMaterial(baseColorFactor=[1.0, 1.0, 1.0, 1.0], doubleSided=True)
    primitive = pyrender.Primitive(
        positions=points.astype(np.float32),
        indices=t.astype(np.uint32),
        material=white,
    )
    rgba, _ = _draw([primitive], camera, points, slot="shadow", exact=False)  # own context: keeps textures
    coverage = rgba[..., 3].astype(np.float32) / 255.0
    if softness_px > 0:
        coverage = gaussian_filter(
            coverage, sigma=float(softness_px), mode="constant", truncate=SHADOW_TRUNCATE
        )
    return (np.clip(coverage, 0.0, 1.0) * float(strength)).astype(np.float32)


def _mesh(asset: Asset | Prepared) -> tuple[np.ndarray, np.ndarray]:
    """All parts as one ((V, 3) float64 vertices, (T, 3) int64 triangles), at the float32 precision
    that prepare() keeps, so an Asset and its Prepared cast the same shadow bytes."""
    pairs = (
        [(p.positions, p.triangles) for p in asset.parts]
        if isinstance(asset, Prepared)
        else [(p.vertices, p.triangles) for p in asset.parts]
    )
    vertices, triangles, offset = [], [], 0
    for v, t in pairs:
        vertices.append(np.asarray(v, np.float32).astype(np.float64).reshape(-1, 3))
        triangles.append(np.asarray(t, np.int64).reshape(-1, 3) + offset)
        offset += len(vertices[-1])
    if not vertices:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    return np.concatenate(vertices), np.concatenate(triangles)


def composite(background_rgb: np.ndarray, render: Render, shadow: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8: the shadow darkens the background (multiplied by 1 - opacity), then the
    object goes over it by its coverage. Pixels with alpha 0 and no shadow keep the background's
    bytes exactly, which Background-First pairs are checked on."""
    bg = np.asarray(background_rgb)
    if bg.shape != render.premultiplied.shape:
        raise ValueError(f"background {bg.shape} does not match the render {render.premultiplied.shape}")
    ground = bg.astype(np.float32)
    if shadow is not None:
        ground *= 1.0 - shadow[..., None]
    out = render.premultiplied.astype(np.float32) + (1.0 - render.alpha[..., None]) * ground
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    untouched = render.alpha == 0 if shadow is None else (render.alpha == 0) & (shadow == 0)
    return np.where(untouched[..., None], bg.astype(np.uint8), out)


def gradient_background(
    size: tuple[int, int], top_rgb: tuple[int, int, int], bottom_rgb: tuple[int, int, int]
) -> np.ndarray:
    """(H, W, 3) uint8 vertical gradient, sampled at pixel centres (size is (width, height))."""
    width, height = size
    t = ((np.arange(height) + 0.5) / height)[:, None]  # (H, 1)
    rows = (1 - t) * np.asarray(top_rgb, np.float64) + t * np.asarray(bottom_rgb, np.float64)  # (H, 3)
    return np.ascontiguousarray(
        np.broadcast_to(np.rint(rows)[:, None, :], (height, width, 3)).astype(np.uint8)
    )


def background_image(background: np.ndarray | tuple[int, int, int], size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 from a colour or an image of the camera's size."""
    width, height = size
    if isinstance(background, np.ndarray) and background.ndim == 3:
        if background.shape != (height, width, 3):
            raise ValueError(f"background {background.shape} is not ({height}, {width}, 3)")
        return background.astype(np.uint8, copy=False)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = np.asarray(background, dtype=np.uint8)[:3]
    return image
