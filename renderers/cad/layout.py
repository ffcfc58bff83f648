"""Where a spec's features sit: drill axes and 2D footprints, in millimetres, from the spec alone.

One place derives positions, so the feasibility checks (checks.py) and the solid builder
(builders.py) cannot disagree about where a hole is. Pure numpy, no OpenCascade.

Part frames (model frame: X right, Y away from the front viewer, Z up; every part stands on z = 0):
plate, housing and flange are centred on the Z axis; the bracket's base is centred in X and Y with
its upright at the -X end; the shaft lies along X, centred on the origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# A through drill is a cylinder this long: longer than any part the samplers draw (< 300 mm).
THROUGH = 1000.0


@dataclass(frozen=True)
class Drill:
    """One hole: entry point on the surface, inward unit direction, and its cylinders."""

    origin: tuple[float, float, float]
    direction: tuple[float, float, float]
    diameter: float
    depth: float | None  # None: through
    counterbore: tuple[float, float] | None = None  # (diameter, depth)


def named(spec: dict) -> dict[str, dict]:
    """The spec's features by name (build and check refuse duplicate names first)."""
    return {f["name"]: f for f in spec.get("features", [])}


def grid(cols: int, rows: int, pitch: tuple[float, float]) -> list[tuple[float, float]]:
    """Offsets of a cols x rows grid centred on (0, 0): column-major, left to right, front to back."""
    return [
        ((j - (cols - 1) / 2) * pitch[0], (i - (rows - 1) / 2) * pitch[1])
        for j in range(cols)
        for i in range(rows)
    ]


def corners(half_x: float, half_y: float) -> list[tuple[float, float]]:
    return [(sx * half_x, sy * half_y) for sx in (-1, 1) for sy in (-1, 1)]


def polar(count: int, radius: float, start_deg: float) -> list[tuple[float, float]]:
    out = []
    for i in range(count):
        a = math.radians(start_deg + 360.0 * i / count)
        out.append((radius * math.cos(a), radius * math.sin(a)))
    return out


def _depth(f: dict) -> float | None:
    return None if f.get("through", True) else float(f["depth"])


def hole_points(spec: dict, name: str) -> list[tuple[float, float]]:
    """2D centres of one hole feature in its own face's frame (see drills for the 3D mapping)."""
    f = named(spec)[name]
    p = spec["params"]
    pattern = f["pattern"]
    if pattern == "grid":
        return grid(int(f["cols"]), int(f["rows"]), tuple(f["pitch"]))
    if pattern == "polar":
        return polar(int(f["count"]), f["bolt_circle"] / 2, float(f.get("start_angle", 0.0)))
    if pattern == "centre":
        return [(0.0, 0.0)]
    if pattern == "corners" and name == "rim_holes":
        return corners(p["width"] / 2 - p["wall"] / 2, p["depth"] / 2 - p["wall"] / 2)
    if pattern == "corners" and name == "flange_holes":
        o = named(spec)["base_flange"]["overhang"]
        return corners(p["width"] / 2 + o / 2, p["depth"] / 2 + o / 2)
    raise ValueError(f"{spec['kind']} hole feature {name!r}: unknown pattern {pattern!r}")


def flange_top(spec: dict) -> float:
    """Height of the flange's top face: the hub's top when there is a hub."""
    hub = named(spec).get("hub")
    return spec["params"]["thickness"] + (hub["height"] if hub else 0.0)


def drills(spec: dict) -> list[Drill]:
    """Every hole of the spec as a drill, in feature order then pattern order."""
    p = spec["params"]
    feats = named(spec)
    out: list[Drill] = []
    for name, f in feats.items():
        if f["type"] != "hole":
            continue
        cb = feats.get("counterbore") if name == "holes" else None
        cbore = (cb["diameter"], cb["depth"]) if cb else None
        for u, v in hole_points(spec, name):
            if spec["kind"] == "bracket" and name == "upright_holes":
                t = p["thickness"]
                origin = (-p["length"] / 2 + t, u, (t + p["height"]) / 2 + v)
                direction = (-1.0, 0.0, 0.0)
            else:
                origin, direction = (u, v, _entry_z(spec, name)), (0.0, 0.0, -1.0)
                if spec["kind"] == "bracket":  # base holes: centred on the free part of the base
                    origin = (u + p["thickness"] / 2, v, p["thickness"])
            out.append(Drill(origin, direction, float(f["diameter"]), _depth(f), cbore))
    return out


def _entry_z(spec: dict, name: str) -> float:
    p = spec["params"]
    kind = spec["kind"]
    if kind == "plate":
        return p["thickness"]
    if kind == "flange":
        return flange_top(spec) if name == "bore" else p["thickness"]
    if kind == "housing":
        return p["height"] if name == "rim_holes" else named(spec)["base_flange"]["thickness"]
    return p["thickness"]


def shaft_steps(spec: dict) -> list[tuple[float, float, float]]:
    """(x_start, x_end, radius) of each step, left to right, the shaft centred on x = 0."""
    steps = spec["params"]["steps"]
    total = sum(s["length"] for s in steps)
    x = -total / 2
    out = []
    for s in steps:
        out.append((x, x + s["length"], s["diameter"] / 2))
        x += s["length"]
    return out
