"""Read a part from a STEP, STL or OBJ file into PartViews: the one door through which CAD files
from outside become drawings.

Files from outside may be broken, open, huge or slow, and the kernel is C++: every failure here is
a CadReject with a row's reason code, checked in the cheapest order (suffix, size, parse, counts,
validity) so nothing expensive runs on a file that a cheap check refuses. Run read_part through
contain.CadReader, not in a worker: a crash or a hang in OpenCascade then costs a child process.

Parts are normalised so drawings of files in any units and pose look alike: a point p goes to
scale * rotation @ (p - centre), which puts the bounding box's centre at the origin and makes its
longest side SIZE (drawings call the unit "mm"). PartViews.extra records the three.
"""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh
from build123d import Shape
from OCP.Bnd import Bnd_Box
from OCP.BRep import BRep_Builder
from OCP.BRepBndLib import BRepBndLib
from OCP.BRepBuilderAPI import BRepBuilderAPI_Transform
from OCP.BRepCheck import BRepCheck_Analyzer
from OCP.BRepGProp import BRepGProp
from OCP.gp import gp_Trsf
from OCP.GProp import GProp_GProps
from OCP.IFSelect import IFSelect_RetDone
from OCP.Standard import Standard_Failure
from OCP.STEPControl import STEPControl_Reader
from OCP.TopAbs import TopAbs_SOLID
from OCP.TopExp import TopExp_Explorer
from OCP.TopoDS import TopoDS_Compound, TopoDS_Shape

from renderers.cad.mesh_views import project_mesh
from renderers.cad.part import PartViews, views_of_shape
from renderers.cad.views import VIEWS
from synth import contain
from synth.contain import Reject

REASONS = ("decode_error", "cad_invalid", "too_large", "timeout")
STEP_SUFFIXES = (".step", ".stp")
MESH_SUFFIXES = (".stl", ".obj")
SIZE = 100.0  # the longest side of a normalised part's bounding box
SYMMETRIC = 1e-6  # centre of mass this close (fraction of size) to the box centre: no side to point to


class CadReject(Reject):
    """A file that cannot become a part; ``reason`` is the row's reason code."""

    REASONS = REASONS


@dataclass(frozen=True)
class ReadLimits:
    """What a file may cost before it is refused, and how it is posed."""

    max_bytes: int = 64 << 20
    max_faces: int = 400  # B-rep faces (STEP): hidden-line removal time grows fast with them
    max_triangles: int = 200_000  # meshes
    orient: str = "given"  # "given" | "principal": principal axes of inertia become X (longest), Y, Z
    sharp_angle_deg: float = 30.0  # mesh edges whose dihedral angle exceeds this are drawn

    def __post_init__(self):
        if self.orient not in ("given", "principal"):
            raise ValueError(f"orient must be 'given' or 'principal', not {self.orient!r}")


def read_part(data: bytes, suffix: str, limits: ReadLimits) -> PartViews:
    """The part in a STEP (.step, .stp), STL or OBJ file, normalised, with its views; raises
    CadReject. Runs in this process: see contain.CadReader for untrusted files."""
    suffix = precheck(data, suffix, limits)
    if suffix in STEP_SUFFIXES:
        return _read_step(data, limits)
    return _read_mesh(data, suffix, limits)


def sniff(data: bytes) -> str:
    """The suffix a part file's bytes say it has (a Parquet cell has no name): STEP by its ISO
    10303-21 header, binary STL by its exact size, ASCII STL and OBJ by their first keywords."""
    head = data[:4096].lstrip()
    if head.startswith(b"ISO-10303-21"):
        return ".step"
    if len(data) >= 84 and 84 + 50 * int.from_bytes(data[80:84], "little") == len(data):
        return ".stl"
    if head[:5].lower() == b"solid":
        return ".stl"
    lines = [ln.split(maxsplit=1)[0] for ln in head.splitlines() if ln.strip() and not ln.startswith(b"#")]
    if lines and set(lines[:20]) <= {b"v", b"vn", b"vt", b"f", b"o", b"g", b"s", b"mtllib", b"usemtl"}:
        return ".obj"
    raise CadReject("decode_error", "not a STEP, STL or OBJ file (no header or keyword recognised)")


def precheck(data: bytes, suffix: str, limits: ReadLimits) -> str:
    """The suffix, lower case with its dot, once the checks that need no parsing pass (a caller
    runs them before shipping a file to a child process)."""
    return contain.precheck(data, suffix, STEP_SUFFIXES + MESH_SUFFIXES, limits.max_bytes, CadReject)


# -- pose ------------------------------------------------------------------------------------------


def principal_rotation(
    inertia: np.ndarray,
    centre_of_mass: np.ndarray,
    box: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Rows: the principal axes of inertia, least moment first (X is the long axis). Each of X and
    Y points to the side of the bounding box centre where the centre of mass lies, so the pose
    follows the part, not the file's pose; where the part is symmetric along an axis its first
    non-zero component is made positive instead. Z = X x Y keeps it a rotation. `box(R)` is the
    bounding box (lo, hi) of the part rotated by R."""
    _, vecs = np.linalg.eigh(inertia)  # ascending moments
    axes = vecs.T.copy()
    lo, hi = box(axes)
    offset = axes @ centre_of_mass - (lo + hi) / 2
    tol = SYMMETRIC * float((hi - lo).max())
    for i in (0, 1):
        if abs(offset[i]) > tol:
            axes[i] *= math.copysign(1.0, offset[i])
        else:
            lead = axes[i][np.abs(axes[i]) > 1e-9][0]
            axes[i] *= math.copysign(1.0, lead)
    axes[2] = np.cross(axes[0], axes[1])
    return axes


def _pose(rotation: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict:
    """scale, centre and rotation of the map p -> scale * rotation @ (p - centre), given the
    bounding box (lo, hi) of the part rotated by `rotation`."""
    side = float((hi - lo).max())
    if not math.isfinite(side) or side <= 0.0:
        raise CadReject("cad_invalid", f"the part has no extent (bounding box side {side})")
    centre = rotation.T @ ((lo + hi) / 2)
    return {"scale": SIZE / side, "centre": centre.tolist(), "rotation": rotation.tolist()}


# -- STEP ------------------------------------------------------------------------------------------


def _step_shape(data: bytes) -> TopoDS_Shape:
    """The file's transferred shape. ReadFile's status is checked before transferring: transferring
    after a failed read crashes the kernel."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "part.step"
        path.write_bytes(data)
        reader = STEPControl_Reader()
        try:
            status = reader.ReadFile(str(path))
            if status != IFSelect_RetDone:
                raise CadReject("decode_error", f"the STEP file does not parse ({status.name})")
            if reader.TransferRoots() == 0:
                raise CadReject("decode_error", "the STEP file has no transferable shape")
            return reader.OneShape()
        except Standard_Failure as e:
            raise CadReject("decode_error", f"the STEP reader failed: {e}") from None


def _solids(topo: TopoDS_Shape) -> TopoDS_Shape:
    """The file's solid, or a compound of all of them."""
    found = []
    explorer = TopExp_Explorer(topo, TopAbs_SOLID)
    while explorer.More():
        found.append(explorer.Current())
        explorer.Next()
    if not found:
        raise CadReject("cad_invalid", "no solid in the file")
    if len(found) == 1:
        return found[0]
    compound, builder = TopoDS_Compound(), BRep_Builder()
    builder.MakeCompound(compound)
    for solid in found:
        builder.Add(compound, solid)
    return compound


def _box(topo: TopoDS_Shape, rotation: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The exact bounding box of the shape, rotated first when a rotation is given."""
    if rotation is not None:
        topo = BRepBuilderAPI_Transform(topo, _trsf(rotation), True).Shape()
    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(topo, box, False, False)
    lo, hi = box.CornerMin(), box.CornerMax()
    return np.array([lo.X(), lo.Y(), lo.Z()]), np.array([hi.X(), hi.Y(), hi.Z()])


def _trsf(matrix: np.ndarray, shift: np.ndarray | None = None) -> gp_Trsf:
    """p -> matrix @ p + shift (matrix a rotation times a scale)."""
    m, t = np.asarray(matrix, dtype=np.float64), np.zeros(3) if shift is None else shift
    trsf = gp_Trsf()
    trsf.SetValues(*m[0], t[0], *m[1], t[1], *m[2], t[2])
    return trsf


def _step_pose(topo: TopoDS_Shape, orient: str) -> dict:
    if orient == "given":
        return _pose(np.eye(3), *_box(topo))
    props = GProp_GProps()
    BRepGProp.VolumeProperties_s(topo, props)
    mat, com = props.MatrixOfInertia(), props.CentreOfMass()
    inertia = np.array([[mat.Value(i, j) for j in (1, 2, 3)] for i in (1, 2, 3)])
    rotation = principal_rotation(inertia, np.array([com.X(), com.Y(), com.Z()]), lambda r: _box(topo, r))
    return _pose(rotation, *_box(topo, rotation))


def _read_step(data: bytes, limits: ReadLimits) -> PartViews:
    topo = _solids(_step_shape(data))
    faces = len(Shape.cast(topo).faces())  # distinct faces, as brep.facts counts them
    if faces > limits.max_faces:
        raise CadReject("too_large", f"{faces} B-rep faces exceeds the cap of {limits.max_faces}")
    try:
        if not BRepCheck_Analyzer(topo).IsValid():
            raise CadReject("cad_invalid", "the B-rep does not pass OpenCascade's validity check")
        pose = _step_pose(topo, limits.orient)
        r, s = np.array(pose["rotation"]), pose["scale"]
        moved = BRepBuilderAPI_Transform(topo, _trsf(s * r, -s * r @ np.array(pose["centre"])), True).Shape()
        views = views_of_shape(Shape.cast(moved), None, origin="step")
    except Standard_Failure as e:
        raise CadReject("cad_invalid", f"the kernel failed on the part: {e}") from None
    views.extra = pose
    return views


# -- meshes ----------------------------------------------------------------------------------------


def _load_mesh(data: bytes, suffix: str) -> trimesh.Trimesh:
    try:
        mesh = trimesh.load(io.BytesIO(data), file_type=suffix[1:], force="mesh")
    except Exception as e:  # noqa: BLE001 - trimesh's parsers raise anything
        raise CadReject(
            "decode_error", f"the {suffix} file does not parse: {type(e).__name__}: {e}"
        ) from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise CadReject("decode_error", f"the {suffix} file has no triangles")
    if not np.isfinite(mesh.vertices).all():
        raise CadReject("decode_error", f"the {suffix} file has non-finite coordinates")
    return mesh


def _check_closed(mesh: trimesh.Trimesh) -> None:
    """A mesh bounds a solid when every edge has exactly two triangles, wound consistently."""
    _, uses = np.unique(mesh.edges_sorted, axis=0, return_counts=True)
    open_edges, shared = int((uses == 1).sum()), int((uses > 2).sum())
    if open_edges or shared:
        raise CadReject(
            "cad_invalid",
            f"the mesh is not a closed solid: {open_edges} edges with one triangle, "
            f"{shared} with more than two",
        )
    if not mesh.is_winding_consistent:
        raise CadReject("cad_invalid", "the mesh is not a closed solid: its triangles' windings disagree")


def mesh_facts(mesh: trimesh.Trimesh) -> dict:
    """brep.facts' keys, None where a mesh cannot say (it has no B-rep faces or edges), plus the
    triangle count and the genus (how many through holes, topologically). Hole features need
    exact cylinders, so their lists stay empty: for a mesh [] means "not read", not "none"."""
    size = np.ptp(mesh.vertices, axis=0)
    bodies = int(mesh.body_count)
    return {
        "kind": None,
        "solids": bodies,
        "valid": bool(mesh.is_volume),
        "volume": round(float(mesh.volume), 3) + 0.0,
        "faces": None,
        "edges": None,
        "bbox_size": [round(float(v), 2) + 0.0 for v in size],
        "holes": [],
        "blind_holes": [],
        "counterbores": [],
        "triangles": len(mesh.faces),
        "genus": (2 * bodies - int(mesh.euler_number)) // 2,
    }


def _mesh_pose(mesh: trimesh.Trimesh, orient: str) -> dict:
    v = mesh.vertices

    def box(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = v @ r.T
        return q.min(axis=0), q.max(axis=0)

    rotation = np.eye(3)
    if orient == "principal":
        rotation = principal_rotation(mesh.moment_inertia, mesh.center_mass, box)
    return _pose(rotation, *box(rotation))


def _read_mesh(data: bytes, suffix: str, limits: ReadLimits) -> PartViews:
    mesh = _load_mesh(data, suffix)
    if len(mesh.faces) > limits.max_triangles:
        raise CadReject("too_large", f"{len(mesh.faces)} triangles exceeds the cap of {limits.max_triangles}")
    _check_closed(mesh)
    if mesh.volume < 0:  # wound inside out
        mesh.invert()
    pose = _mesh_pose(mesh, limits.orient)
    r, s = np.array(pose["rotation"]), pose["scale"]
    vertices = np.ascontiguousarray(s * (mesh.vertices - np.array(pose["centre"])) @ r.T)
    triangles = np.ascontiguousarray(mesh.faces, dtype=np.int64)
    normalised = trimesh.Trimesh(vertices, triangles, process=False)
    strokes = {v: project_mesh(vertices, triangles, v, limits.sharp_angle_deg) for v in VIEWS}
    marks: dict = {v: [] for v in VIEWS}
    return PartViews(suffix[1:], strokes, marks, mesh_facts(normalised), vertices, triangles, pose)
