"""Feature edits on a part spec: propose one that builds, replay it, and check a built pair.

An edit is plain data naming the feature and its values (what the instruction says), so it can be
replayed on the spec and checked on the solids. ``check`` reads only the two parts' B-rep facts
and the edit's numbers: an added or removed hole feature moves the hole tally by its count, a
resized hole moves its diameter in the tally, a thicker body moves the bounding box by the
difference, a bigger fillet moves the volume the way the fillet's side of the edge says.
"""

from __future__ import annotations

import copy
import math
from collections import Counter

import numpy as np

from renderers.cad.checks import DEPENDS, FEATURES, PartError
from renderers.cad.checks import check as check_spec
from renderers.cad.layout import named
from renderers.cad.sampling import OPTIONAL, add_feature
from synth.sampling import NotApplicable

FEATURE_OPS = ("add_feature", "remove_feature", "resize_feature", "change_dimension")

# feature type -> the fields a resize may change (all in mm)
SIZE_FIELDS: dict[str, tuple[str, ...]] = {
    "hole": ("diameter",),
    "fillet": ("radius",),
    "chamfer": ("length",),
    "counterbore": ("diameter", "depth"),
    "slot": ("width", "length"),
    "pocket": ("depth",),
    "rib": ("thickness",),
    "hub": ("diameter", "height"),
    "keyway": ("width", "length"),
    "flange": ("overhang", "thickness"),
}
# kind -> the body parameters change_dimension may set (a shaft's are per step)
BODY_FIELDS: dict[str, tuple[str, ...]] = {
    "plate": ("thickness",),
    "bracket": ("height",),
    "flange": ("thickness",),
    "housing": ("height",),
    "shaft": ("length", "diameter"),
}
# what the drawn parts plausibly span: change_dimension stays inside (lo, hi) mm
BODY_RANGE: dict[tuple[str, str], tuple[float, float]] = {
    ("plate", "thickness"): (3.0, 25.0),
    ("bracket", "height"): (20.0, 150.0),
    ("flange", "thickness"): (4.0, 30.0),
    ("housing", "height"): (15.0, 120.0),
    ("shaft", "length"): (8.0, 100.0),
    ("shaft", "diameter"): (6.0, 70.0),
}
ADDS_MATERIAL = frozenset({"rib", "hub", "flange"})  # feature types that are solid, not cut
CONCAVE_FILLETS = frozenset({"hub_fillet", "shoulder_fillet", "pocket_fillet"})  # fill an inner corner
MIN_STEP, MIN_SHARE = 1.0, 0.2  # a visible change: at least 1 mm and at least 20 %
GRID = 0.5
TOL_BBOX = 0.02  # mm; facts round the box to 0.01
WALL_SHOW = 0.5  # mm of keyway side wall a proposal keeps, so the keyway still reads as one


# -- proposals -----------------------------------------------------------------------------------


def _present(spec: dict) -> dict[str, dict]:
    return named(spec)


def removable(spec: dict) -> list[str]:
    """Optional features present that no other present feature needs."""
    feats = _present(spec)
    needed = {DEPENDS[n] for n in feats if n in DEPENDS}
    return [n for n in OPTIONAL[spec["kind"]] if n in feats and n not in needed]


def _values(rng: np.random.Generator, was: float, lo: float, hi: float) -> list[float]:
    """Candidate new values on the 0.5 mm grid inside [lo, hi], a visible step from was, shuffled."""
    step = max(MIN_STEP, MIN_SHARE * was)
    a, b = math.ceil(lo / GRID - 1e-9), math.floor(hi / GRID + 1e-9)
    out = [k * GRID for k in range(a, b + 1) if abs(k * GRID - was) >= step - 1e-9]
    return [out[i] for i in rng.permutation(len(out))]


def _walled(spec: dict) -> bool:
    """Does a keyway keep its side walls? checks.check allows one so wide for its depth that its
    floor meets the cylinder directly: a flat, not the keyway an instruction names."""
    k = named(spec).get("keyway")
    if k is None:
        return True
    r = spec["params"]["steps"][k["step"]]["diameter"] / 2
    return k["width"] / 2 <= math.sqrt(max(r * r - (r - k["depth"]) ** 2, 0.0)) - WALL_SHOW


def _fits(spec: dict, edit: dict) -> bool:
    try:
        return _walled(apply(spec, edit))
    except NotApplicable:
        return False


def _base(spec: dict, op: str) -> dict:
    return {"op": op, "kind": spec["kind"]}


def _only(names: list, feature: str | None, key=lambda n: n) -> list:
    return [n for n in names if feature is None or key(n) == feature]


def _propose_add(rng: np.random.Generator, spec: dict, feature: str | None) -> dict:
    feats = _present(spec)
    names = [
        n for n in OPTIONAL[spec["kind"]] if n not in feats and (n not in DEPENDS or DEPENDS[n] in feats)
    ]
    names = _only(names, feature)
    for i in rng.permutation(len(names)):
        name = names[int(i)]
        out = add_feature(rng, spec, name)
        if out is not None:
            f = named(out)[name]
            return {**_base(spec, "add_feature"), "feature": name, "type": f["type"], "value": f}
    raise NotApplicable(f"{spec['kind']}: no optional feature to add fits")


def _propose_remove(rng: np.random.Generator, spec: dict, feature: str | None) -> dict:
    names = _only(removable(spec), feature)
    if not names:
        raise NotApplicable(f"{spec['kind']}: no optional feature to remove")
    name = names[int(rng.integers(len(names)))]
    f = _present(spec)[name]
    return {**_base(spec, "remove_feature"), "feature": name, "type": f["type"], "was": copy.deepcopy(f)}


def _propose_resize(rng: np.random.Generator, spec: dict, feature: str | None) -> dict:
    pairs = [(n, k) for n, f in _present(spec).items() for k in SIZE_FIELDS.get(f["type"], ()) if f.get(k)]
    pairs = _only(pairs, feature, key=lambda nk: nk[0])
    for i in rng.permutation(len(pairs)):
        name, field = pairs[int(i)]
        f = _present(spec)[name]
        was = float(f[field])
        edit = {
            **_base(spec, "resize_feature"),
            "feature": name,
            "type": f["type"],
            "field": field,
            "was": was,
        }
        if f["type"] == "hole":
            edit["count"] = int(f["count"])
        for value in _values(rng, was, max(GRID, was / 2), max(2 * was, was + 3)):
            if _fits(spec, {**edit, "value": value}):
                return {**edit, "value": value}
    if not pairs:
        raise NotApplicable(f"{spec['kind']}: no {feature or 'feature'} to resize")
    raise NotApplicable(f"{spec['kind']}: no visible resize of {feature or 'any feature'} fits")


def _propose_dimension(rng: np.random.Generator, spec: dict, feature: str | None) -> dict:
    kind = spec["kind"]
    p = spec["params"]
    if kind == "shaft":
        slots = [(field, i) for i in range(len(p["steps"])) for field in BODY_FIELDS[kind]]
    else:
        slots = [(field, None) for field in BODY_FIELDS[kind]]
    for j in rng.permutation(len(slots)):
        field, step = slots[int(j)]
        was = float(p["steps"][step][field] if step is not None else p[field])
        lo, hi = BODY_RANGE[(kind, field)]
        edit = {**_base(spec, "change_dimension"), "field": field, "was": was}
        if step is not None:
            edit["step"] = step
        for value in _values(rng, was, max(lo, was / 2), min(hi, 2 * was)):
            if _fits(spec, {**edit, "value": value}):
                return {**edit, "value": value}
    raise NotApplicable(f"{kind}: no body dimension can change visibly")


PROPOSERS = {
    "add_feature": _propose_add,
    "remove_feature": _propose_remove,
    "resize_feature": _propose_resize,
    "change_dimension": _propose_dimension,
}


def propose(rng: np.random.Generator, op: str, spec: dict, feature: str | None = None) -> dict:
    """An edit of this op that the spec takes (checks.check passes on the result), or
    NotApplicable saying why none does. ``feature`` limits a feature op to that feature (tests
    reach every feature this way); change_dimension ignores it."""
    if op not in PROPOSERS:
        raise NotApplicable(f"unknown feature edit {op!r}")
    return PROPOSERS[op](rng, spec, feature)


# -- replay --------------------------------------------------------------------------------------


def _ordered(kind: str, features: list[dict]) -> list[dict]:
    order = list(FEATURES[kind])
    return sorted(features, key=lambda f: order.index(f["name"]))


def apply(spec: dict, edit: dict) -> dict:
    """A new spec with the edit made; NotApplicable when the spec cannot take it."""
    out = copy.deepcopy(spec)
    feats = named(out)
    op = edit["op"]
    kind = out["kind"]
    if op == "add_feature":
        if edit["feature"] in feats:
            raise NotApplicable(f"{kind} already has {edit['feature']}")
        out["features"] = _ordered(kind, [*out["features"], copy.deepcopy(edit["value"])])
    elif op == "remove_feature":
        if edit["feature"] not in feats:
            raise NotApplicable(f"{kind} has no {edit['feature']} to remove")
        out["features"] = [f for f in out["features"] if f["name"] != edit["feature"]]
    elif op == "resize_feature":
        if edit["feature"] not in feats:
            raise NotApplicable(f"{kind} has no {edit['feature']} to resize")
        feats[edit["feature"]][edit["field"]] = edit["value"]
    elif op == "change_dimension":
        p = out["params"]
        if "step" in edit:
            if not 0 <= edit["step"] < len(p["steps"]):
                raise NotApplicable(f"shaft has no step {edit['step']}")
            p["steps"][edit["step"]][edit["field"]] = edit["value"]
        else:
            p[edit["field"]] = edit["value"]
    else:
        raise NotApplicable(f"unknown feature edit {op!r}")
    try:
        check_spec(out)
    except (PartError, KeyError, TypeError, ValueError) as err:
        raise NotApplicable(f"{op} {edit.get('feature') or edit.get('field')}: {err}") from err
    return out


# -- the independent check on built solids -------------------------------------------------------


def _holes(facts: dict) -> Counter:
    return Counter({round(h["diameter"], 3): h["count"] for h in facts.get("holes") or []})


def _pairs(facts: dict, key: str) -> Counter:
    return Counter(
        {(round(h["diameter"], 3), round(h["depth"], 3)): h["count"] for h in facts.get(key) or []}
    )


def _delta(a: Counter, b: Counter) -> dict:
    """b - a, zero entries dropped."""
    return {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b) if b.get(k, 0) != a.get(k, 0)}


def _bbox_shift(src: dict, tgt: dict) -> list[float]:
    return [float(t) - float(s) for s, t in zip(src["bbox_size"], tgt["bbox_size"], strict=True)]


def _bbox_is(src: dict, tgt: dict, want: tuple[float, float, float]) -> str | None:
    got = _bbox_shift(src, tgt)
    if any(abs(g - w) > TOL_BBOX for g, w in zip(got, want, strict=True)):
        return f"bounding box moved by {[round(g, 3) for g in got]}, expected {list(want)}"
    return None


def _volume_moves(src: dict, tgt: dict, sign: int, what: str) -> str | None:
    """Does the volume move strictly in the direction sign (+1 up, -1 down)?"""
    dv = float(tgt["volume"]) - float(src["volume"])
    tol = 1e-6 * max(abs(float(src["volume"])), 1.0) + 1e-3
    if dv * sign <= tol:
        return f"volume {src['volume']} -> {tgt['volume']} does not {'grow' if sign > 0 else 'shrink'} as {what} says"
    return None


def _material(name: str, ftype: str) -> int:
    """+1 when more of the feature means more material (a rib, a fillet in an inner corner)."""
    return 1 if ftype in ADDS_MATERIAL or name in CONCAVE_FILLETS else -1


def _first(*reasons: str | None) -> str | None:
    return next((r for r in reasons if r), None)


def _hole_moves(src: dict, tgt: dict, want: dict, what: str) -> str | None:
    got = _delta(_holes(src), _holes(tgt))
    want = {round(k, 3): v for k, v in want.items() if v}
    if got != want:
        return f"hole tally changed by {got}, {what} needs {want}"
    return None


def _check_presence(src: dict, tgt: dict, edit: dict) -> str | None:
    add = edit["op"] == "add_feature"
    f = edit["value"] if add else edit["was"]
    sign = 1 if add else -1
    name, ftype = edit["feature"], f["type"]
    what = f"{'adding' if add else 'removing'} {name}"
    faces = (int(tgt["faces"]) - int(src["faces"])) * sign
    if faces <= 0:
        return f"face count {src['faces']} -> {tgt['faces']} does not show {what}"
    holes = {float(f["diameter"]): sign * int(f["count"])} if ftype == "hole" else {}
    shift = (0.0, 0.0, 0.0)
    if ftype == "flange":
        shift = (2 * sign * f["overhang"], 2 * sign * f["overhang"], 0.0)
    elif ftype == "hub":
        shift = (0.0, 0.0, sign * f["height"])
    reason = _first(
        _hole_moves(src, tgt, holes, what),
        _bbox_is(src, tgt, shift),
        _volume_moves(src, tgt, sign * _material(name, ftype), what),
    )
    if reason:
        return reason
    if ftype == "hole" and not f.get("through", True):
        got = _delta(_pairs(src, "blind_holes"), _pairs(tgt, "blind_holes"))
        want = {(round(f["diameter"], 3), round(f["depth"], 3)): sign * int(f["count"])}
        if got != want:
            return f"blind holes changed by {got}, {what} needs {want}"
    if ftype == "counterbore":
        got = _delta(_pairs(src, "counterbores"), _pairs(tgt, "counterbores"))
        key = (round(f["diameter"], 3), round(f["depth"], 3))
        if set(got) != {key} or got[key] * sign <= 0:
            return f"counterbores changed by {got}, {what} needs some of {key}"
    return None


def _check_resize(src: dict, tgt: dict, edit: dict) -> str | None:
    name, ftype, field = edit["feature"], edit["type"], edit["field"]
    was, value = float(edit["was"]), float(edit["value"])
    up = 1 if value > was else -1
    what = f"resizing {name} {field} {was} -> {value}"
    if int(tgt["faces"]) != int(src["faces"]):
        return f"face count {src['faces']} -> {tgt['faces']} changed, {what} keeps it"
    holes = {was: -int(edit.get("count", 0)), value: int(edit.get("count", 0))} if ftype == "hole" else {}
    shift = (0.0, 0.0, 0.0)
    if ftype == "hub" and field == "height":
        shift = (0.0, 0.0, value - was)
    elif ftype == "flange" and field == "overhang":
        shift = (2 * (value - was), 2 * (value - was), 0.0)
    reason = _first(
        _hole_moves(src, tgt, holes, what),
        _bbox_is(src, tgt, shift),
        _volume_moves(src, tgt, up * _material(name, ftype), what),
    )
    if reason or ftype != "counterbore":
        return reason
    before, after = _pairs(src, "counterbores"), _pairs(tgt, "counterbores")
    i = 0 if field == "diameter" else 1
    moved = Counter()
    for key, n in before.items():
        if abs(key[i] - was) < 1e-3:
            new = (value, key[1]) if i == 0 else (key[0], value)
            moved[(round(new[0], 3), round(new[1], 3))] += n
        else:
            moved[key] += n
    if not before or moved != after:
        return f"counterbores {dict(before)} -> {dict(after)}, {what} needs {dict(moved)}"
    return None


def _check_dimension(src: dict, tgt: dict, edit: dict) -> str | None:
    field, kind = edit["field"], edit["kind"]
    was, value = float(edit["was"]), float(edit["value"])
    d = value - was
    what = f"changing {field} {was} -> {value}"
    reason = _first(
        _hole_moves(src, tgt, {}, what),
        _volume_moves(src, tgt, 1 if d > 0 else -1, what),
    )
    if reason:
        return reason
    if kind != "shaft":
        return _bbox_is(src, tgt, (0.0, 0.0, d))
    if field == "length":
        return _bbox_is(src, tgt, (d, 0.0, 0.0))
    # a step's diameter: the length stays, the shaft's girth is the largest step's
    (sx, sy, _), (tx, ty, tz) = src["bbox_size"], tgt["bbox_size"]
    if abs(tx - sx) > TOL_BBOX or abs(ty - tz) > TOL_BBOX:
        return f"shaft box {src['bbox_size']} -> {tgt['bbox_size']} is not a round shaft of the same length"
    if value >= sy - TOL_BBOX and abs(ty - value) > TOL_BBOX:
        return f"the shaft's girth is {ty} mm, the widest step is now {value} mm"
    if value < sy - TOL_BBOX and was < sy - TOL_BBOX and abs(ty - sy) > TOL_BBOX:
        return f"the shaft's girth moved {sy} -> {ty} mm though the widest step stayed"
    if value < sy - TOL_BBOX and not value - TOL_BBOX <= ty <= sy + TOL_BBOX:
        return f"the shaft's girth {ty} mm is outside [{value}, {sy}] mm"
    return None


def check(source_facts: dict, target_facts: dict, edit: dict) -> str | None:
    """Does the pair of solids show the edit? Reads only the facts and the edit's numbers; a short
    reason when not, else None."""
    if target_facts.get("valid") is False or target_facts.get("solids") not in (None, 1):
        return "the edited part is not one valid solid"
    if source_facts.get("faces") is None or target_facts.get("faces") is None:
        return "feature edits need B-rep facts (a mesh has no faces to count)"
    op = edit["op"]
    if op in ("add_feature", "remove_feature"):
        return _check_presence(source_facts, target_facts, edit)
    if op == "resize_feature":
        return _check_resize(source_facts, target_facts, edit)
    if op == "change_dimension":
        return _check_dimension(source_facts, target_facts, edit)
    return f"no check for edit {op!r}"
