"""3D assets built here from trimesh primitives, as the bytes of real files, so tests and the demo
need no downloads: a textured chair (GLB, one procedural texture shared by two parts, legs
instanced by node transforms), a toy car with distinct coloured parts in a nested scene graph
(GLB; the same car flattened with vertex colours as OBJ and PLY), and a vase, a solid of
revolution whose turn about its axis changes nothing (GLB and self-contained glTF).

Every asset is authored Y up, glTF's convention, with its front toward +Z (the car drives toward
+X). Same code, same bytes.
"""

from __future__ import annotations

import functools
import json
import struct

import numpy as np
import trimesh
from PIL import Image, ImageDraw
from trimesh.visual.material import PBRMaterial

from renderers.mesh.render import GAMMA

TEXTURE_SIDE = 64
RED, BLUE, BLACK, YELLOW, GREY, WOOD = (
    (200, 30, 30, 255),
    (40, 90, 200, 255),
    (25, 25, 25, 255),
    (240, 200, 40, 255),
    (150, 150, 150, 255),
    (120, 80, 45, 255),
)


def sample_assets() -> dict[str, bytes]:
    """file name -> bytes."""
    car = toy_car()
    flat = flatten(car)
    vase_scene = vase()
    return {
        "chair.glb": export_glb(chair()),
        "toy_car.glb": export_glb(car),
        "toy_car.obj": flat.export(file_type="obj", include_normals=False).encode(),
        "toy_car.ply": flat.export(file_type="ply"),
        "vase.glb": export_glb(vase_scene),
        "vase.gltf": trimesh.exchange.gltf.export_gltf(vase_scene, embed_buffers=True)["model.gltf"],
    }


def export_glb(scene: trimesh.Scene) -> bytes:
    return trimesh.exchange.gltf.export_glb(scene)


# -- the assets ------------------------------------------------------------------------------------


def chair() -> trimesh.Scene:
    """A seat and a backrest at the back (-Z), both wearing the same checker with an "F" (which
    reads wrong in a mirror), on four legs that are one mesh placed by four node transforms."""
    scene = trimesh.Scene()
    material = PBRMaterial(name="checker", baseColorTexture=checker_f(), baseColorFactor=[255, 255, 255, 255])
    seat = textured_box((1.0, 0.1, 1.0), material)
    back = textured_box((1.0, 1.0, 0.1), material)
    scene.add_geometry(seat, node_name="seat", geom_name="seat", transform=_move(0.0, 0.5, 0.0))
    scene.add_geometry(back, node_name="back", geom_name="back", transform=_move(0.0, 1.05, -0.45))
    leg = coloured(trimesh.creation.cylinder(0.05, 0.5, sections=12), WOOD)
    leg.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))  # along Y
    for i, (x, z) in enumerate([(-0.4, -0.4), (0.4, -0.4), (-0.4, 0.4), (0.4, 0.4)]):
        scene.add_geometry(leg, node_name=f"leg_{i}", geom_name="leg", transform=_move(x, 0.2, z))
    scene.metadata["name"] = "chair"
    return scene


def toy_car() -> trimesh.Scene:
    """A red body, a blue cabin toward the back, a yellow headlight bar at the front, an antenna
    on the left rear corner (so no mirror or turn maps the car onto itself), and four black wheels
    that are children of a translated axle node (transforms compose down the graph)."""
    scene = trimesh.Scene()
    scene.add_geometry(coloured(trimesh.creation.box((2.0, 0.5, 1.0)), RED), node_name="body",
                       geom_name="body", transform=_move(0.0, 0.45, 0.0))  # fmt: skip
    scene.add_geometry(coloured(trimesh.creation.box((1.0, 0.4, 0.9)), BLUE), node_name="cabin",
                       geom_name="cabin", transform=_move(-0.3, 0.9, 0.0))  # fmt: skip
    scene.add_geometry(coloured(trimesh.creation.box((0.05, 0.12, 0.8)), YELLOW), node_name="headlights",
                       geom_name="headlights", transform=_move(1.01, 0.5, 0.0))  # fmt: skip
    antenna = coloured(trimesh.creation.cylinder(0.02, 0.6, sections=8), BLACK)
    antenna.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    scene.add_geometry(antenna, node_name="antenna", geom_name="antenna", transform=_move(-0.85, 1.0, -0.4))
    scene.graph.update(frame_to="axles", frame_from=scene.graph.base_frame, matrix=_move(0.0, 0.25, 0.0))
    wheel = coloured(trimesh.creation.cylinder(0.25, 0.15, sections=24), BLACK)  # its axis along Z
    for i, (x, z) in enumerate([(-0.6, -0.5), (0.6, -0.5), (-0.6, 0.5), (0.6, 0.5)]):
        scene.add_geometry(wheel, node_name=f"wheel_{i}", geom_name="wheel", parent_node_name="axles",
                           transform=_move(x, 0.0, z))  # fmt: skip
    scene.metadata["name"] = "toy car"
    return scene


def vase(sections: int = 48) -> trimesh.Scene:
    """A grey solid of revolution about Y: a turn about its axis by a multiple of 360/sections
    degrees maps it onto itself exactly, and any turn leaves its render unchanged to the eye."""
    profile = [(0.0, 0.0), (0.30, 0.0), (0.38, 0.25), (0.30, 0.60), (0.18, 0.80), (0.22, 1.0), (0.0, 1.0)]
    body = trimesh.creation.revolve(profile, sections=sections)  # about Z
    body.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))  # Z -> Y
    scene = trimesh.Scene()
    scene.add_geometry(coloured(body, GREY), node_name="vase", geom_name="vase")
    scene.metadata["name"] = "vase"
    return scene


def flatten(scene: trimesh.Scene) -> trimesh.Trimesh:
    """The scene as one mesh in world coordinates, each part's colour on its vertices (how OBJ and
    PLY carry colour without a material file). Parts in node-name order."""
    meshes = []
    for node in sorted(scene.graph.nodes_geometry):
        matrix, name = scene.graph[node]
        mesh = scene.geometry[name].copy()
        rgba = np.asarray(scene.geometry[name].metadata["display_rgba"], dtype=np.uint8)
        mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=np.tile(rgba, (len(mesh.vertices), 1)))
        mesh.apply_transform(matrix)
        meshes.append(mesh)
    flat = trimesh.util.concatenate(meshes)
    flat.metadata["name"] = scene.metadata.get("name")
    return flat


# -- pieces ----------------------------------------------------------------------------------------


def _move(x: float, y: float, z: float) -> np.ndarray:
    return trimesh.transformations.translation_matrix([x, y, z])


def linear(rgba: tuple[int, int, int, int]) -> list[int]:
    """A display (sRGB-encoded) colour as glTF's baseColorFactor wants it: linear, alpha kept."""
    return [round(255 * (c / 255) ** GAMMA) for c in rgba[:3]] + [rgba[3]]


def coloured(mesh: trimesh.Trimesh, rgba: tuple[int, int, int, int]) -> trimesh.Trimesh:
    """The mesh with a plain PBR material (a base colour factor, no texture); the display colour
    stays in its metadata for the formats that store display colours per vertex (OBJ, PLY)."""
    mesh.visual = trimesh.visual.TextureVisuals(material=PBRMaterial(baseColorFactor=linear(rgba)))
    mesh.metadata["display_rgba"] = list(rgba)
    return mesh


@functools.cache
def checker_f(side: int = TEXTURE_SIDE) -> Image.Image:
    """An 8 x 8 checker of two creams with a red "F" drawn from rectangles (no font involved)."""
    cells = (np.indices((side, side)) // (side // 8)).sum(axis=0) % 2
    pixels = np.where(cells[..., None] == 1, [235, 225, 200], [200, 185, 150]).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw, u = ImageDraw.Draw(image), side // 16
    for box in ((4, 3, 6, 13), (6, 3, 12, 5), (6, 7, 10, 9)):  # stem, top bar, middle bar
        draw.rectangle([c * u for c in box[:2]] + [c * u - 1 for c in box[2:]], fill=(180, 20, 20))
    return image


def textured_box(extents: tuple[float, float, float], material: PBRMaterial) -> trimesh.Trimesh:
    """A box with one vertex per face corner (flat normals, its own UVs per face): each face shows
    the whole texture, upright and unmirrored seen from outside with Y up (top and bottom: with -Z up)."""
    box = trimesh.creation.box(extents)
    box.unmerge_vertices()
    v, normals = box.vertices, box.face_normals[np.repeat(np.arange(len(box.faces)), 3)]
    corners = box.faces.reshape(-1)
    uv = np.zeros((len(v), 2))
    half = np.asarray(extents) / 2
    for i in corners:
        n, p = normals[i], v[i] / half  # p in [-1, 1]^3
        axis = int(np.argmax(np.abs(n)))
        s = np.sign(n[axis])
        if axis == 0:
            u_, w = -s * p[2], p[1]
        elif axis == 2:
            u_, w = s * p[0], p[1]
        else:  # seen from above or below, -Z is the image's up
            u_, w = s * p[0], -p[2]
        uv[i] = ((u_ + 1) / 2, (w + 1) / 2)
    box.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    _ = box.vertex_normals  # computed now, so the GLB carries them (flat: each corner its face's)
    return box


def pack_glb(tree: dict, binary: bytes | None) -> bytes:
    """A GLB from its JSON and binary chunk (tests build broken files with it)."""
    text = json.dumps(tree, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    chunks = struct.pack("<II", len(text), 0x4E4F534A) + text
    if binary is not None:
        binary += b"\0" * (-len(binary) % 4)
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    return b"glTF" + struct.pack("<II", 2, 12 + len(chunks)) + chunks


def unpack_glb(data: bytes) -> tuple[dict, bytes | None]:
    """The JSON and binary chunk of a well-formed GLB."""
    size = struct.unpack_from("<I", data, 12)[0]
    tree = json.loads(data[20 : 20 + size])
    at = 20 + size + (-size % 4)
    binary = data[at + 8 : at + 8 + struct.unpack_from("<I", data, at)[0]] if at < len(data) else None
    return tree, binary
