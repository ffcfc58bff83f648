"""3D assets from outside: the built-in samples read back in every format with their parts,
textures and names, in the normalised frame; scene-graph transforms and the up axis applied;
every bad kind of file refused with its reason and nothing named inside a file ever opened; the
reader contained in a child process that a hang costs; same bytes, same arrays."""

from __future__ import annotations

import base64
import copy
import io
import json
import pickle
import struct
import time

import numpy as np
import pytest
import trimesh
from PIL import Image

from renderers.cad.read import CadReject
from renderers.mesh.asset import Asset
from renderers.mesh.load import AssetReader, AssetReject, LoadLimits, asset_name, clean_name, load_asset
from renderers.mesh.load import _parse as parse
from renderers.mesh.render import GAMMA
from renderers.mesh.samples import pack_glb, sample_assets, unpack_glb
from synth.contain import Contained, Reject

LIMITS = LoadLimits()
# file -> (parts, distinct textures, name, whether the parts carry vertex colours)
EXPECTED = {
    "chair.glb": (6, 1, "chair", False),
    "toy_car.glb": (8, 0, "toy car", False),
    "toy_car.obj": (1, 0, "toy car", True),
    "toy_car.ply": (1, 0, None, True),
    "vase.glb": (1, 0, "vase", False),
    "vase.gltf": (1, 0, "vase", False),
}


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    return sample_assets()


def load(data: bytes, suffix: str, limits: LoadLimits = LIMITS) -> Asset:
    return load_asset(data, suffix, limits)


def suffix_of(name: str) -> str:
    return "." + name.rsplit(".", 1)[1]


def arrays(asset: Asset) -> list[bytes]:
    """Every array of every part as bytes, and the rest as text: equal lists, equal assets."""
    out = [repr((asset.name, asset.extra)).encode()]
    for p in asset.parts:
        out.append(repr((p.name, p.color)).encode())
        for a in (p.vertices, p.triangles, p.normals, p.uv, p.texture, p.colors):
            out.append(b"-" if a is None else f"{a.dtype}{a.shape}".encode() + a.tobytes())
    return out


# -- the samples -----------------------------------------------------------------------------------


def test_samples_are_deterministic_bytes(samples):
    assert sample_assets() == samples
    assert set(samples) == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_sample_loads_with_its_parts_textures_and_name(samples, name):
    parts, textures, label, coloured = EXPECTED[name]
    asset = load(samples[name], suffix_of(name))
    assert (len(asset.parts), asset.extra["textures"], asset.name) == (parts, textures, label)
    assert asset.extra["format"] == name.rsplit(".", 1)[1] and asset.extra["parts"] == parts
    assert asset.extra["triangles"] == asset.triangles
    for p in asset.parts:
        assert p.vertices.dtype == np.float64 and p.triangles.dtype == np.int64
        assert p.triangles.min() >= 0 and p.triangles.max() < len(p.vertices)
        assert (p.colors is not None) == coloured
        if p.colors is not None:
            assert p.colors.dtype == np.uint8 and p.colors.shape == (len(p.vertices), 4)
        if p.texture is not None:
            assert p.texture.dtype == np.uint8 and p.texture.shape == (64, 64, 3)
            assert p.uv is not None and p.uv.shape == (len(p.vertices), 2) and p.uv.dtype == np.float32


def test_chair_texture_and_colours_survive(samples):
    chair = {p.name: p for p in load(samples["chair.glb"], ".glb").parts}
    assert chair["seat"].texture is chair["back"].texture  # one image, one array
    red = (chair["seat"].texture == [180, 20, 20]).all(axis=2)  # the F
    assert 0.1 < red.mean() < 0.3 and red[:, : 32].sum() > 2 * red[:, 32:].sum()  # fmt: skip
    display = np.array([120, 80, 45]) / 255  # glTF factors are linear
    assert np.allclose(chair["leg_0"].color, (*display**GAMMA, 1.0), atol=1 / 255)
    car = {p.name: p for p in load(samples["toy_car.glb"], ".glb").parts}
    assert car["body"].color[:3] == pytest.approx(
        tuple((np.array([200, 30, 30]) / 255) ** GAMMA), abs=1 / 255
    )
    flat = load(samples["toy_car.ply"], ".ply").parts[0]
    seen = {tuple(c) for c in flat.colors.tolist()}
    assert {(200, 30, 30, 255), (40, 90, 200, 255), (240, 200, 40, 255), (25, 25, 25, 255)} == seen


def test_face_colours_become_corner_colours(samples):
    """A PLY coloured per face: each triangle gets its own three vertices in its face's colour."""
    mesh = trimesh.load(io.BytesIO(samples["toy_car.ply"]), file_type="ply", process=False)
    mesh.visual.face_colors = mesh.visual.face_colors  # vertex colours to face colours
    part = load(mesh.export(file_type="ply"), ".ply").parts[0]
    assert len(part.vertices) == 3 * len(part.triangles) == 3 * 452
    corners = part.colors[part.triangles]
    assert (corners == corners[:, :1]).all()
    assert {tuple(c) for c in part.colors.tolist()} >= {(200, 30, 30, 255), (240, 200, 40, 255)}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_normalised_frame(samples, name):
    asset = load(samples[name], suffix_of(name))
    lo, hi = asset.bounds()
    assert (hi - lo).max() == pytest.approx(1.0, abs=1e-12)
    assert lo[2] == 0.0
    assert (lo + hi)[:2] == pytest.approx([0.0, 0.0], abs=1e-12)


def test_the_car_is_the_same_in_every_format(samples):
    """GLB (eight nodes), OBJ and PLY (one flattened mesh, float32 in PLY) give one point set."""
    sets = {}
    for name in ("toy_car.glb", "toy_car.obj", "toy_car.ply"):
        v = np.concatenate([p.vertices for p in load(samples[name], suffix_of(name)).parts])
        sets[name] = v[np.lexsort(v.T[::-1])]
    assert np.allclose(sets["toy_car.glb"], sets["toy_car.obj"], atol=1e-7)
    assert np.allclose(sets["toy_car.glb"], sets["toy_car.ply"], atol=1e-6)


def test_scene_graph_transforms_are_applied():
    """A cube under a translated parent node, itself turned and mirrored: it lands where the
    composed transform puts it, and mirroring keeps its triangles facing out."""
    turn = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 0, 1])
    mirror = np.diag([-1.0, 1.0, 1.0, 1.0])
    own = trimesh.transformations.translation_matrix([0, 0, 2]) @ turn @ mirror
    parent = trimesh.transformations.translation_matrix([3, 0, 0])
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box((1, 1, 1)), node_name="anchor", geom_name="anchor")
    scene.graph.update(frame_to="arm", frame_from=scene.graph.base_frame, matrix=parent)
    moved = trimesh.creation.box((1, 2, 1))
    scene.add_geometry(moved, node_name="moved", geom_name="moved", parent_node_name="arm", transform=own)
    asset = load(scene.export(file_type="glb"), ".glb", LoadLimits(up="z"))
    s, c = asset.extra["scale"], np.array(asset.extra["centre"])
    part = {p.name: p for p in asset.parts}["moved"]
    world = trimesh.transform_points(moved.vertices, parent @ own)
    assert np.allclose(part.vertices, s * (world - c), atol=1e-12)
    # the turned box's long side now runs along x, and it sits 2 up and 3 along from the anchor
    assert np.ptp(part.vertices, axis=0) / s == pytest.approx([2.0, 1.0, 1.0])
    assert part.vertices.mean(axis=0) / s + c == pytest.approx([3.0, 0.0, 2.0])
    assert trimesh.Trimesh(part.vertices, part.triangles, process=False).volume > 0
    hidden = trimesh.transformations.translation_matrix([100, 0, 0]) @ np.diag([0.0, 0.0, 0.0, 1.0])
    scene.add_geometry(
        trimesh.creation.box((1, 1, 1)), node_name="hidden", geom_name="hidden", transform=hidden
    )
    again = load(scene.export(file_type="glb"), ".glb", LoadLimits(up="z"))
    assert [p.name for p in again.parts] == ["anchor", "moved"] and again.extra == asset.extra


def test_up_axis(samples):
    """The chair is authored Y up with its back toward -Z: with up "y" it stands on z = 0 with its
    back toward +Y and its seat's top face pointing up; kept as given ("z") it lies on its back."""
    upright = load(samples["chair.glb"], ".glb", LoadLimits(up="y"))
    lying = load(samples["chair.glb"], ".glb", LoadLimits(up="z"))
    (_, hi_up), (lo_lie, hi_lie) = upright.bounds(), lying.bounds()
    assert hi_up[2] == pytest.approx(1.0) and np.ptp([lo_lie[1], hi_lie[1]]) == pytest.approx(1.0)
    assert hi_lie[2] == pytest.approx(1.0 / 1.6)
    parts = {p.name: p for p in upright.parts}
    assert parts["back"].vertices[:, 1].mean() > 0.2 > parts["seat"].vertices[:, 1].mean()
    seat = parts["seat"]  # its file normals turned with it: each corner's is its face's, outward
    faces = trimesh.Trimesh(seat.vertices, seat.triangles, process=False).face_normals
    assert np.allclose(seat.normals[seat.triangles[:, 0]], faces, atol=1e-6)
    assert (faces @ [0, 0, 1]).max() == pytest.approx(1.0)
    assert upright.extra["up"] == "y" and lying.extra["up"] == "z"
    with pytest.raises(ValueError, match="up"):
        LoadLimits(up="x")


def test_names_skip_exporters_placeholders():
    """A Sketchfab-style chain of single children gives the first real name in it."""
    nodes = [
        {"name": "Sketchfab_model", "children": [1]},
        {"name": "office_chair.obj.cleaner.materialmerger.gles", "children": [2]},
        {"name": "Object_2", "mesh": 0},
    ]
    tree = {"scene": 0, "scenes": [{"name": "Sketchfab_Scene", "nodes": [0]}], "nodes": nodes}
    assert asset_name(tree, None) == "office chair"
    nodes[1]["name"] = "RootNode (gltf orientation matrix)"
    assert asset_name(tree, None) is None
    tree["asset"] = {"extras": {"title": "Red Kettle"}}
    assert asset_name(tree, None) == "Red Kettle"
    assert [clean_name(n) for n in ("Cube.001", "geometry_0", "scene", "Toy_Car.fbx", "42")] == [
        None, None, None, "Toy Car", None
    ]  # fmt: skip


# -- refusals --------------------------------------------------------------------------------------


def with_tree(glb: bytes, change) -> bytes:
    tree, binary = unpack_glb(glb)
    tree = copy.deepcopy(tree)
    binary = change(tree, binary)
    return pack_glb(tree, binary)


def add_image(glb: bytes, blob: bytes) -> bytes:
    """The GLB with image 0's bytes replaced by blob (appended to the binary chunk)."""

    def change(tree, binary):
        binary = binary + b"\0" * (-len(binary) % 4)
        tree["bufferViews"].append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(blob)})
        tree["images"][0]["bufferView"] = len(tree["bufferViews"]) - 1
        tree["buffers"][0]["byteLength"] = len(binary) + len(blob)
        return binary + blob

    return with_tree(glb, change)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(out, format="PNG")
    return out.getvalue()


def nan_position(glb: bytes) -> bytes:
    def change(tree, binary):
        view = tree["bufferViews"][tree["accessors"][tree["meshes"][0]["primitives"][0]["attributes"]["POSITION"]]["bufferView"]]  # fmt: skip
        at = view.get("byteOffset", 0)
        return binary[:at] + struct.pack("<f", float("nan")) + binary[at + 4 :]

    return with_tree(glb, change)


def external(kind: str, uri: str):
    def make(s: dict[str, bytes]) -> bytes:
        tree, binary = unpack_glb(s["chair.glb" if kind == "images" else "toy_car.glb"])
        if kind == "buffers":
            tree["buffers"][0]["uri"] = uri
            return json.dumps(tree).encode()  # a .gltf whose buffer is a file beside it
        tree["images"][0] = {"uri": uri, "mimeType": "image/png"}
        return pack_glb(tree, binary)

    return make


EMPTY_SCENE = pack_glb({"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": []}]}, None)
# case -> (make(samples), suffix, limits, reason, words in the detail)
CASES = {
    "garbage glb": (lambda s: b"\x13\x37" * 500, ".glb", LIMITS, "decode_error", "not a GLB"),
    "garbage obj": (lambda s: bytes(range(256)) * 8, ".obj", LIMITS, "decode_error", ""),
    "garbage ply": (
        lambda s: b"ply\nformat ascii 1.0\nelement vertex x\n",
        ".ply",
        LIMITS,
        "decode_error",
        "parse",
    ),
    "garbage gltf": (lambda s: b"{not json", ".gltf", LIMITS, "decode_error", "JSON"),
    "empty": (lambda s: b"", ".glb", LIMITS, "decode_error", "empty"),
    "unknown suffix": (lambda s: s["vase.glb"], ".fbx", LIMITS, "decode_error", "unknown file type"),
    "truncated glb": (lambda s: s["toy_car.glb"][:3000], ".glb", LIMITS, "decode_error", "truncated"),
    "no geometry": (lambda s: EMPTY_SCENE, ".glb", LIMITS, "decode_error", "no triangles"),
    "obj without faces": (lambda s: b"v 0 0 0\nv 1 0 0\n", ".obj", LIMITS, "decode_error", "no triangles"),
    "non-finite": (lambda s: nan_position(s["toy_car.glb"]), ".glb", LIMITS, "decode_error", "non-finite"),
    "draco": (
        lambda s: with_tree(
            s["vase.glb"], lambda t, b: t.update(extensionsRequired=["KHR_draco_mesh_compression"]) or b
        ),
        ".glb",
        LIMITS,
        "decode_error",
        "KHR_draco_mesh_compression",
    ),  # fmt: skip
    "external buffer": (external("buffers", "toy_car.bin"), ".gltf", LIMITS, "unsafe_input", "toy_car.bin"),
    "absolute image path": (external("images", "/etc/hostname"), ".glb", LIMITS, "unsafe_input", "outside"),
    "remote image": (
        external("images", "https://example.com/t.png"),
        ".glb",
        LIMITS,
        "unsafe_input",
        "https",
    ),
    "too many bytes": (lambda s: s["vase.glb"], ".glb", LoadLimits(max_bytes=1000), "too_large", "bytes"),
    "too many triangles": (
        lambda s: s["toy_car.ply"],
        ".ply",
        LoadLimits(max_triangles=451),
        "too_large",
        "452 triangles",
    ),
    "texture over the limit": (
        lambda s: s["chair.glb"],
        ".glb",
        LoadLimits(max_texture_side=63),
        "too_large",
        "64x64",
    ),
    "oversized texture": (
        lambda s: add_image(s["chair.glb"], png(4097, 2)),
        ".glb",
        LIMITS,
        "too_large",
        "4097x2",
    ),
    "corrupted texture": (
        lambda s: add_image(s["chair.glb"], png(64, 64)[:60] + b"\xff" * 200),
        ".glb",
        LIMITS,
        "decode_error",
        "texture image 0 does not decode",
    ),  # fmt: skip
    "not an image": (
        lambda s: add_image(s["chair.glb"], b"GIF89a?"),
        ".glb",
        LIMITS,
        "decode_error",
        "texture image 0",
    ),
    "data uri not base64": (
        external("images", "data:image/png,rawbytes"),
        ".glb",
        LIMITS,
        "decode_error",
        "base64",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_files_are_refused_with_their_reason(samples, tmp_path, monkeypatch, case):
    make, suffix, limits, reason, words = CASES[case]
    data = make(samples)
    # the files an external reference names exist where a reader would look for them: loading
    # them would succeed, so a refusal shows nothing was opened
    monkeypatch.chdir(tmp_path)
    tree, binary = unpack_glb(samples["toy_car.glb"])
    (tmp_path / "toy_car.bin").write_bytes(binary)
    with pytest.raises(AssetReject) as info:
        load(data, suffix, limits)
    assert info.value.reason == reason and words in info.value.detail, str(info.value)


def test_names_inside_obj_and_ply_files_are_never_opened(samples, tmp_path, monkeypatch):
    """An OBJ naming a material library and a PLY naming a texture load their geometry alone,
    though the named files exist in the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "paint.mtl").write_text("newmtl red\nKd 1 0 0\n")
    png_bytes = png(8, 8)
    (tmp_path / "skin.png").write_bytes(png_bytes)
    obj = b"mtllib paint.mtl\nusemtl red\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\n"
    part = load(obj, ".obj").parts[0]
    assert part.color == (0.6, 0.6, 0.6, 1.0) and part.texture is None
    ply = samples["toy_car.ply"].replace(b"comment https", b"comment TextureFile skin.png\ncomment https", 1)
    assert b"TextureFile" in ply
    asset = load(ply, ".ply")
    assert asset.parts[0].texture is None and asset.triangles == 452
    # past the glTF check too, trimesh gets a resolver that refuses the file beside it
    tree, binary = unpack_glb(samples["toy_car.glb"])
    (tmp_path / "toy_car.bin").write_bytes(binary)
    tree["buffers"][0]["uri"] = "toy_car.bin"
    with pytest.raises(AssetReject, match="refused to open 'toy_car.bin'"):
        parse(json.dumps(tree).encode(), ".gltf")


def test_data_uri_gltf_loads_like_its_glb(samples):
    here = load(samples["vase.gltf"], ".gltf").parts[0]
    glb = load(samples["vase.glb"], ".glb").parts[0]
    assert np.array_equal(here.vertices, glb.vertices) and np.array_equal(here.triangles, glb.triangles)
    tree = json.loads(samples["vase.gltf"])
    assert tree["buffers"][0]["uri"].startswith("data:") and base64.b64decode(
        tree["buffers"][0]["uri"].split(",")[1]
    )


# -- containment and determinism -------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader():
    r = AssetReader(timeout=60.0)
    yield r
    r.close()


def test_same_bytes_same_arrays_here_and_in_the_child(samples, reader):
    for name, data in samples.items():
        here = [arrays(load(data, suffix_of(name))) for _ in range(2)]
        there = arrays(reader.read(data, suffix_of(name), LIMITS))
        assert here[0] == here[1] == there, name


def test_the_childs_refusal_passes_through_and_the_child_lives_on(samples, reader):
    reader.read(samples["vase.glb"], ".glb", LIMITS)
    pid = reader.pid
    with pytest.raises(AssetReject) as info:
        reader.read(samples["toy_car.glb"][:3000], ".glb", LIMITS)
    assert type(info.value) is AssetReject and info.value.reason == "decode_error"
    with pytest.raises(AssetReject, match="too_large"):
        reader.read(samples["toy_car.glb"], ".glb", LoadLimits(max_triangles=10))
    assert reader.pid == pid
    with pytest.raises(AssetReject, match="too_large"):  # refused before it travels
        reader.read(samples["vase.glb"], ".glb", LoadLimits(max_bytes=10))


def test_a_hang_is_a_timeout_and_a_fresh_child_follows(samples):
    r = AssetReader(timeout=60.0)
    r.read(samples["vase.glb"], ".glb", LIMITS)  # the child is up: the timeout counts the call alone
    r.timeout, first, start = 0.5, r.pid, time.perf_counter()
    with pytest.raises(AssetReject) as info:
        r.call(time.sleep, 60)
    assert info.value.reason == "timeout" and time.perf_counter() - start < 5.0 and r.pid is None
    r.timeout = 60.0
    assert r.read(samples["vase.glb"], ".glb", LIMITS).name == "vase"
    assert r.pid not in (None, first)
    r.close()


def test_rejections_and_readers_pickle(samples, reader):
    for cls, reason in ((AssetReject, "unsafe_input"), (CadReject, "cad_invalid"), (Reject, "timeout")):
        back = pickle.loads(pickle.dumps(cls(reason, "why")))
        assert type(back) is cls and (back.reason, back.detail) == (reason, "why")
        assert isinstance(back, Reject)
    with pytest.raises(ValueError):
        AssetReject("cad_invalid", "not a code an asset may carry")
    reader.read(samples["vase.glb"], ".glb", LIMITS)
    copy_ = pickle.loads(pickle.dumps(reader))
    assert copy_.pid is None and (copy_.timeout, copy_.preload, copy_.reject) == (
        60.0,
        reader.preload,
        AssetReject,
    )
    assert isinstance(copy_, Contained)
    asset = copy_.read(samples["chair.glb"], ".glb", LIMITS)
    assert arrays(pickle.loads(pickle.dumps(asset))) == arrays(asset)
    copy_.close()
