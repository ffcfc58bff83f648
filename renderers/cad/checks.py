"""Is a spec buildable? The schema (kinds, feature names, what needs what) and 2D clearance checks.

Edits change a spec by hand ("make the holes 20 mm"), so build() cannot trust it: a hole that
breaks into a slot or a fillet larger than the wall would still give a valid solid, just not the
part the text describes. These checks run before any OpenCascade call and name the reason; they
are conservative (slots are checked by their bounding rectangles).
"""

from __future__ import annotations

import math

from renderers.cad.layout import hole_points, named, shaft_steps

KINDS = ("plate", "bracket", "flange", "shaft", "housing")

# Feature names per kind, in build order, with their type. The name is the feature's identity:
# edits refer to it ("remove the slot") and it fixes where the feature sits.
FEATURES: dict[str, dict[str, str]] = {
    "plate": {
        "corner_fillet": "fillet",
        "top_chamfer": "chamfer",
        "holes": "hole",
        "counterbore": "counterbore",
        "slot": "slot",
        "pocket": "pocket",
    },
    "bracket": {"corner_fillet": "fillet", "rib": "rib", "base_holes": "hole", "upright_holes": "hole"},
    "flange": {
        "rim_chamfer": "chamfer",
        "hub": "hub",
        "hub_fillet": "fillet",
        "bore": "hole",
        "bolt_holes": "hole",
    },
    "shaft": {"end_chamfer": "chamfer", "shoulder_fillet": "fillet", "keyway": "keyway"},
    "housing": {
        "outer_fillet": "fillet",
        "base_flange": "flange",
        "pocket_fillet": "fillet",
        "rim_holes": "hole",
        "flange_holes": "hole",
    },
}
PATTERNS = {
    "holes": "grid",
    "base_holes": "grid",
    "upright_holes": "grid",
    "bore": "centre",
    "bolt_holes": "polar",
    "rim_holes": "corners",
    "flange_holes": "corners",
}
DEPENDS = {"counterbore": "holes", "hub_fillet": "hub", "flange_holes": "base_flange"}
WALL = 1.0  # least material left between two features, or a feature and an edge (mm)

Circle = tuple[float, float, float]  # cx, cy, r
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


class PartError(ValueError):
    """The spec cannot be built as described; the message says why."""


def _need(ok: bool, reason: str) -> None:
    if not ok:
        raise PartError(reason)


def check(spec: dict) -> None:
    """Raise PartError naming the first reason the spec is not buildable as described."""
    kind = spec.get("kind")
    _need(kind in KINDS, f"unknown part kind {kind!r}")
    feats = spec.get("features", [])
    names = [f.get("name") for f in feats]
    _need(len(set(names)) == len(names), f"{kind}: a feature name appears twice: {names}")
    for f in feats:
        name = f["name"]
        _need(name in FEATURES[kind], f"{kind} has no feature {name!r}")
        _need(
            f.get("type") == FEATURES[kind][name],
            f"{kind} feature {name!r} must have type {FEATURES[kind][name]!r}",
        )
        if name in DEPENDS:
            _need(DEPENDS[name] in names, f"{kind}: {name} needs {DEPENDS[name]}")
        if f["type"] == "hole":
            _check_hole(kind, f)
        for key, value in f.items():
            if key in ("radius", "length", "depth", "diameter", "width", "thickness", "height", "overhang"):
                _need(value is None or value > 0, f"{kind} {name}: {key} must be positive, got {value}")
    {"plate": _plate, "bracket": _bracket, "flange": _flange, "shaft": _shaft, "housing": _housing}[kind](
        spec
    )


def _check_hole(kind: str, f: dict) -> None:
    name = f["name"]
    _need(f.get("pattern") == PATTERNS[name], f"{kind} {name}: pattern must be {PATTERNS[name]!r}")
    expected = {
        "grid": lambda: int(f["rows"]) * int(f["cols"]),
        "centre": lambda: 1,
        "corners": lambda: 4,
        "polar": lambda: int(f["count"]),
    }[f["pattern"]]()
    _need(f["count"] == expected >= 1, f"{kind} {name}: count {f['count']} does not match its pattern")
    if not f.get("through", True):
        _need((f.get("depth") or 0) > 0, f"{kind} {name}: a blind hole needs a positive depth")


# -- 2D geometry -------------------------------------------------------------------------------


def _inside(
    c: Circle, centre: tuple[float, float], half: tuple[float, float], r: float, inset: float
) -> bool:
    """Is the circle inside a rectangle with rounded corners (radius r), shrunk by inset?"""
    dx, dy = abs(c[0] - centre[0]), abs(c[1] - centre[1])
    if dx + c[2] > half[0] - inset + 1e-9 or dy + c[2] > half[1] - inset + 1e-9:
        return False
    if r > 0 and dx > half[0] - r and dy > half[1] - r:
        return math.hypot(dx - (half[0] - r), dy - (half[1] - r)) + c[2] <= r - inset + 1e-9
    return True


def _rect_corners(rect: Rect) -> list[Circle]:
    return [(x, y, 0.0) for x in (rect[0], rect[2]) for y in (rect[1], rect[3])]


def _gap(a: Circle | Rect, b: Circle | Rect) -> float:
    """Clearance between two footprints (negative when they overlap)."""
    if len(a) == 4 and len(b) == 3:
        a, b = b, a
    if len(a) == 3 and len(b) == 3:
        return math.hypot(a[0] - b[0], a[1] - b[1]) - a[2] - b[2]
    if len(a) == 3:
        dx = max(b[0] - a[0], 0.0, a[0] - b[2])
        dy = max(b[1] - a[1], 0.0, a[1] - b[3])
        if dx == dy == 0.0:
            return -a[2] - min(a[0] - b[0], b[2] - a[0], a[1] - b[1], b[3] - a[1])
        return math.hypot(dx, dy) - a[2]
    return max(b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3])


def _apart(items: list[tuple[str, Circle | Rect]], kind: str) -> None:
    for i, (na, a) in enumerate(items):
        for nb, b in items[i + 1 :]:
            _need(_gap(a, b) >= WALL - 1e-9, f"{kind}: {na} and {nb} leave less than {WALL} mm between them")


def _hole_circles(spec: dict, name: str, outer: float | None = None) -> list[tuple[str, Circle]]:
    d = outer or named(spec)[name]["diameter"]
    return [(f"{name}[{i}]", (u, v, d / 2)) for i, (u, v) in enumerate(hole_points(spec, name))]


def _slot_rect(f: dict) -> Rect:
    along, across = (f["length"], f["width"]) if f.get("angle", 0) % 180 == 0 else (f["width"], f["length"])
    cx, cy = f["centre"]
    return (cx - along / 2, cy - across / 2, cx + along / 2, cy + across / 2)


def _radius(feats: dict, name: str) -> float:
    return feats[name]["radius"] if name in feats else 0.0


# -- kinds -------------------------------------------------------------------------------------


def _plate(spec: dict) -> None:
    p, feats = spec["params"], named(spec)
    w, d, t = p["width"], p["depth"], p["thickness"]
    r = _radius(feats, "corner_fillet")
    c = feats["top_chamfer"]["length"] if "top_chamfer" in feats else 0.0
    _need(r < min(w, d) / 2 - 0.5, f"plate: corner fillet {r} mm does not fit a {w} x {d} mm plate")
    _need(c < t / 2, f"plate: top chamfer {c} mm is too deep for a {t} mm plate")
    _need(not (r and c) or c < r, f"plate: top chamfer {c} mm must be smaller than the {r} mm corner fillet")
    items: list[tuple[str, Circle | Rect]] = []
    if "holes" in feats:
        h = feats["holes"]
        cb = feats.get("counterbore")
        if cb:
            _need(cb["diameter"] > h["diameter"] + 0.5, "plate: the counterbore must be wider than its hole")
            _need(cb["depth"] <= t - 1, f"plate: counterbore depth {cb['depth']} mm leaves no hole in {t} mm")
        if not h.get("through", True):
            _need(h["depth"] <= t - 1, f"plate: blind holes {h['depth']} mm deep break through {t} mm")
            _need(not cb or cb["depth"] < h["depth"], "plate: the counterbore is deeper than the hole")
        items += _hole_circles(spec, "holes", cb["diameter"] if cb else None)
    if "slot" in feats:
        s = feats["slot"]
        _need(s["length"] > s["width"], "plate: a slot must be longer than it is wide")
        items.append(("slot", _slot_rect(s)))
    if "pocket" in feats:
        k = feats["pocket"]
        _need(k["depth"] <= t - 1, f"plate: pocket depth {k['depth']} mm leaves no floor in {t} mm")
        (cx, cy), (sx, sy) = k["centre"], k["size"]
        items.append(("pocket", (cx - sx / 2, cy - sy / 2, cx + sx / 2, cy + sy / 2)))
    for name, fp in items:
        pts = [fp] if len(fp) == 3 else _rect_corners(fp)
        ok = all(_inside(q, (0.0, 0.0), (w / 2, d / 2), r, WALL + c) for q in pts)
        _need(ok, f"plate: {name} runs off the {w} x {d} mm plate or into its edge")
    _apart(items, "plate")


def _bracket(spec: dict) -> None:
    p, feats = spec["params"], named(spec)
    length, w, t, h = p["length"], p["width"], p["thickness"], p["height"]
    _need(t <= min(length, h) - 5, f"bracket: thickness {t} mm leaves no base or upright")
    r = _radius(feats, "corner_fillet")
    _need(r < min(w / 2, length - t, h - t) - 0.5, f"bracket: corner fillet {r} mm does not fit")
    base: list[tuple[str, Circle | Rect]] = []
    upright: list[tuple[str, Circle | Rect]] = []
    if "rib" in feats:
        k = feats["rib"]
        _need(k["length"] <= length - t - 1 and k["height"] <= h - t - 1, "bracket: the rib sticks out")
        _need(k["thickness"] <= w - 2, "bracket: the rib is wider than the bracket")
        x0 = -length / 2 + t
        base.append(("rib", (x0, -k["thickness"] / 2, x0 + k["length"], k["thickness"] / 2)))
        upright.append(("rib", (-k["thickness"] / 2, t, k["thickness"] / 2, t + k["height"])))
    if "base_holes" in feats:
        base += [(n, (c[0] + t / 2, c[1], c[2])) for n, c in _hole_circles(spec, "base_holes")]
    if "upright_holes" in feats:
        upright += [(n, (c[0], c[1] + (t + h) / 2, c[2])) for n, c in _hole_circles(spec, "upright_holes")]
    for items, centre, half, where in (
        (base, (t / 2, 0.0), ((length - t) / 2, w / 2), "base"),
        (upright, (0.0, (t + h) / 2), (w / 2, (h - t) / 2), "upright"),
    ):
        for name, fp in items:
            if len(fp) == 3:
                _need(_inside(fp, centre, half, r, WALL), f"bracket: {name} runs off the {where}")
        _apart(items, f"bracket {where}")


def _flange(spec: dict) -> None:
    p, feats = spec["params"], named(spec)
    outer, t = p["diameter"] / 2, p["thickness"]
    c = feats["rim_chamfer"]["length"] if "rim_chamfer" in feats else 0.0
    _need(c < min(t / 2, outer / 4), f"flange: rim chamfer {c} mm is too large")
    inner = 0.0
    if "hub" in feats:
        hub = feats["hub"]
        _need(hub["diameter"] / 2 <= outer - 2, "flange: the hub is as wide as the flange")
        fr = _radius(feats, "hub_fillet")
        _need(
            fr <= min(hub["height"] - 0.5, outer - hub["diameter"] / 2 - 1),
            f"flange: hub fillet {fr} mm does not fit",
        )
        inner = hub["diameter"] / 2 + fr
    if "bore" in feats:
        bore = feats["bore"]["diameter"] / 2
        room = feats["hub"]["diameter"] / 2 if "hub" in feats else outer - c
        _need(bore <= room - 2, f"flange: a {2 * bore} mm bore leaves no wall")
        inner = max(inner, bore)
    if "bolt_holes" in feats:
        items = _hole_circles(spec, "bolt_holes")
        for name, (x, y, r) in items:
            rho = math.hypot(x, y)
            _need(rho + r <= outer - c - WALL, f"flange: {name} runs off the rim")
            _need(rho - r >= inner + WALL, f"flange: {name} breaks into the bore or the hub")
        _apart(items, "flange")


def _shaft(spec: dict) -> None:
    feats = named(spec)
    steps = spec["params"]["steps"]
    _need(1 <= len(steps) <= 4, "shaft: 1 to 4 steps")
    _need(all(s["diameter"] >= 2 and s["length"] >= 2 for s in steps), "shaft: steps must be at least 2 mm")
    spans = shaft_steps(spec)
    for (_, _, ra), (_, _, rb) in zip(spans, spans[1:], strict=False):
        _need(abs(ra - rb) >= 0.5, "shaft: neighbouring steps of equal diameter are one step")
    c = feats["end_chamfer"]["length"] if "end_chamfer" in feats else 0.0
    ends = (steps[0], steps[-1])
    _need(
        all(c <= e["diameter"] / 2 - 1 and c < e["length"] / 2 for e in ends),
        f"shaft: end chamfer {c} mm too large",
    )
    fr = _radius(feats, "shoulder_fillet")
    if fr:
        _need(len(steps) > 1, "shaft: no shoulder to fillet")
        for (_, _, ra), (_, _, rb) in zip(spans, spans[1:], strict=False):
            _need(fr <= abs(ra - rb) - 0.5, f"shaft: shoulder fillet {fr} mm is taller than a shoulder")
        _need(all(fr < s["length"] / 2 for s in steps), f"shaft: shoulder fillet {fr} mm longer than a step")
    if "keyway" in feats:
        k = feats["keyway"]
        i = k["step"]
        _need(0 <= i < len(steps), f"shaft: keyway on step {i} of {len(steps)}")
        x0, x1, r = spans[i]
        _need(k["length"] > k["width"], "shaft: a keyway must be longer than it is wide")
        _need(k["width"] <= r and k["depth"] <= r / 2, "shaft: the keyway is too wide or too deep")
        a = WALL + (c if i == 0 else fr)
        b = WALL + (c if i == len(steps) - 1 else fr)
        _need(k["length"] <= (x1 - x0) - a - b, "shaft: the keyway is longer than its step")


def _housing(spec: dict) -> None:
    p, feats = spec["params"], named(spec)
    w, d, h, wall, floor = p["width"], p["depth"], p["height"], p["wall"], p["floor"]
    _need(2 * wall <= min(w, d) - 4, f"housing: {wall} mm walls leave no pocket")
    _need(floor <= h - 2, f"housing: a {floor} mm floor leaves no pocket")
    r = _radius(feats, "outer_fillet")
    _need(r <= wall, f"housing: outer fillet {r} mm is thicker than the {wall} mm wall")
    rp = _radius(feats, "pocket_fillet")
    _need(rp < min(w, d) / 2 - wall - 0.5, f"housing: pocket fillet {rp} mm does not fit the pocket")
    pocket: Rect = (-w / 2 + wall, -d / 2 + wall, w / 2 - wall, d / 2 - wall)
    if "rim_holes" in feats:
        f = feats["rim_holes"]
        _need(f.get("through", True) or f["depth"] <= h - 1, "housing: rim holes deeper than the housing")
        for name, circle in _hole_circles(spec, "rim_holes"):
            _need(
                _inside(circle, (0.0, 0.0), (w / 2, d / 2), r, WALL), f"housing: {name} breaks the outer wall"
            )
            _need(_gap(circle, pocket) >= WALL, f"housing: {name} breaks into the pocket")
    if "base_flange" in feats:
        fl = feats["base_flange"]
        _need(fl["thickness"] <= h - 1, "housing: the base flange is taller than the housing")
        body: Rect = (-w / 2, -d / 2, w / 2, d / 2)
        if "flange_holes" in feats:
            half = (w / 2 + fl["overhang"], d / 2 + fl["overhang"])
            for name, circle in _hole_circles(spec, "flange_holes"):
                _need(_inside(circle, (0.0, 0.0), half, 0.0, WALL), f"housing: {name} runs off the flange")
                _need(_gap(circle, body) >= WALL, f"housing: {name} breaks into the body")
