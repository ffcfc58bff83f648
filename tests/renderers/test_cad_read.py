"""CAD files from outside: STEP, STL and OBJ read back into normalised parts with sensible views,
every bad kind of file refused with its reason, and the reader contained in a child process that a
hang or a crash costs, not the worker."""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh
from build123d import Box, Compound, Cylinder, Pos, Rot, export_step

from renderers.cad.builders import build
from renderers.cad.contain import CadReader
from renderers.cad.part import views_of_shape
from renderers.cad.read import SIZE, CadReject, ReadLimits, read_part
from renderers.cad.sampling import sample_spec
from renderers.cad.views import bounds, project_point
from tests.renderers.test_cad import plate_spec

LIMITS = ReadLimits()
ORTHO = ("front", "top", "right")


def step_bytes(shape, path: Path) -> bytes:
    export_step(shape, str(path), timestamp="2000-01-01T00:00:00")
    return path.read_bytes()


@pytest.fixture(scope="module")
def plate():
    return build(plate_spec())


@pytest.fixture(scope="module")
def files(plate, tmp_path_factory) -> dict[str, bytes]:
    """The plate as STEP, and its kernel tessellation (vertices merged) as STL and OBJ."""
    tmp = tmp_path_factory.mktemp("cad")
    pv = views_of_shape(plate)
    mesh = trimesh.Trimesh(pv.vertices, pv.triangles)  # process=True merges the faces' vertices
    assert mesh.is_watertight
    return {
        ".step": step_bytes(plate, tmp / "plate.step"),
        ".stl": mesh.export(file_type="stl"),
        ".obj": mesh.export(file_type="obj").encode(),
    }


@pytest.fixture(scope="module")
def slow_step(tmp_path_factory) -> bytes:
    """A 100 x 100 plate with 16 x 16 holes: 262 faces, under the face cap, yet about 50 s of
    kernel work (hole facts and centre marks cost holes x faces): a real file that only the
    timeout stops."""
    holes = [Pos(-45 + 6 * i, -45 + 6 * j, 0) * Cylinder(1.5, 10) for i in range(16) for j in range(16)]
    return step_bytes(Box(100, 100, 5).cut(*holes), tmp_path_factory.mktemp("slow") / "grid.step")


@pytest.fixture(scope="module")
def contained():
    c = CadReader(timeout=60.0)
    yield c
    c.close()


def digest(strokes: dict) -> str:
    h = hashlib.sha256()
    for view in sorted(strokes):
        for s in strokes[view]:
            h.update(f"{view}{s.visible}{s.kind}".encode())
            h.update(np.ascontiguousarray(s.points, dtype=np.float64).tobytes())
    return h.hexdigest()


def normalised(p, extra: dict) -> np.ndarray:
    """A model point where read_part puts it."""
    return extra["scale"] * np.array(extra["rotation"]) @ (np.asarray(p, float) - extra["centre"])


def near(points: np.ndarray, strokes: list, tol: float) -> np.ndarray:
    """Which points lie within tol of any segment of the strokes."""
    if not strokes:
        return np.zeros(len(points), dtype=bool)
    a = np.vstack([s.points[:-1] for s in strokes])
    b = np.vstack([s.points[1:] for s in strokes])
    ab, ap = b - a, points[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-300), 0, 1)
    gap = ap - t[..., None] * ab
    return ((gap * gap).sum(-1) <= tol * tol).any(axis=1)


# -- STEP ----------------------------------------------------------------------------------------


def test_step_read_back_normalised(plate, files):
    pv = read_part(files[".step"], ".step", LIMITS)
    s = pv.extra["scale"]
    assert pv.origin == "step" and s == pytest.approx(SIZE / 80.0)
    assert np.allclose(pv.extra["centre"], [0.0, 0.0, 5.0], atol=1e-6)
    assert np.array_equal(pv.extra["rotation"], np.eye(3))
    assert pv.facts["faces"] == len(plate.faces())
    assert pv.facts["volume"] == pytest.approx(plate.volume * s**3, rel=1e-6)
    assert pv.facts["holes"] == [{"diameter": pytest.approx(6.0 * s), "count": 4}]
    assert pv.facts["bbox_size"] == pytest.approx([100.0, 62.5, 12.5], abs=0.01)
    assert bounds(pv.strokes["front"]) == pytest.approx((-50.0, -6.25, 50.0, 6.25), abs=1e-6)


def test_step_with_several_solids_reads_as_their_compound(tmp_path):
    pair = Compound([Box(10, 10, 10), Pos(30, 0, 0) * Box(10, 10, 10)])
    pv = read_part(step_bytes(pair, tmp_path / "pair.step"), ".step", LIMITS)
    assert pv.facts["solids"] == 2 and pv.facts["faces"] == 12
    assert pv.facts["bbox_size"] == pytest.approx([100.0, 25.0, 25.0])


def test_step_principal_pose_follows_the_part_not_the_file(tmp_path):
    """The same asymmetric part exported in two poses reads back in one pose."""
    part = build(sample_spec(np.random.default_rng(1), "bracket"))
    turned = Rot(30, -50, 110) * part
    principal = ReadLimits(orient="principal")
    a = read_part(step_bytes(part, tmp_path / "a.step"), ".step", principal)
    b = read_part(step_bytes(turned, tmp_path / "b.step"), ".step", principal)
    r = np.array(a.extra["rotation"])
    assert np.allclose(r @ r.T, np.eye(3), atol=1e-12) and np.linalg.det(r) == pytest.approx(1.0)
    assert a.facts["bbox_size"][0] == 100.0  # the long axis is X
    assert a.facts["bbox_size"] == pytest.approx(b.facts["bbox_size"], abs=0.01)
    for view in ORTHO:
        assert bounds(a.strokes[view]) == pytest.approx(bounds(b.strokes[view]), abs=1e-3), view


# -- meshes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".stl", ".obj"])
def test_mesh_read_back_with_sensible_views(plate, files, suffix):
    pv = read_part(files[suffix], suffix, LIMITS)
    step = read_part(files[".step"], ".step", LIMITS)
    s = pv.extra["scale"]
    assert pv.origin == suffix[1:] and s == pytest.approx(step.extra["scale"])
    assert pv.facts["volume"] == pytest.approx(plate.volume * s**3, rel=2e-3)
    assert pv.facts["faces"] is None and pv.facts["genus"] == 4  # four through holes
    assert set(step.facts) <= set(pv.facts)
    assert all(m == [] for m in pv.marks.values())
    v = pv.vertices
    box = (v[:, 0].min(), v[:, 2].min(), v[:, 0].max(), v[:, 2].max())  # front: x and z
    assert bounds(pv.strokes["front"]) == pytest.approx(box, abs=0.5)
    assert bounds(pv.strokes["front"]) == pytest.approx(bounds(step.strokes["front"]), abs=0.5)
    # the holes' walls, hidden behind the front face, where the exact views put them
    assert hidden_lines_x(pv.strokes["front"]) == pytest.approx(
        hidden_lines_x(step.strokes["front"]), abs=0.05
    )
    assert len(hidden_lines_x(step.strokes["front"])) == 4


def hidden_lines_x(strokes: list) -> list[float]:
    """The distinct x of the vertical hidden lines."""
    xs = sorted(
        float(s.points[:, 0].mean()) for s in strokes if not s.visible and np.ptp(s.points[:, 0]) < 1e-6
    )
    return [x for i, x in enumerate(xs) if i == 0 or x - xs[i - 1] > 0.05]


@pytest.mark.parametrize("suffix", [".stl", ".obj"])
def test_mesh_far_rim_of_a_through_hole_is_hidden(files, suffix):
    """In the iso view the near rim of a hole is drawn visible and the far rim hidden."""
    pv = read_part(files[suffix], suffix, LIMITS)
    iso = pv.strokes["iso"]
    visible, hidden = [s for s in iso if s.visible], [s for s in iso if not s.visible]
    angles = np.linspace(0, 2 * np.pi, 90, endpoint=False)

    def rim(z: float) -> np.ndarray:  # the hole at (30, 15), radius 3, at height z, in the iso view
        return np.array(
            [
                project_point("iso", normalised((30 + 3 * np.cos(a), 15 + 3 * np.sin(a), z), pv.extra))
                for a in angles
            ]
        )

    assert near(rim(10.0), visible, 0.05).mean() > 0.9
    assert near(rim(0.0), hidden, 0.05).mean() > 0.9
    assert near(rim(0.0), visible, 0.05).mean() < 0.1


def test_mesh_principal_pose_matches_step(files):
    limits = ReadLimits(orient="principal")
    mesh, step = read_part(files[".stl"], ".stl", limits), read_part(files[".step"], ".step", limits)
    assert np.allclose(mesh.extra["rotation"], step.extra["rotation"], atol=1e-6)
    assert mesh.facts["bbox_size"] == pytest.approx(step.facts["bbox_size"], abs=0.05)


# -- refusals ------------------------------------------------------------------------------------


def open_mesh(files) -> bytes:
    mesh = trimesh.load(trimesh.util.wrap_as_stream(files[".stl"]), file_type="stl", force="mesh")
    return trimesh.Trimesh(mesh.vertices, mesh.faces[1:]).export(file_type="stl")


def surface_only(files: dict, plate, tmp: Path) -> bytes:
    return step_bytes(plate.faces()[0], tmp / "face.step")


CASES = {  # name -> (make data from the files, suffix, limits, reason, words in the detail)
    "truncated STEP": (
        lambda f, p, t: f[".step"][: len(f[".step"]) // 2],
        ".step",
        LIMITS,
        "decode_error",
        "parse",
    ),
    "garbage STEP": (lambda f, p, t: os.urandom(4096), ".step", LIMITS, "decode_error", "parse"),
    "garbage STL": (lambda f, p, t: os.urandom(4096), ".stl", LIMITS, "decode_error", ""),
    "garbage OBJ": (lambda f, p, t: b"v 1 2\nf x y\n" * 50, ".obj", LIMITS, "decode_error", "parse"),
    "OBJ without faces": (lambda f, p, t: b"v 1 2 3\n" * 50, ".obj", LIMITS, "decode_error", "no triangles"),
    "empty": (lambda f, p, t: b"", ".stl", LIMITS, "decode_error", "empty"),
    "unknown suffix": (lambda f, p, t: f[".step"], ".igs", LIMITS, "decode_error", ".step, .stp, .stl, .obj"),
    "STL missing a triangle": (
        lambda f, p, t: open_mesh(f),
        ".stl",
        LIMITS,
        "cad_invalid",
        "not a closed solid",
    ),
    "STEP without a solid": (surface_only, ".step", LIMITS, "cad_invalid", "no solid in the file"),
    "over max_bytes": (lambda f, p, t: f[".stl"], ".stl", ReadLimits(max_bytes=1000), "too_large", "bytes"),
    "over max_triangles": (
        lambda f, p, t: f[".obj"],
        ".obj",
        ReadLimits(max_triangles=100),
        "too_large",
        "triangles",
    ),
    "over max_faces": (lambda f, p, t: f[".step"], ".step", ReadLimits(max_faces=9), "too_large", "faces"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_files_are_refused_with_their_reason(files, plate, tmp_path, case):
    make, suffix, limits, reason, words = CASES[case]
    with pytest.raises(CadReject) as info:
        read_part(make(files, plate, tmp_path), suffix, limits)
    assert info.value.reason == reason and words in info.value.detail, str(info.value)


# -- containment and determinism -----------------------------------------------------------------


def test_contained_read_equals_in_process_and_is_deterministic(files, contained):
    for suffix in (".step", ".stl"):
        here = [read_part(files[suffix], suffix, LIMITS) for _ in range(2)]
        there = [contained.read(files[suffix], suffix, LIMITS) for _ in range(2)]
        digests = {digest(pv.strokes) for pv in here + there}
        assert len(digests) == 1, suffix
        assert there[0].facts == here[0].facts and np.array_equal(there[0].vertices, here[0].vertices)


def test_contained_passes_the_childs_refusal_through(files, contained):
    contained.read(files[".stl"], ".stl", LIMITS)
    pid = contained.pid
    with pytest.raises(CadReject) as info:
        contained.read(files[".step"][:2000], ".step", LIMITS)
    assert info.value.reason == "decode_error" and contained.pid == pid  # the child lives on
    with pytest.raises(CadReject, match="too_large"):
        contained.read(files[".stl"], ".stl", ReadLimits(max_triangles=10))
    assert contained.pid == pid


def test_contained_times_out_then_recovers(files, slow_step, contained):
    c = CadReader(timeout=60.0)
    c.read(files[".stl"], ".stl", LIMITS)  # the child is up: the timeout counts the read alone
    c.timeout = 0.5
    first, start = c.pid, time.perf_counter()
    with pytest.raises(CadReject) as info:
        c.read(slow_step, ".step", LIMITS)
    assert info.value.reason == "timeout" and time.perf_counter() - start < 5.0
    assert c.pid is None
    c.timeout = 60.0
    assert c.read(files[".stl"], ".stl", LIMITS).origin == "stl"  # a fresh child, forked in ms
    assert c.pid not in (None, first)
    c.close()


def test_contained_child_death_is_a_decode_error(files, slow_step):
    c = CadReader(timeout=60.0)
    c.read(files[".stl"], ".stl", LIMITS)
    killer = threading.Timer(0.5, os.kill, (c.pid, signal.SIGKILL))
    killer.start()
    with pytest.raises(CadReject) as info:
        c.read(slow_step, ".step", LIMITS)
    killer.join()
    assert info.value.reason == "decode_error" and "crashed" in info.value.detail
    assert c.read(files[".stl"], ".stl", LIMITS).origin == "stl"
    c.close()


def test_contained_pickles_without_its_child(files, contained):
    contained.read(files[".stl"], ".stl", LIMITS)
    copy = pickle.loads(pickle.dumps(contained))
    assert copy.pid is None and copy.timeout == contained.timeout
    assert copy.read(files[".stl"], ".stl", LIMITS).origin == "stl"
    copy.close()
    assert pickle.loads(pickle.dumps(CadReject("timeout", "x"))).reason == "timeout"
