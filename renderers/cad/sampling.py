"""Seeded part specs: millimetre parameters on a 0.5 mm grid and named features.

A spec is plain JSON-able data, ``{"kind", "params", "features": [{"name", "type", ...}]}``, so a
caption and an edit ("make the holes 8 mm", "remove the slot", "add a chamfer") are both written
from it and an edited spec is rebuilt by build(). Each kind draws its body and required features
so they always fit; optional features are proposed one by one and kept only when checks.check()
accepts them, the same test an edit must pass, so add_feature() serves both.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np

from renderers.cad.checks import DEPENDS, FEATURES, KINDS, PartError, check
from renderers.cad.layout import named, shaft_steps

OPTIONAL = {
    "plate": ("counterbore", "corner_fillet", "top_chamfer", "slot", "pocket"),
    "bracket": ("upright_holes", "rib", "corner_fillet"),
    "flange": ("hub", "hub_fillet", "rim_chamfer"),
    "shaft": ("end_chamfer", "shoulder_fillet", "keyway"),
    "housing": ("outer_fillet", "pocket_fillet", "rim_holes", "base_flange", "flange_holes"),
}
P_OPTIONAL = 0.5
TRIES = 12


class _NoRoom(Exception):
    """A proposal's range came out empty."""


def _mm(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A uniform draw on the 0.5 mm grid within [lo, hi]."""
    a, b = math.ceil(lo * 2 - 1e-9), math.floor(hi * 2 + 1e-9)
    if b < a:
        raise _NoRoom
    return float(rng.integers(a, b + 1)) / 2


def _hole(name: str, diameter: float, count: int, pattern: str, **extra: object) -> dict:
    through = extra.pop("through", True)
    depth = extra.pop("depth", None)
    return {
        "name": name,
        "type": "hole",
        "diameter": diameter,
        "count": count,
        "through": through,
        "depth": depth,
        "pattern": pattern,
        **extra,
    }


def _grid(name: str, d: float, cols: int, rows: int, pitch: list[float]) -> dict:
    return _hole(name, d, cols * rows, "grid", cols=cols, rows=rows, pitch=pitch)


# -- bodies and required features --------------------------------------------------------------


def _plate(rng: np.random.Generator) -> tuple[dict, list[dict]]:
    t, d = _mm(rng, 4, 14), _mm(rng, 3, 10)
    m = _mm(rng, d / 2 + 6, d / 2 + 10)  # edge to hole centre: room for a counterbore and a fillet
    cols = int(rng.integers(2, 5))
    px, py = _mm(rng, d + 8, 40), _mm(rng, d + 20, d + 50)
    params = {"width": px * (cols - 1) + 2 * m, "depth": py + 2 * m, "thickness": t}
    return params, [_grid("holes", d, cols, 2, [px, py])]


def _bracket(rng: np.random.Generator) -> tuple[dict, list[dict]]:
    t, d = _mm(rng, 4, 10), _mm(rng, 4, 9)
    cols = int(rng.integers(1, 3))
    px = _mm(rng, d + 8, 40) if cols == 2 else 0.0
    py = _mm(rng, d + 9, 50)  # the base holes straddle a rib of up to 6 mm
    mx, my = _mm(rng, d / 2 + 5, d / 2 + 12), _mm(rng, d / 2 + 4, d / 2 + 10)
    params = {
        "length": t + (cols - 1) * px + 2 * mx,
        "width": py + 2 * my,
        "thickness": t,
        "height": t + _mm(rng, 25, 70),
    }
    return params, [_grid("base_holes", d, cols, 2, [px, py])]


def _flange(rng: np.random.Generator) -> tuple[dict, list[dict]]:
    dia, t = _mm(rng, 60, 160), _mm(rng, 6, 18)
    bore = _mm(rng, 0.12 * dia, 0.25 * dia)
    d = _mm(rng, 4, max(4.0, min(0.08 * dia, 14)))
    k = int(rng.integers(3, 9))
    lo = bore / 2 + 12 + d / 2  # room for a hub (8 mm wall) and its fillet
    bc = 2 * _mm(rng, lo, dia / 2 - 3 - d / 2)
    start = round(180.0 / k, 3) if rng.random() < 0.5 else 0.0
    bolts = _hole("bolt_holes", d, k, "polar", bolt_circle=bc, start_angle=start)
    return {"diameter": dia, "thickness": t}, [_hole("bore", bore, 1, "centre"), bolts]


def _shaft(rng: np.random.Generator) -> tuple[dict, list[dict]]:
    n = int(rng.integers(2, 4))
    dias = [_mm(rng, 14, 40)]
    for _ in range(n - 1):
        step = _mm(rng, 4, 12)
        down = rng.random() < 0.5 and dias[-1] - step >= 10
        dias.append(dias[-1] - step if down else min(dias[-1] + step, 60.0))
    steps = [{"diameter": dd, "length": _mm(rng, 15, 60)} for dd in dias]
    return {"steps": steps}, []


def _housing(rng: np.random.Generator) -> tuple[dict, list[dict]]:
    w, d, h = _mm(rng, 40, 120), _mm(rng, 30, 100), _mm(rng, 20, 70)
    wall = _mm(rng, 4, min(10, min(w, d) / 2 - 6))
    return {"width": w, "depth": d, "height": h, "wall": wall, "floor": _mm(rng, 2, 8)}, []


BODIES: dict[str, Callable[[np.random.Generator], tuple[dict, list[dict]]]] = {
    "plate": _plate,
    "bracket": _bracket,
    "flange": _flange,
    "shaft": _shaft,
    "housing": _housing,
}


# -- optional features: proposals, kept only when check() accepts them -------------------------


def _propose(rng: np.random.Generator, spec: dict, name: str) -> dict:
    p, f = spec["params"], named(spec)
    kind = spec["kind"]
    if kind == "plate":
        return _propose_plate(rng, p, f, name)
    if kind == "bracket":
        if name == "upright_holes":
            d = _mm(rng, 4, 9)
            free = p["height"] - p["thickness"]
            rows = 2 if free >= 2 * d + 22 and rng.random() < 0.5 else 1
            pz = _mm(rng, d + 6, free - d - 12) if rows == 2 else 0.0
            return _grid(name, d, 2, rows, [_mm(rng, d + 9, p["width"] - d - 6), pz])
        if name == "rib":
            return {
                "name": name,
                "type": "rib",
                "thickness": _mm(rng, 3, 6),
                "length": _mm(
                    rng, 0.3 * (p["length"] - p["thickness"]), 0.7 * (p["length"] - p["thickness"])
                ),
                "height": _mm(
                    rng, 0.3 * (p["height"] - p["thickness"]), 0.7 * (p["height"] - p["thickness"])
                ),
            }
        return {"name": name, "type": "fillet", "radius": _mm(rng, 1, 8)}
    if kind == "flange":
        if name == "hub":
            bc, d, bore = f["bolt_holes"]["bolt_circle"], f["bolt_holes"]["diameter"], f["bore"]["diameter"]
            hub_d = _mm(rng, bore + 6, bc - d - 2)
            return {
                "name": name,
                "type": "hub",
                "diameter": hub_d,
                "height": _mm(rng, 3, 1.5 * p["thickness"]),
            }
        if name == "hub_fillet":
            return {"name": name, "type": "fillet", "radius": _mm(rng, 1, 3)}
        return {"name": name, "type": "chamfer", "length": _mm(rng, 0.5, min(2, p["thickness"] / 2 - 0.5))}
    if kind == "shaft":
        return _propose_shaft(rng, spec, f, name)
    return _propose_housing(rng, p, f, name)


def _propose_plate(rng: np.random.Generator, p: dict, f: dict, name: str) -> dict:
    t = p["thickness"]
    if name == "counterbore":
        d = f["holes"]["diameter"]
        return {
            "name": name,
            "type": "counterbore",
            "diameter": _mm(rng, d + 2, d + 6),
            "depth": _mm(rng, 1, t / 2),
        }
    if name == "corner_fillet":
        return {"name": name, "type": "fillet", "radius": _mm(rng, 1, 10)}
    if name == "top_chamfer":
        return {"name": name, "type": "chamfer", "length": _mm(rng, 0.5, min(1.5, t / 2 - 0.5))}
    # slot (left half) and pocket (right half) share the band between the two rows of holes
    h = f["holes"]
    outer = f["counterbore"]["diameter"] if "counterbore" in f else h["diameter"]
    half_band = h["pitch"][1] / 2 - outer / 2 - 1.5
    lo, hi = 1.0, p["width"] / 2 - 2.5
    cx = math.floor((lo + hi) / 2 * 2) / 2
    room = 2 * min(cx - lo, hi - cx)
    if name == "slot":
        along = rng.random() < 0.5
        width = _mm(rng, 3, min(10, (2 * half_band if along else room) - 1))
        length = _mm(rng, width + 3, room if along else 2 * half_band)
        return {
            "name": name,
            "type": "slot",
            "length": length,
            "width": width,
            "centre": [-cx, 0.0],
            "angle": 0 if along else 90,
            "through": True,
        }
    size = [_mm(rng, 6, room), _mm(rng, 6, 2 * half_band)]
    return {"name": name, "type": "pocket", "size": size, "depth": _mm(rng, 1, t - 1.5), "centre": [cx, 0.0]}


def _propose_shaft(rng: np.random.Generator, spec: dict, f: dict, name: str) -> dict:
    steps = spec["params"]["steps"]
    if name == "end_chamfer":
        r = min(steps[0]["diameter"], steps[-1]["diameter"]) / 2
        return {"name": name, "type": "chamfer", "length": _mm(rng, 0.5, min(2, r - 1))}
    if name == "shoulder_fillet":
        spans = shaft_steps(spec)
        rise = min(abs(a[2] - b[2]) for a, b in zip(spans, spans[1:], strict=False))
        return {"name": name, "type": "fillet", "radius": _mm(rng, 0.5, min(2, rise - 0.5))}
    i = int(rng.integers(0, len(steps)))
    d, length = steps[i]["diameter"], steps[i]["length"]
    width = _mm(rng, max(2, 0.2 * d), 0.3 * d)
    return {
        "name": name,
        "type": "keyway",
        "step": i,
        "length": _mm(rng, width + 2, length - 6.5),
        "width": width,
        "depth": _mm(rng, 1, min(0.15 * d, d / 4)),
    }


def _propose_housing(rng: np.random.Generator, p: dict, f: dict, name: str) -> dict:
    wall = p["wall"]
    if name == "outer_fillet":
        return {"name": name, "type": "fillet", "radius": _mm(rng, 1, wall)}
    if name == "pocket_fillet":
        inner = min(p["width"], p["depth"]) - 2 * wall
        return {"name": name, "type": "fillet", "radius": _mm(rng, 1, min(8, inner / 2 - 1))}
    if name == "rim_holes":
        d = _mm(rng, 2, wall - 2)
        return _hole(name, d, 4, "corners", through=False, depth=_mm(rng, d, min(3 * d, p["height"] - 1)))
    if name == "base_flange":
        return {
            "name": name,
            "type": "flange",
            "overhang": _mm(rng, 6, 15),
            "thickness": _mm(rng, 3, min(8, p["height"] - 5)),
        }
    return _hole(name, _mm(rng, 3, f["base_flange"]["overhang"] - 3), 4, "corners")


def _ordered(kind: str, features: list[dict]) -> list[dict]:
    order = list(FEATURES[kind])
    return sorted(features, key=lambda f: order.index(f["name"]))


def add_feature(rng: np.random.Generator, spec: dict, name: str) -> dict | None:
    """A copy of spec with the named optional feature drawn to fit, or None when it is already
    there, needs a feature the spec lacks, or no draw fits (checks.check() decides)."""
    if name in named(spec) or name not in FEATURES[spec["kind"]]:
        return None
    if name in DEPENDS and DEPENDS[name] not in named(spec):
        return None
    for _ in range(TRIES):
        try:
            feature = _propose(rng, spec, name)
        except _NoRoom:
            continue
        out = copy.deepcopy(spec)
        out["features"] = _ordered(spec["kind"], [*out["features"], feature])
        try:
            check(out)
        except PartError:
            continue
        return out
    return None


def sample_spec(rng: np.random.Generator, kind: str) -> dict:
    """A random part of this kind: its body, required features, then each optional feature with
    probability P_OPTIONAL when it fits. Deterministic in the rng's state."""
    if kind not in KINDS:
        raise ValueError(f"unknown part kind {kind!r}; expected one of {KINDS}")
    params, features = BODIES[kind](rng)
    spec = {"kind": kind, "params": params, "features": _ordered(kind, features)}
    check(spec)  # a sampler bug, not a bad draw: bodies are drawn to fit
    for name in OPTIONAL[kind]:
        if rng.random() < P_OPTIONAL:
            spec = add_feature(rng, spec, name) or spec
    return spec
