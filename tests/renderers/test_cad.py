"""CAD parts and drawings: specs build into single valid solids whose B-rep facts match the spec,
STEP round trips, exact view extents, hidden lines where they belong, sheet layout rules and
byte determinism."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from build123d import export_step, import_step

from renderers.cad import (
    KINDS,
    VIEWS,
    PartError,
    add_feature,
    bounds,
    build,
    centre_marks,
    expected_facts,
    facts,
    project,
    sample_spec,
)
from renderers.cad.drawing import ORTHO, chain, sheet_layout, single_layout, svg, view_elements
from renderers.cad.part import views_of_shape
from renderers.svg.safe import SvgRenderer

SEEDS = range(10)


@pytest.fixture(scope="module")
def parts():
    """(kind, seed) -> (spec, part) for every kind and seed, built once."""
    out = {}
    for kind in KINDS:
        for seed in SEEDS:
            spec = sample_spec(np.random.default_rng(seed), kind)
            out[kind, seed] = spec, build(spec)
    return out


def plate_spec(holes: bool = True) -> dict:
    """An 80 x 50 x 10 plate with a 2 x 2 grid of 6 mm through holes, 60 x 30 mm apart."""
    features = []
    if holes:
        features.append(
            {
                "name": "holes",
                "type": "hole",
                "diameter": 6.0,
                "count": 4,
                "through": True,
                "depth": None,
                "pattern": "grid",
                "cols": 2,
                "rows": 2,
                "pitch": [60.0, 30.0],
            }
        )
    return {
        "kind": "plate",
        "params": {"width": 80.0, "depth": 50.0, "thickness": 10.0},
        "features": features,
    }


def spec_holes(spec: dict) -> list[dict]:
    """Hole diameters and counts straight from the spec's features (independent of layout.py)."""
    counts: Counter = Counter()
    for f in spec["features"]:
        if f["type"] == "hole":
            counts[f["diameter"]] += f["count"]
    return [{"diameter": d, "count": n} for d, n in sorted(counts.items())]


def views_of(part) -> tuple[dict, dict]:
    views = {v: project(part, v, smooth=v == "iso") for v in VIEWS}
    return views, {v: centre_marks(part, v) for v in VIEWS}


def digest(strokes) -> str:
    h = hashlib.sha256()
    for s in strokes:
        h.update(f"{s.visible}{s.kind}".encode())
        h.update(np.ascontiguousarray(s.points, dtype=np.float64).tobytes())
    return h.hexdigest()


# -- parts ---------------------------------------------------------------------------------------


def test_every_kind_builds_one_valid_solid(parts):
    for (kind, seed), (spec, part) in parts.items():
        assert len(part.solids()) == 1, (kind, seed)
        assert part.is_valid and part.volume > 0, (kind, seed)
        json.loads(json.dumps(spec))  # specs are plain JSON
        assert sample_spec(np.random.default_rng(seed), kind) == spec  # seeded: same spec again
    optional = Counter(f["name"] for spec, _ in parts.values() for f in spec["features"])
    for name in ("counterbore", "slot", "pocket", "rib", "hub", "keyway", "rim_holes", "flange_holes"):
        assert optional[name] > 0, f"no sample has {name}"


@pytest.mark.parametrize("kind", ["plate", "flange"])
def test_facts_holes_equal_spec(parts, kind):
    for seed in SEEDS:
        spec, part = parts[kind, seed]
        got = facts(part, spec)
        assert got["holes"] == spec_holes(spec) != [], (kind, seed)
        cb = next((f for f in spec["features"] if f["name"] == "counterbore"), None)
        holes = next((f for f in spec["features"] if f["name"] == "holes"), None)
        want_cb = [{"diameter": cb["diameter"], "depth": cb["depth"], "count": holes["count"]}] if cb else []
        assert got["counterbores"] == want_cb, (kind, seed)


def test_facts_match_expected_for_every_kind(parts):
    for (kind, seed), (spec, part) in parts.items():
        got, want = facts(part, spec), expected_facts(spec)
        assert {k: got[k] for k in want} == want, (kind, seed)
    spec, part = parts["housing", 1]
    assert facts(part, spec)["blind_holes"], "housing seed 1 has blind rim holes"


def test_edits_rebuild_and_show_in_facts():
    spec = plate_spec()
    bigger = copy.deepcopy(spec)
    bigger["features"][0]["diameter"] = 8.0
    assert facts(build(bigger), bigger)["holes"] == [{"diameter": 8.0, "count": 4}]
    assert facts(build(plate_spec(holes=False)), None)["holes"] == []
    with_cb = add_feature(np.random.default_rng(0), spec, "counterbore")
    assert with_cb is not None and facts(build(with_cb), with_cb)["counterbores"][0]["count"] == 4
    assert add_feature(np.random.default_rng(0), with_cb, "counterbore") is None  # already there


def _huge_fillet(spec: dict) -> None:
    spec["features"].insert(0, {"name": "corner_fillet", "type": "fillet", "radius": 30.0})


def _huge_holes(spec: dict) -> None:
    spec["features"][0]["diameter"] = 40.0


def _orphan_counterbore(spec: dict) -> None:
    spec["features"] = [{"name": "counterbore", "type": "counterbore", "diameter": 10.0, "depth": 3.0}]


def _deep_counterbore(spec: dict) -> None:
    spec["features"].append({"name": "counterbore", "type": "counterbore", "diameter": 10.0, "depth": 10.0})


@pytest.mark.parametrize(
    "edit, reason",
    [
        (_huge_fillet, "corner fillet"),
        (_huge_holes, "holes"),
        (_orphan_counterbore, "needs holes"),
        (_deep_counterbore, "counterbore depth"),
        (lambda s: s.update(kind="gear"), "unknown part kind"),
        (lambda s: s["features"][0].pop("diameter"), "malformed spec"),
    ],
)
def test_infeasible_specs_raise_part_error(edit, reason):
    spec = plate_spec()
    edit(spec)
    with pytest.raises(PartError, match=reason):
        build(spec)


def test_housing_fillet_thicker_than_wall_is_refused(parts):
    spec = copy.deepcopy(parts["housing", 0][0])
    spec["features"] = [f for f in spec["features"] if f["name"] != "outer_fillet"]
    spec["features"].insert(
        0, {"name": "outer_fillet", "type": "fillet", "radius": spec["params"]["wall"] + 1}
    )
    with pytest.raises(PartError, match="wall"):
        build(spec)
    assert isinstance(PartError("x"), ValueError)


def test_step_round_trip(parts, tmp_path: Path):
    for kind in KINDS:
        spec, part = parts[kind, 1]
        path = tmp_path / f"{kind}.step"
        export_step(part, str(path), timestamp="2000-01-01T00:00:00")
        back = import_step(str(path))
        assert back.volume == pytest.approx(part.volume, rel=1e-9), kind
        assert len(back.faces()) == len(part.faces()), kind
        assert facts(back)["holes"] == facts(part)["holes"], kind


# -- views ---------------------------------------------------------------------------------------


def test_view_bounds_equal_the_projected_bounding_box(parts):
    for kind in KINDS:
        for seed in range(4):
            _, part = parts[kind, seed]
            bb = part.bounding_box()
            size = max(bb.size.X, bb.size.Y, bb.size.Z)
            want = {
                "front": (bb.min.X, bb.min.Z, bb.max.X, bb.max.Z),
                "top": (bb.min.X, bb.min.Y, bb.max.X, bb.max.Y),
                "right": (bb.min.Y, bb.min.Z, bb.max.Y, bb.max.Z),
            }
            for view, box in want.items():
                got = bounds(project(part, view))
                assert np.allclose(got, box, rtol=0, atol=1e-6 * size), (kind, seed, view, got, box)


def test_through_holes_hidden_from_the_front_visible_from_the_top():
    part = build(plate_spec())
    front, top = project(part, "front"), project(part, "top")
    hidden_x = sorted({round(float(x), 6) for s in front if not s.visible for x in s.points[:, 0]})
    assert hidden_x == [-33.0, -27.0, 27.0, 33.0]  # hole walls at x = +-30 -+ 3
    assert len([s for s in front if not s.visible]) == 4  # the holes behind them add no repeats
    assert not [s for s in top if not s.visible]
    circles = [s for s in top if s.visible and s.kind == "sharp" and len(s.points) > 2]
    assert len(circles) == 4 and all(np.ptp(s.points[:, 0]) == pytest.approx(6.0, abs=1e-9) for s in circles)
    assert not [s for s in project(build(plate_spec(holes=False)), "front") if not s.visible]


def test_centre_marks_cross_holes_seen_end_on():
    part = build(plate_spec())
    top = centre_marks(part, "top")
    assert len(top) == 8  # a cross (two segments) per hole
    centres = sorted({tuple(np.round((a + b) / 2, 6)) for a, b in top})
    assert centres == [(-30.0, -15.0), (-30.0, 15.0), (30.0, -15.0), (30.0, 15.0)]
    front = centre_marks(part, "front")
    assert all(a[0] == b[0] and abs(a[1] - b[1]) > 10.0 for a, b in front)  # vertical, past the plate
    assert centre_marks(part, "iso") == []


def test_chained_strokes_run_round_corners():
    corner = [np.array([[0.0, 0.0], [7.0, 0.0]]), np.array([[7.0, 20.0], [7.0, 0.0]])]
    lines = chain(corner)
    assert len(lines) == 1 and lines[0].tolist() == [[0.0, 0.0], [7.0, 0.0], [7.0, 20.0]]
    twin = [np.array([[0.0, 0.0], [7.0, 0.0]]), np.array([[7.0, 0.0], [0.0, 0.0]])]
    assert len(chain(twin)) == 2  # a line never folds back over its twin


# -- sheets --------------------------------------------------------------------------------------

SIZE = (1024, 768)


def render(pv, places, omit=None, title=True) -> np.ndarray:
    elements = [e for v, p in places.items() if v != omit for e in view_elements(pv, v, p, 1.0, title)]
    return SvgRenderer().rgb(svg(elements, SIZE), *SIZE)


def _box(place) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = place.box
    return int(x0) - 3, int(y0) - 3, int(np.ceil(x1)) + 3, int(np.ceil(y1)) + 3


def _ink(img: np.ndarray, box) -> tuple[int, int, int, int]:
    """(first col, first row, last col, last row) of dark pixels inside a box."""
    x0, y0, x1, y1 = box
    ys, xs = np.nonzero(img[y0:y1, x0:x1].min(axis=2) < 128)
    return x0 + xs.min(), y0 + ys.min(), x0 + xs.max(), y0 + ys.max()


def test_sheet_layout_omit_and_angles(parts):
    spec, part = parts["plate", 1]
    pv = views_of_shape(part, spec)
    places = sheet_layout([pv], "third", SIZE)
    full = render(pv, places)
    h, w, _ = full.shape
    names = list(places)
    assert sorted(names) == ["front", "iso", "right", "top"]
    boxes = {v: _box(p) for v, p in places.items()}
    for i, a in enumerate(names):
        ax0, ay0, ax1, ay1 = boxes[a]
        assert 0 <= ax0 < ax1 <= w and 0 <= ay0 < ay1 <= h, a
        for b in names[i + 1 :]:
            bx0, by0, bx1, by1 = boxes[b]
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)
    for view in names:
        part_sheet = render(pv, places, omit=view)
        x0, y0, x1, y1 = boxes[view]
        outside = np.ones((h, w), dtype=bool)
        outside[y0 : y1 + 40, max(0, x0 - 60) : x1 + 60] = False  # the view and its title below it
        assert np.array_equal(part_sheet[outside], full[outside]), view
        assert (part_sheet[y0:y1, x0:x1] == 255).all() and (full[y0:y1, x0:x1] < 128).any(), view
    f, t, r = (boxes[v] for v in ORTHO)
    assert t[3] <= f[1] and r[0] >= f[2]  # third angle: top above, right view to the right
    assert _ink(full, f)[0] == _ink(full, t)[0] and _ink(full, f)[2] == _ink(full, t)[2]  # share x
    assert _ink(full, f)[1] == _ink(full, r)[1] and _ink(full, f)[3] == _ink(full, r)[3]  # share z
    first = sheet_layout([pv], "first", SIZE)
    f, t, r = (_box(first[v]) for v in ORTHO)
    assert t[1] >= f[3] and r[2] <= f[0]  # first angle: top below, right view to the left
    [iso] = single_layout([pv], "iso", SIZE, title=False).values()
    assert 0 <= iso.box[0] < iso.box[2] <= SIZE[0] and 0 <= iso.box[1] < iso.box[3] <= SIZE[1]


def test_sheet_scale_is_common_to_the_orthographic_views():
    pv = views_of_shape(build(plate_spec(holes=False)))  # an 80 x 50 x 10 box: each view a rectangle
    places = sheet_layout([pv], "third", SIZE, with_iso=False)
    assert "iso" not in places
    img = render(pv, places)
    f, t, r = (_ink(img, _box(places[v])) for v in ORTHO)
    width, depth, height = f[2] - f[0], t[3] - t[1], f[3] - f[1]
    same = np.subtract((t[2] - t[0], r[2] - r[0], r[3] - r[1]), (width, depth, height))
    assert np.abs(same).max() <= 1
    assert width / 80 == pytest.approx(depth / 50, abs=0.05) == pytest.approx(height / 10, abs=0.2)


# -- determinism ---------------------------------------------------------------------------------

DETERMINISM = """
import hashlib, sys, numpy as np
from renderers.cad import build, sample_spec
from renderers.cad.drawing import sheet_layout, svg, view_elements
from renderers.cad.part import views_of_shape
pv = views_of_shape(build(sample_spec(np.random.default_rng(3), "flange")))
places = sheet_layout([pv], "third", (1024, 768))
doc = svg([e for v, p in places.items() for e in view_elements(pv, v, p, 1.0, True)], (1024, 768))
sys.stdout.write(hashlib.sha256(doc.encode()).hexdigest())
"""


def test_determinism_in_process_and_across_processes():
    runs = []
    for _ in range(2):
        pv = views_of_shape(build(sample_spec(np.random.default_rng(3), "flange")))
        places = sheet_layout([pv], "third", SIZE)
        doc = svg([e for v, p in places.items() for e in view_elements(pv, v, p, 1.0, True)], SIZE)
        runs.append(({v: digest(s) for v, s in pv.strokes.items()}, hashlib.sha256(doc.encode()).hexdigest()))
    assert runs[0] == runs[1]
    root = Path(__file__).resolve().parents[2]
    child = subprocess.run(
        [sys.executable, "-c", DETERMINISM],
        cwd=root,
        env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert child.stdout == runs[0][1]
