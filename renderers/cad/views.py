"""Exact orthographic views of a part: OpenCascade's hidden-line removal, as 2D polylines.

HLRBRep_Algo computes, for a parallel projection, which part of every edge and silhouette is seen
and which is hidden, on the exact B-rep (no mesh), so a hidden line is where the geometry puts it.
Its output edges carry only 2D curves: their 3D curves are built before they are sampled
(BRepAdaptor_Curve on them otherwise crashes). Curves are sampled by tangential deflection, and the
points where x or y turns are added, so a view's extent is exact: a circle seen end-on reaches its
true width instead of the nearest sample's.

View-plane coordinates are millimetres with y up. Model frame: X right, Y away from the front
viewer, Z up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from build123d import Shape
from OCP.Bnd import Bnd_Box
from OCP.BRepAdaptor import BRepAdaptor_Curve
from OCP.BRepBndLib import BRepBndLib
from OCP.BRepLib import BRepLib
from OCP.GCPnts import GCPnts_TangentialDeflection
from OCP.GeomAbs import GeomAbs_Line
from OCP.gp import gp_Ax2, gp_Dir, gp_Pnt, gp_Vec
from OCP.HLRAlgo import HLRAlgo_Projector
from OCP.HLRBRep import HLRBRep_Algo, HLRBRep_HLRToShape
from OCP.TopAbs import TopAbs_EDGE
from OCP.TopExp import TopExp_Explorer
from OCP.TopoDS import TopoDS, TopoDS_Shape

from renderers.cad.brep import HoleAxis, hole_axes

# view -> (direction from the part toward the viewer, the image's x axis in model coordinates)
VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "front": ((0.0, -1.0, 0.0), (1.0, 0.0, 0.0)),  # looks along +Y; image up = +Z
    "top": ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0)),  # looks down; image up = +Y
    "right": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),  # looks along -X; image up = +Z
    "iso": ((1.0, -1.0, 1.0), (1.0, 1.0, 0.0)),  # sees front, right and top; image up leans to +Z
}
ANGLE = math.radians(5.0)  # tangential deflection of sampled curves
CHORD = 1e-4  # chordal deflection, as a fraction of the part's size
# HLR outputs, in drawing order within each visibility: (getter, kind, visible, needs smooth=True)
OUTPUTS = (
    ("HCompound", "sharp", False, False),
    ("OutLineHCompound", "outline", False, False),
    ("VCompound", "sharp", True, False),
    ("Rg1LineVCompound", "smooth", True, True),
    ("OutLineVCompound", "outline", True, False),
)
MARK_OVERSHOOT = (1.0, 0.25)  # a centre line runs past the hole by 1 mm + 0.25 of its radius


@dataclass(frozen=True, eq=False)
class Stroke:
    """One projected edge piece; points (N, 2) float64, view-plane mm, y up."""

    visible: bool
    kind: str  # "sharp" | "smooth" | "outline"
    points: np.ndarray


def frame(view: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(toward viewer, image x, image y) unit vectors in model coordinates, as gp_Ax2 makes them."""
    toward, xdir = (np.asarray(v, dtype=np.float64) for v in VIEWS[view])
    n = toward / np.linalg.norm(toward)
    x = xdir - (xdir @ n) * n
    x /= np.linalg.norm(x)
    return n, x, np.cross(n, x)


def project_point(view: str, p: np.ndarray | tuple[float, float, float]) -> np.ndarray:
    """A model point's view-plane coordinates, in the same frame as project()'s strokes."""
    _, x, y = frame(view)
    q = np.asarray(p, dtype=np.float64)
    return np.array([q @ x, q @ y])


def _size(topo: TopoDS_Shape) -> float:
    box = Bnd_Box()
    BRepBndLib.Add_s(topo, box)
    lo, hi = box.CornerMin(), box.CornerMax()  # OCP 8: Bnd_Box.Get() is not bound
    return max(hi.X() - lo.X(), hi.Y() - lo.Y(), hi.Z() - lo.Z())


def _edges(compound: TopoDS_Shape) -> list:
    out = []
    if compound.IsNull():
        return out
    explorer = TopExp_Explorer(compound, TopAbs_EDGE)
    while explorer.More():
        out.append(TopoDS.Edge(explorer.Current()))  # OCP 8 spelling (not Edge_s)
        explorer.Next()
    return out


def _slope(curve: BRepAdaptor_Curve, u: float) -> tuple[float, float]:
    p, v = gp_Pnt(), gp_Vec()
    curve.D1(u, p, v)
    return v.X(), v.Y()


def _turn(curve: BRepAdaptor_Curve, a: float, b: float, axis: int, sa: float) -> float:
    """Bisect (a, b) for where the curve's x (axis 0) or y (axis 1) turns; its slope there is sa
    at a and of the other sign at b."""
    for _ in range(60):  # to ~1e-18 of the interval: exact in float64
        m = (a + b) / 2
        sm = _slope(curve, m)[axis]
        if sm == 0.0:
            return m
        a, b, sa = (m, b, sm) if (sm > 0) == (sa > 0) else (a, m, sa)
    return (a + b) / 2


def _polyline(edge: object, chord: float) -> np.ndarray:
    BRepLib.BuildCurves3d_s(edge, 1e-6)
    curve = BRepAdaptor_Curve(edge)
    if curve.GetType() == GeomAbs_Line:
        params = [curve.FirstParameter(), curve.LastParameter()]
    else:
        sampler = GCPnts_TangentialDeflection(curve, ANGLE, chord)
        params = [sampler.Parameter(i) for i in range(1, sampler.NbPoints() + 1)]
        slopes = [_slope(curve, u) for u in params]
        turns = [
            _turn(curve, a, b, axis, sa[axis])
            for a, b, sa, sb in zip(params, params[1:], slopes, slopes[1:], strict=False)
            for axis in (0, 1)
            if sa[axis] * sb[axis] < 0.0
        ]
        params = sorted(set(params) | set(turns))
    pts = np.array([[curve.Value(u).X(), curve.Value(u).Y()] for u in params], dtype=np.float64)
    return np.round(pts, 9) + 0.0  # + 0.0: no -0.0, so equal drawings have equal bytes


def project(part: Shape, view: str, smooth: bool = False) -> list[Stroke]:
    """The view's strokes by exact HLR: hidden sharp edges and silhouettes first, then visible
    ones; smooth=True adds the visible tangent edges (fillet boundaries), which engineering views
    usually leave out and pictorials keep. Deterministic."""
    topo = part.wrapped
    toward, xdir = VIEWS[view]
    projector = HLRAlgo_Projector(gp_Ax2(gp_Pnt(0, 0, 0), gp_Dir(*toward), gp_Dir(*xdir)))
    hlr = HLRBRep_Algo()
    hlr.Add(topo)
    hlr.Projector(projector)
    hlr.Update()
    hlr.Hide()
    shapes = HLRBRep_HLRToShape(hlr)
    size = _size(topo)
    strokes = []
    for getter, kind, visible, needs_smooth in OUTPUTS:
        if needs_smooth and not smooth:
            continue
        for edge in _edges(getattr(shapes, getter)()):
            pts = _polyline(edge, CHORD * size)
            if len(pts) >= 2 and np.ptp(pts, axis=0).max() > 1e-9:
                strokes.append(Stroke(visible, kind, pts))
    strokes = _visible_first(_unique(strokes), tol=2.5 * CHORD * size, step=size / 200)
    for s in strokes:
        s.points.setflags(write=False)
    return strokes


def _unique(strokes: list[Stroke]) -> list[Stroke]:
    """Drop repeats: holes one behind another give the same hidden lines several times."""
    seen, out = set(), []
    for s in strokes:
        fwd, back = s.points.tobytes(), s.points[::-1].copy().tobytes()
        key = (s.visible, min(fwd, back))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _near(points: np.ndarray, a: np.ndarray, b: np.ndarray, tol: float) -> np.ndarray:
    """Which points lie within tol of any segment a[i]-b[i]."""
    ab = b - a  # (M, 2)
    ap = points[:, None, :] - a[None, :, :]  # (N, M, 2)
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-300), 0.0, 1.0)
    gap = ap - t[..., None] * ab
    return ((gap * gap).sum(-1) <= tol * tol).any(axis=1)


def _densify(points: np.ndarray, step: float) -> np.ndarray:
    out = [points[:1]]
    for p, q in zip(points[:-1], points[1:], strict=False):
        n = max(1, math.ceil(float(np.linalg.norm(q - p)) / step))
        out.append(p + (q - p) * (np.arange(1, n + 1)[:, None] / n))
    return np.vstack(out)


def _visible_first(strokes: list[Stroke], tol: float, step: float) -> list[Stroke]:
    """Drop the pieces of hidden strokes that lie on visible ones: where a hidden edge projects
    onto a visible one (the far rim of a through hole seen end-on, a back edge behind a front
    edge) the drawing shows the visible line only (ISO 128-2 precedence)."""
    vis = [s.points for s in strokes if s.visible]
    if not vis:
        return strokes
    a, b = np.vstack([p[:-1] for p in vis]), np.vstack([p[1:] for p in vis])
    out = []
    for s in strokes:
        if s.visible:
            out.append(s)
            continue
        lo, hi = s.points.min(axis=0) - tol, s.points.max(axis=0) + tol
        near = (np.minimum(a, b) <= hi).all(axis=1) & (np.maximum(a, b) >= lo).all(axis=1)
        if not near.any():
            out.append(s)
            continue
        a_near, b_near = a[near], b[near]
        probe = _near(np.vstack([s.points, (s.points[:-1] + s.points[1:]) / 2]), a_near, b_near, tol)
        if not probe.any():  # vertices and midpoints clear: at most a crossing, keep it whole
            out.append(s)
            continue
        if probe.all():  # the whole stroke lies on visible lines
            continue
        dense = _densify(s.points, step)
        covered = _near(dense, a_near, b_near, tol)
        gone = covered[:-1] & covered[1:]  # a piece is hidden-under-visible when both its ends are
        if not gone.any():
            out.append(s)
            continue
        start = None
        for i, g in enumerate([*gone, True]):
            if not g and start is None:
                start = i
            elif g and start is not None:
                out.append(Stroke(False, s.kind, np.round(dense[start : i + 1], 9) + 0.0))
                start = None
    return out


def centre_marks(
    part: Shape, view: str, axes: list[HoleAxis] | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Centre-line segments (view-plane mm) for the part's holes (``axes``: hole_axes(part), when
    already found): a cross on a hole seen end-on, a line along the axis of a hole seen from the
    side; none for holes seen obliquely."""
    toward, _, _ = frame(view)
    marks = []
    for hole in hole_axes(part) if axes is None else axes:
        d, p = np.array(hole.direction), np.array(hole.point)
        radius = (hole.counterbore[0] if hole.counterbore else hole.diameter) / 2
        over = MARK_OVERSHOOT[0] + MARK_OVERSHOOT[1] * radius
        c = abs(float(d @ toward))
        if c > 1 - 1e-9:
            centre = project_point(view, p)
            half = radius + over
            marks.append((centre - [half, 0.0], centre + [half, 0.0]))
            marks.append((centre - [0.0, half], centre + [0.0, half]))
        elif c < 1e-9:
            a = project_point(view, p + d * (hole.extent[0] - over))
            b = project_point(view, p + d * (hole.extent[1] + over))
            marks.append((a, b))
    return [(np.round(a, 9) + 0.0, np.round(b, 9) + 0.0) for a, b in marks]


def bounds(strokes: list[Stroke]) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) over every stroke's points."""
    pts = np.vstack([s.points for s in strokes])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])
