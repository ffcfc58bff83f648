"""Read a 3D asset (GLB, self-contained glTF, OBJ, PLY) from bytes into an Asset: the one door
through which 3D files from outside become renders.

Files from outside may be broken, huge, slow or point elsewhere: every failure is an AssetReject
with a row's reason code, checked in the cheapest order (suffix, size, the glTF's own JSON, parse,
counts, values), so nothing expensive runs on a file that a cheap check refuses. Nothing named
inside a file is ever opened: a glTF's buffers and images must be inside it (GLB chunks or
data: URIs), and trimesh gets a resolver that refuses every name (an OBJ's mtllib, a PLY's
TextureFile). So an OBJ or PLY brings its geometry and its vertex colours, never its .mtl or
texture files. Run load_asset through AssetReader, not in a worker: a hang or a crash in a parser
then costs a child process.

The scene graph is flattened: every node that holds a mesh becomes a Part (one per glTF
primitive, so one material each), its vertices carried by the node's world transform. Then the
whole asset is turned upright (limits.up) and normalised to the unit frame asset.py describes.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import struct
from dataclasses import dataclass

import numpy as np
import trimesh
from PIL import Image
from trimesh.resolvers import Resolver

from renderers.mesh.asset import DEFAULT_COLOR, Asset, Part
from synth import contain
from synth.contain import Reader, Reject

SUFFIXES = (".glb", ".gltf", ".obj", ".ply")
REASONS = ("decode_error", "too_large", "unsafe_input", "timeout")
# file frame -> Z up: glTF is Y up, so Y goes to Z (a quarter turn about X; glTF's front, +Z,
# then faces -Y, Blender's front view)
UP = {"y": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), "z": np.eye(3)}
GLB_MAGIC, GLB_JSON, GLB_BIN = b"glTF", 0x4E4F534A, 0x004E4942
# geometry trimesh would fill with zeros (no decoder installed) instead of failing
UNDECODABLE = ("KHR_draco_mesh_compression", "EXT_meshopt_compression", "KHR_meshopt_compression")
PRELOAD = ("trimesh", "PIL.Image", "renderers.mesh.load")
_GENERIC = re.compile(  # exporters' placeholders, matched on the lower-case name, underscores as spaces
    r"(scene|root|rootnode|world|default|defaultobject|mesh|object|node|geometry|group|model|untitled"
    r"|gltf|sketchfab scene|sketchfab model|collada visual scene group|cube|sphere|cylinder|plane)"
    r"([ .-]*\d+)?( \(gltf orientation matrix\))?"
)
# a source file's suffix and what converters append to it ("chair.obj.cleaner.materialmerger.gles")
_FILE_SUFFIX = re.compile(
    r"\.(fbx|obj|glb|gltf|blend|3ds|dae|max|stl|ply|c4d|ma|mb)(\.[\w.]*)?$", re.IGNORECASE
)
SINGULAR = 1e12  # a node transform's condition number past which it squashes its mesh flat
CHAIN = 8  # how far down a chain of only children a name is looked for


class AssetReject(Reject):
    """A file that cannot become an asset; ``reason`` is the row's reason code ("timeout" is a
    hang, which a stage records as render_timeout)."""

    REASONS = REASONS


@dataclass(frozen=True)
class LoadLimits:
    """What a file may cost before it is refused, and which of its axes is up."""

    max_bytes: int = 256 << 20
    max_triangles: int = 500_000  # over all parts, each instance counted
    max_texture_side: int = 4096
    up: str = "y"  # "y": the glTF convention (and most OBJ/PLY exports); "z": CAD and scans

    def __post_init__(self):
        if self.up not in UP:
            raise ValueError(f"up must be one of {sorted(UP)}, not {self.up!r}")


def precheck(data: bytes, suffix: str, limits: LoadLimits) -> str:
    """The suffix, lower case with its dot, once the checks that need no parsing pass (a caller
    runs them before shipping a file to a child process)."""
    return contain.precheck(data, suffix, SUFFIXES, limits.max_bytes, AssetReject)


def load_asset(data: bytes, suffix: str, limits: LoadLimits) -> Asset:
    """The asset in a GLB, glTF, OBJ or PLY file, flattened and normalised; raises AssetReject.
    Same bytes, same arrays. Runs in this process: see AssetReader for untrusted files."""
    suffix = precheck(data, suffix, limits)
    tree = None
    if suffix in (".glb", ".gltf"):
        tree, buffers = gltf_container(data, suffix)
        check_gltf(tree, buffers, limits)
    scene = _parse(data, suffix)
    parts = _flatten(scene, limits)
    rotation = UP[limits.up]
    pose = _pose(parts, rotation)
    s, c = pose["scale"], np.array(pose["centre"])
    for p in parts:
        p.vertices = np.ascontiguousarray(s * (p.vertices - c) @ rotation.T)
        if p.normals is not None:
            p.normals = np.ascontiguousarray(p.normals @ rotation.T.astype(np.float32))
    textures = {id(p.texture) for p in parts if p.texture is not None}
    extra = {
        **pose,
        "up": limits.up,
        "format": suffix[1:],
        "parts": len(parts),
        "triangles": sum(len(p.triangles) for p in parts),
        "textures": len(textures),
    }
    return Asset(parts, asset_name(tree, scene), extra)


class AssetReader(Reader):
    """load_asset in a long-lived child process with a per-file timeout (seconds): ``read(data,
    suffix, limits) -> Asset``. Raises AssetReject: "timeout" past the timeout, "decode_error"
    when the child dies, and the child's own AssetReject as it was raised."""

    load = staticmethod(load_asset)
    precheck = staticmethod(precheck)
    modules = PRELOAD
    rejects = AssetReject


# -- glTF, before trimesh sees it ------------------------------------------------------------------


def gltf_container(data: bytes, suffix: str) -> tuple[dict, list[bytes | None]]:
    """The glTF JSON and its buffers' bytes (None for a buffer that is not inside the file). A GLB
    is a 12-byte header, a JSON chunk and an optional binary chunk, which is buffer 0."""
    binary = None
    if suffix == ".glb":
        if len(data) < 20 or data[:4] != GLB_MAGIC:
            raise AssetReject("decode_error", "not a GLB file (no glTF header)")
        version, length = struct.unpack_from("<II", data, 4)
        if version != 2:
            raise AssetReject("decode_error", f"GLB version {version}; only glTF 2 is read")
        if length > len(data):
            raise AssetReject("decode_error", f"the GLB is truncated: {len(data)} of {length} bytes")
        chunks, at = [], 12
        while at + 8 <= length:
            size, kind = struct.unpack_from("<II", data, at)
            if at + 8 + size > length:
                raise AssetReject("decode_error", "the GLB is truncated inside a chunk")
            chunks.append((kind, data[at + 8 : at + 8 + size]))
            at += 8 + size + (-size % 4)
        if not chunks or chunks[0][0] != GLB_JSON:
            raise AssetReject("decode_error", "the GLB has no JSON chunk")
        text = chunks[0][1]
        binary = next((c for k, c in chunks[1:] if k == GLB_BIN), None)
    else:
        text = data
    try:
        tree = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AssetReject("decode_error", f"the glTF JSON does not parse: {e}") from None
    if not isinstance(tree, dict):
        raise AssetReject("decode_error", "the glTF JSON is not an object")
    buffers: list[bytes | None] = []
    for i, b in enumerate(_list(tree, "buffers")):
        uri = b.get("uri")
        buffers.append(binary if uri is None and i == 0 else _data_uri(uri, f"buffers[{i}]"))
    return tree, buffers


def _list(tree: dict, key: str) -> list[dict]:
    items = tree.get(key, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise AssetReject("decode_error", f"the glTF's {key} is not a list of objects")
    return items


def _data_uri(uri: object, where: str) -> bytes | None:
    """The bytes of a base64 data: URI. Any other URI names something outside the file: refused,
    and never opened."""
    if uri is None:
        return None
    if not isinstance(uri, str) or not uri.startswith("data:"):
        raise AssetReject(
            "unsafe_input",
            f"{where}.uri names a file outside the asset ({str(uri)[:80]!r}); only self-contained "
            "files are read (GLB, or glTF with data: URIs)",
        )
    head, sep, body = uri.partition(",")
    if not sep or not head.endswith(";base64"):
        raise AssetReject("decode_error", f"{where}.uri is a data: URI that is not base64")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as e:
        raise AssetReject("decode_error", f"{where}.uri does not decode as base64: {e}") from None


def check_gltf(tree: dict, buffers: list[bytes | None], limits: LoadLimits) -> None:
    """Refuse what trimesh would read wrongly or at any cost: external images, geometry it cannot
    decompress (it fills it with zeros and warns), and textures that are too large or broken
    (it would drop those silently). Image sizes come from their headers, before any decoding."""
    missing = sorted(set(tree.get("extensionsRequired") or []) & set(UNDECODABLE))
    if missing:
        raise AssetReject("decode_error", f"the geometry needs {', '.join(missing)}, which is not supported")
    views = _list(tree, "bufferViews")
    for i, img in enumerate(_list(tree, "images")):
        label = f"texture image {i}" + (f" ({img['name']!r})" if isinstance(img.get("name"), str) else "")
        if "uri" in img:
            blob = _data_uri(img["uri"], f"images[{i}]")
        else:
            blob = _view(views, buffers, img.get("bufferView"), label)
        _check_image(blob, label, limits)


def _view(views: list[dict], buffers: list[bytes | None], index: object, label: str) -> bytes:
    try:
        v = views[index]  # type: ignore[index]
        buffer = buffers[v.get("buffer", 0)]
        start = int(v.get("byteOffset", 0))
        end = start + int(v["byteLength"])
    except (IndexError, KeyError, TypeError, ValueError):
        raise AssetReject("decode_error", f"{label} points to no buffer view") from None
    if buffer is None or not 0 <= start <= end <= len(buffer):
        raise AssetReject("decode_error", f"{label}'s bytes lie outside its buffer")
    return buffer[start:end]


def _check_image(blob: bytes | None, label: str, limits: LoadLimits) -> None:
    try:
        with Image.open(io.BytesIO(blob or b"")) as im:
            if max(im.size) > limits.max_texture_side:
                raise AssetReject(
                    "too_large",
                    f"{label} is {im.size[0]}x{im.size[1]}; the cap is {limits.max_texture_side} a side",
                )
            im.load()
    except Image.DecompressionBombError as e:
        raise AssetReject("too_large", f"{label}: {e}") from None
    except AssetReject:
        raise
    except Exception as e:  # noqa: BLE001 - PIL's decoders raise anything
        raise AssetReject("decode_error", f"{label} does not decode: {type(e).__name__}: {e}") from None


# -- trimesh ---------------------------------------------------------------------------------------


class _NoFiles(Resolver):
    """Refuses every name a file asks for (OSError: trimesh then goes on without it)."""

    def __init__(self) -> None:
        pass

    def get(self, key: str) -> bytes:
        raise OSError(f"refused to open {key!r}: an asset is read from its own bytes only")

    def write(self, name: str, data: object) -> None:
        raise OSError("an asset reader writes nothing")

    def namespaced(self, namespace: str) -> _NoFiles:
        return self

    def keys(self) -> list[str]:
        return []


def _parse(data: bytes, suffix: str) -> trimesh.Scene:
    try:
        scene = trimesh.load(io.BytesIO(data), file_type=suffix[1:], force="scene", resolver=_NoFiles())
    except Exception as e:  # noqa: BLE001 - trimesh's parsers raise anything
        raise AssetReject(
            "decode_error", f"the {suffix} file does not parse: {type(e).__name__}: {str(e)[:200]}"
        ) from None
    if not isinstance(scene, trimesh.Scene):
        raise AssetReject("decode_error", f"the {suffix} file holds no scene")
    return scene


def _flatten(scene: trimesh.Scene, limits: LoadLimits) -> list[Part]:
    """One Part per (node, triangle mesh), in node-name order (trimesh's graph order is not
    promised), each in world coordinates. A node scaled to nothing (how animated files hide
    parts) draws nothing, and its point must not stretch the box. The triangle cap is checked
    before any copying."""
    nodes = []
    for node in sorted(scene.graph.nodes_geometry):
        matrix, name = scene.graph[node]
        matrix = np.asarray(matrix, dtype=np.float64)
        mesh = scene.geometry.get(name)
        if not isinstance(mesh, trimesh.Trimesh) or not len(mesh.faces):
            continue
        if not np.isfinite(matrix).all():
            raise AssetReject("decode_error", f"node {node!r} has a non-finite transform")
        if np.linalg.cond(matrix[:3, :3]) < SINGULAR:
            nodes.append((node, matrix, mesh))
    if not nodes:
        raise AssetReject("decode_error", "the file has no triangles")
    total = sum(len(m.faces) for _, _, m in nodes)
    if total > limits.max_triangles:
        raise AssetReject("too_large", f"{total} triangles exceeds the cap of {limits.max_triangles}")
    textures: dict[int, np.ndarray] = {}
    return [_part(node, matrix, mesh, limits, textures) for node, matrix, mesh in nodes]


def _part(node: str, matrix: np.ndarray, mesh: trimesh.Trimesh, limits: LoadLimits, textures: dict) -> Part:
    """A mesh carried by its node's transform, with its material. A mirroring transform reverses
    each triangle, so the outside stays counter-clockwise."""
    v = np.asarray(mesh.vertices, dtype=np.float64)
    t = np.asarray(mesh.faces, dtype=np.int64)
    if not np.isfinite(v).all():
        raise AssetReject("decode_error", f"node {node!r} has non-finite coordinates")
    if t.min() < 0 or t.max() >= len(v):
        raise AssetReject("decode_error", f"node {node!r} has triangles indexing missing vertices")
    linear = matrix[:3, :3]
    vertices = v @ linear.T + matrix[:3, 3]
    if np.linalg.det(linear) < 0:
        t = t[:, ::-1]
    normals = _file_normals(mesh)
    if normals is not None:
        n = normals @ np.linalg.inv(linear)  # the inverse transpose carries normals
        normals = (n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    color, texture, uv, colors, corners = _material(node, mesh, limits, textures)
    if corners:  # colours per face: one vertex per triangle corner, so each corner takes its face's
        vertices = vertices[t].reshape(-1, 3)
        normals = None if normals is None else normals[t].reshape(-1, 3)
        t = np.arange(3 * len(t), dtype=np.int64).reshape(-1, 3)
    return Part(
        vertices=np.ascontiguousarray(vertices),
        triangles=np.ascontiguousarray(t),
        normals=normals,
        uv=uv,
        color=color,
        texture=texture,
        colors=colors,
        name=node,
    )


def _file_normals(mesh: trimesh.Trimesh) -> np.ndarray | None:
    """The file's vertex normals, or None: trimesh keeps loaded normals in its cache and would
    compute them on asking, so the cache is read without asking."""
    cached = getattr(getattr(mesh, "_cache", None), "cache", {}).get("vertex_normals")
    if cached is None or np.shape(cached) != mesh.vertices.shape or not np.isfinite(cached).all():
        return None
    return np.asarray(cached, dtype=np.float64)


def _material(node: str, mesh: trimesh.Trimesh, limits: LoadLimits, textures: dict) -> tuple:
    """(base colour factor, texture, uv, colours, whether the colours are per triangle corner) of
    a mesh's visual."""
    vis = mesh.visual
    n = len(mesh.vertices)
    white = (1.0, 1.0, 1.0, 1.0)
    if isinstance(vis, trimesh.visual.ColorVisuals):
        if vis.kind == "vertex":
            return white, None, None, _rgba8(vis.vertex_colors), False
        if vis.kind == "face":
            return white, None, None, np.repeat(_rgba8(vis.face_colors), 3, axis=0), True
        return DEFAULT_COLOR, None, None, None, False
    if not isinstance(vis, trimesh.visual.TextureVisuals):
        return DEFAULT_COLOR, None, None, None, False
    mat = vis.material
    if isinstance(mat, trimesh.visual.material.PBRMaterial):
        factor, image = mat.baseColorFactor, mat.baseColorTexture
    elif isinstance(mat, trimesh.visual.material.SimpleMaterial):
        factor, image = mat.diffuse, mat.image
    else:
        factor, image = None, None
    color = DEFAULT_COLOR if factor is None else _factor(factor)
    uv = None if vis.uv is None else np.asarray(vis.uv, dtype=np.float32)
    if uv is None or uv.shape != (n, 2) or not np.isfinite(uv).all():
        uv, image = None, None  # a texture without coordinates cannot be placed
    texture = None if image is None else _texture(image, node, limits, textures)
    extra = vis.vertex_attributes.get("color") if vis.vertex_attributes else None
    colors = None if extra is None or len(extra) != n else _rgba8(extra)  # glTF COLOR_0 with a material
    return color, texture, uv, colors, False


def _factor(factor: object) -> tuple[float, float, float, float]:
    """trimesh holds colour factors as uint8 (glTF's floats scaled and rounded to 1/255)."""
    c = np.asarray(factor).reshape(-1)
    f = c / 255.0 if c.dtype.kind in "ui" else c.astype(np.float64)
    rgba = (list(np.clip(f, 0.0, 1.0)) + [1.0, 1.0, 1.0, 1.0])[:4]
    return tuple(float(x) for x in rgba)  # type: ignore[return-value]


def _rgba8(colors: object) -> np.ndarray:
    """Colours as (N, 4) uint8, from floats in [0, 1] or 8- or 16-bit integers."""
    c = np.asarray(colors)
    if c.dtype.kind == "f":
        c = np.round(np.clip(np.nan_to_num(c), 0.0, 1.0) * 255.0)
    elif c.dtype.itemsize == 2:
        c = c >> 8
    c = c.astype(np.uint8).reshape(len(c), -1)
    if c.shape[1] == 3:
        c = np.concatenate([c, np.full((len(c), 1), 255, np.uint8)], axis=1)
    return np.ascontiguousarray(c[:, :4])


def _texture(image: Image.Image, node: str, limits: LoadLimits, cache: dict) -> np.ndarray:
    """The image as uint8 RGB, or RGBA where it has alpha; one array per image however many parts
    share it."""
    if id(image) in cache:
        return cache[id(image)]
    if max(image.size) > limits.max_texture_side:
        raise AssetReject(
            "too_large",
            f"node {node!r}'s texture is {image.size[0]}x{image.size[1]}; "
            f"the cap is {limits.max_texture_side} a side",
        )
    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    try:
        array = np.ascontiguousarray(np.asarray(image.convert("RGBA" if alpha else "RGB"), dtype=np.uint8))
    except Exception as e:  # noqa: BLE001 - PIL's decoders raise anything
        raise AssetReject("decode_error", f"node {node!r}'s texture does not decode: {e}") from None
    cache[id(image)] = array
    return array


# -- pose and name ---------------------------------------------------------------------------------


def _pose(parts: list[Part], rotation: np.ndarray) -> dict:
    """scale and centre (file frame) of p -> scale * rotation @ (p - centre): the upright box's
    centre goes to x = y = 0, its floor to z = 0, its longest side to 1."""
    v = np.concatenate([p.vertices for p in parts]) @ rotation.T
    if not np.isfinite(v).all():
        raise AssetReject("decode_error", "the file has non-finite coordinates")
    lo, hi = v.min(axis=0), v.max(axis=0)
    side = float((hi - lo).max())
    if not side > 0.0:
        raise AssetReject("decode_error", "the geometry has no extent (every vertex at one point)")
    centre = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    return {"scale": 1.0 / side, "centre": (rotation.T @ centre).tolist(), "rotation": rotation.tolist()}


def asset_name(tree: dict | None, scene: trimesh.Scene | None) -> str | None:
    """What the object is called, first found: a glTF's scene extras (name, title) or asset
    extras, its scene's name, the names down from its one root node while each node has one
    child, its one mesh's name; an OBJ's or PLY's metadata name or its one object's name.
    Exporters' placeholders ("Scene", "RootNode", "Object_2", "Sketchfab_model") do not count."""
    candidates: list[object] = []
    if tree is not None:
        scenes, nodes, meshes = (_items(tree.get(k)) for k in ("scenes", "nodes", "meshes"))
        index = tree.get("scene", 0)
        root = scenes[index] if isinstance(index, int) and 0 <= index < len(scenes) else {}
        extras = [_dict(root.get("extras")), _dict(_dict(tree.get("asset")).get("extras"))]
        candidates += [e.get(k) for e in extras for k in ("name", "title")]
        candidates.append(root.get("name"))
        below = root.get("nodes") or []
        for _ in range(CHAIN):  # down from a single root while each node has one child
            one = isinstance(below, list) and len(below) == 1 and isinstance(below[0], int)
            if not (one and 0 <= below[0] < len(nodes)):
                break
            candidates.append(nodes[below[0]].get("name"))
            below = nodes[below[0]].get("children") or []
        if len(meshes) == 1:
            candidates.append(meshes[0].get("name"))
    elif scene is not None:
        candidates.append(scene.metadata.get("name"))
        if len(scene.geometry) == 1:
            candidates.append(next(iter(scene.geometry)))
    for c in candidates:
        name = clean_name(c)
        if name:
            return name
    return None


def _dict(x: object) -> dict:
    return x if isinstance(x, dict) else {}


def _items(x: object) -> list[dict]:
    """A glTF list of objects, anything malformed in it as {} (a name is never worth a refusal)."""
    return [_dict(i) for i in x] if isinstance(x, list) else []


def clean_name(raw: object) -> str | None:
    """A name as words (underscores to spaces, a file suffix dropped), None for a placeholder."""
    if not isinstance(raw, str):
        return None
    name = " ".join(_FILE_SUFFIX.sub("", raw.strip()).replace("_", " ").split())
    if not name or len(name) > 80 or not any(ch.isalpha() for ch in name):
        return None
    return None if _GENERIC.fullmatch(name.lower()) else name
