"""Build a checked spec into one build123d solid (OpenCascade B-rep), feature by feature.

Order matters and is fixed: edge treatments (fillets, chamfers) are applied to the plain body
first, where the edges to treat are easy to find and cannot fail on a hole; cuts come last and all
at once (one boolean). Holes are plain cylinders cut along a layout.Drill, so their faces are the
exact cylinders that brep.py reads back.
"""

from __future__ import annotations

from collections.abc import Callable

from build123d import (
    Align,
    Axis,
    Box,
    Cylinder,
    Edge,
    GeomType,
    Part,
    Plane,
    Polygon,
    Pos,
    Rot,
    ShapeList,
    SlotOverall,
    chamfer,
    extrude,
    fillet,
)
from OCP.Standard import Standard_Failure

from renderers.cad.checks import PartError, check
from renderers.cad.layout import THROUGH, Drill, drills, named, shaft_steps

BASE = (Align.CENTER, Align.CENTER, Align.MIN)
EPS = 1e-6


def _edges(shape: Part, keep: Callable[[Edge], bool]) -> ShapeList[Edge]:
    return ShapeList([e for e in shape.edges() if keep(e)])


def _z(e: Edge) -> float:
    return e.position_at(0).Z


def _drill_tools(spec: dict) -> list[Part]:
    return [tool for d in drills(spec) for tool in _drill(d)]


def _drill(d: Drill) -> list[Part]:
    """Cylinders for one hole, each starting 1 mm outside the surface so the cut is clean."""
    x, y, z = d.origin
    ux, uy, uz = d.direction
    plane = Plane(origin=(x - ux, y - uy, z - uz), z_dir=d.direction)
    depth = THROUGH if d.depth is None else d.depth
    tools = [plane * Cylinder(d.diameter / 2, depth + 1, align=BASE)]
    if d.counterbore:
        tools.append(plane * Cylinder(d.counterbore[0] / 2, d.counterbore[1] + 1, align=BASE))
    return tools


def _cut(part: Part, tools: list[Part]) -> Part:
    return part.cut(*tools) if tools else part


def _plate(spec: dict) -> Part:
    p, f = spec["params"], named(spec)
    t = p["thickness"]
    part = Box(p["width"], p["depth"], t, align=BASE)
    if "corner_fillet" in f:
        part = fillet(part.edges().filter_by(Axis.Z), f["corner_fillet"]["radius"])
    if "top_chamfer" in f:
        part = chamfer(part.faces().sort_by(Axis.Z)[-1].edges(), f["top_chamfer"]["length"])
    tools = _drill_tools(spec)
    if "slot" in f:
        s = f["slot"]
        sketch = Pos(s["centre"][0], s["centre"][1], t + 1) * SlotOverall(
            s["length"], s["width"], rotation=s["angle"]
        )
        tools.append(extrude(sketch, amount=t + 2, dir=(0, 0, -1)))
    if "pocket" in f:
        k = f["pocket"]
        box = Box(k["size"][0], k["size"][1], k["depth"] + 1, align=BASE)
        tools.append(Pos(k["centre"][0], k["centre"][1], t - k["depth"]) * box)
    return _cut(part, tools)


def _bracket(spec: dict) -> Part:
    p, f = spec["params"], named(spec)
    length, w, t, h = p["length"], p["width"], p["thickness"], p["height"]
    base = Box(length, w, t, align=BASE)
    upright = Pos(-length / 2 + t / 2, 0, 0) * Box(t, w, h, align=BASE)
    if "corner_fillet" in f:
        r = f["corner_fillet"]["radius"]
        base = fillet(_edges(base, lambda e: _is(e, Axis.Z) and abs(e.center().X - length / 2) < EPS), r)
        upright = fillet(_edges(upright, lambda e: _is(e, Axis.X) and abs(_z(e) - h) < EPS), r)
    part = base + upright
    if "rib" in f:
        k = f["rib"]
        x0 = -length / 2 + t
        profile = Plane.XZ * Polygon((x0, t), (x0 + k["length"], t), (x0, t + k["height"]), align=None)
        part = part + extrude(profile, amount=k["thickness"] / 2, both=True)
    return _cut(part, _drill_tools(spec))


def _is(e: Edge, axis: Axis) -> bool:
    return e.geom_type == GeomType.LINE and abs(abs(e.tangent_at(0).dot(axis.direction)) - 1) < EPS


def _flange(spec: dict) -> Part:
    p, f = spec["params"], named(spec)
    t = p["thickness"]
    part = Cylinder(p["diameter"] / 2, t, align=BASE)
    if "rim_chamfer" in f:
        part = chamfer(
            _edges(part, lambda e: e.geom_type == GeomType.CIRCLE and abs(_z(e) - t) < EPS),
            f["rim_chamfer"]["length"],
        )
    if "hub" in f:
        hub = f["hub"]
        part = part + Pos(0, 0, t) * Cylinder(hub["diameter"] / 2, hub["height"], align=BASE)
        if "hub_fillet" in f:
            root = _edges(
                part,
                lambda e: (
                    e.geom_type == GeomType.CIRCLE
                    and abs(_z(e) - t) < EPS
                    and abs(e.radius - hub["diameter"] / 2) < EPS
                ),
            )
            part = fillet(root, f["hub_fillet"]["radius"])
    return _cut(part, _drill_tools(spec))


def _shaft(spec: dict) -> Part:
    f = named(spec)
    spans = shaft_steps(spec)
    part = None
    for x0, x1, r in spans:
        step = Pos(x0, 0, 0) * Rot(0, 90, 0) * Cylinder(r, x1 - x0, align=BASE)
        part = step if part is None else part + step
    ends = (spans[0][0], spans[-1][1])

    def circle_at(e: Edge, x: float) -> bool:
        return e.geom_type == GeomType.CIRCLE and abs(e.position_at(0).X - x) < EPS

    if "end_chamfer" in f:
        part = chamfer(_edges(part, lambda e: any(circle_at(e, x) for x in ends)), f["end_chamfer"]["length"])
    if "shoulder_fillet" in f:
        inner = [(a[1], min(a[2], b[2])) for a, b in zip(spans, spans[1:], strict=False)]
        shoulders = _edges(part, lambda e: any(circle_at(e, x) and abs(e.radius - r) < EPS for x, r in inner))
        part = fillet(shoulders, f["shoulder_fillet"]["radius"])
    if "keyway" in f:
        k = f["keyway"]
        x0, x1, r = spans[k["step"]]
        sketch = Pos((x0 + x1) / 2, 0, r + 1) * SlotOverall(k["length"], k["width"])
        part = part - extrude(sketch, amount=k["depth"] + 1, dir=(0, 0, -1))
    return part


def _housing(spec: dict) -> Part:
    p, f = spec["params"], named(spec)
    w, d, h, wall, floor = p["width"], p["depth"], p["height"], p["wall"], p["floor"]
    part = Box(w, d, h, align=BASE)
    if "outer_fillet" in f:
        part = fillet(part.edges().filter_by(Axis.Z), f["outer_fillet"]["radius"])
    if "base_flange" in f:
        fl = f["base_flange"]
        part = part + Box(w + 2 * fl["overhang"], d + 2 * fl["overhang"], fl["thickness"], align=BASE)
    pocket = Box(w - 2 * wall, d - 2 * wall, h - floor + 1, align=BASE)
    if "pocket_fillet" in f:  # a convex fillet on the tool is the concave fillet of the pocket
        pocket = fillet(pocket.edges().filter_by(Axis.Z), f["pocket_fillet"]["radius"])
    return _cut(part, [Pos(0, 0, floor) * pocket, *_drill_tools(spec)])


BUILDERS = {"plate": _plate, "bracket": _bracket, "flange": _flange, "shaft": _shaft, "housing": _housing}


def build(spec: dict) -> Part:
    """The spec's part as one valid solid; PartError (a ValueError) names why when it cannot be."""
    try:
        check(spec)
        part = BUILDERS[spec["kind"]](spec)
    except PartError:
        raise
    except (KeyError, TypeError, IndexError) as err:  # a hand-edited spec missing a field
        raise PartError(f"{spec.get('kind')}: malformed spec ({type(err).__name__}: {err})") from err
    except (ValueError, Standard_Failure) as err:
        raise PartError(f"{spec['kind']}: OpenCascade refused the part: {err}") from err
    solids = part.solids()
    if len(solids) != 1:
        raise PartError(f"{spec['kind']}: the features split the part into {len(solids)} solids")
    if not part.is_valid:
        raise PartError(f"{spec['kind']}: the result is not a valid solid")
    return Part([solids[0]])  # a Part (a compound) holding the one solid, whatever the last op returned
