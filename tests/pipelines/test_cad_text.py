"""``synth cad`` texts, feature edits and questions: every feature op reaches every feature of every
kind and its built pair passes the independent check (and the same or a swapped pair fails it),
every feature has its words in both languages, captions are deterministic, answers equal what the
spec and the solid say."""

from __future__ import annotations

import copy
import json
import re
from functools import cache

import numpy as np
import pytest

from pipelines.cad import edits, questions, text
from renderers.cad import DEPENDS, FEATURES, KINDS, OPTIONAL, build, check, expected_facts, facts, sample_spec
from synth.sampling import NotApplicable

SEEDS = range(40)  # specs searched (cheap) for one that has, or lacks, a feature
CJK = re.compile(r"[\u4e00-\u9fff]")
TRAILING_ZERO = re.compile(r"\d\.0(?!\d)")


@cache
def _spec(kind: str, seed: int) -> dict:
    return sample_spec(np.random.default_rng(seed), kind)


@cache
def _facts_json(spec_json: str) -> dict:
    spec = json.loads(spec_json)
    return facts(build(spec), spec)


def facts_of(spec: dict) -> dict:
    return _facts_json(json.dumps(spec, sort_keys=True))


def _first_edit(kind: str, op: str, feature: str | None) -> tuple[dict, dict]:
    """(spec, edit) from the first seed whose spec takes this op on this feature."""
    for seed in SEEDS:
        spec = _spec(kind, seed)
        try:
            return spec, edits.propose(np.random.default_rng(1000 + seed), op, spec, feature)
        except NotApplicable:
            continue
    raise AssertionError(f"no spec of {kind} in {len(SEEDS)} seeds takes {op} on {feature}")


def _cases() -> list[tuple[str, str, str | None]]:
    out = []
    for kind in KINDS:
        for name in OPTIONAL[kind]:
            out += [(kind, "add_feature", name), (kind, "remove_feature", name)]
        out += [(kind, "resize_feature", name) for name in FEATURES[kind]]
        out += [(kind, "change_dimension", f"{field}#{i}") for i, field in enumerate(edits.BODY_FIELDS[kind])]
    return out


def _assert_pair(spec: dict, edit: dict) -> None:
    target = edits.apply(spec, edit)
    check(target)  # the renderer's own feasibility test
    src, tgt = facts_of(spec), facts_of(target)
    assert edits.check(src, tgt, edit) is None, (edit, edits.check(src, tgt, edit))
    assert edits.check(src, src, edit) is not None, edit  # nothing changed: refused
    assert edits.check(tgt, src, edit) is not None, edit  # the pair swapped: refused


@pytest.mark.parametrize(("kind", "op", "feature"), _cases())
def test_every_feature_op_builds_and_checks(kind, op, feature):
    if op == "change_dimension":  # a shaft has two fields: find a seed whose draw hits this one
        field = feature.split("#")[0]
        for seed in SEEDS:
            spec = _spec(kind, seed)
            edit = edits.propose(np.random.default_rng(seed), op, spec)
            if edit["field"] == field:
                break
        else:
            raise AssertionError(f"{kind}: change_dimension never drew {field}")
    else:
        spec, edit = _first_edit(kind, op, feature)
    before = copy.deepcopy(spec)
    assert edit["op"] == op and edit["kind"] == kind
    if op != "change_dimension":
        assert edit["feature"] == feature
    _assert_pair(spec, edit)
    assert spec == before  # apply works on a copy
    words = text.instruct(edit)
    assert words.en and CJK.search(words.zh) and not TRAILING_ZERO.search(words.en + words.zh)


def test_proposals_respect_required_features_and_visible_steps():
    for kind in KINDS:
        for seed in range(15):
            spec = _spec(kind, seed)
            rng = np.random.default_rng(seed)
            for op in edits.FEATURE_OPS:
                try:
                    e = edits.propose(rng, op, spec)
                except NotApplicable:
                    continue
                if op == "remove_feature":
                    assert e["feature"] in OPTIONAL[kind]
                    names = {f["name"] for f in spec["features"]}
                    assert all(DEPENDS.get(n) != e["feature"] for n in names)
                if op in ("resize_feature", "change_dimension"):
                    step = abs(e["value"] - e["was"])
                    assert step >= max(1.0, 0.2 * e["was"]) - 1e-9 and (e["value"] * 2) % 1 == 0


def test_apply_refuses_what_checks_refuse():
    """apply raises NotApplicable (not PartError) for a spec the renderer would refuse, and check
    refuses mesh facts (no faces to count)."""
    spec = _spec("plate", 0)
    thin = {"op": "change_dimension", "kind": "plate", "field": "thickness", "value": 0.5, "was": 1.0}
    huge = {"op": "resize_feature", "kind": "plate", "feature": "holes", "field": "diameter", "value": 200.0}
    for edit in (thin, huge, {"op": "remove_feature", "kind": "plate", "feature": "keyway", "was": {}}):
        with pytest.raises(NotApplicable):
            edits.apply(spec, edit)
    assert edits.check({**facts_of(spec), "faces": None}, facts_of(spec), thin) is not None


def test_feature_and_kind_names_in_both_languages():
    names = {n for kind in KINDS for n in FEATURES[kind]}
    assert names <= set(text.FEATURE_NAMES)
    assert set(KINDS) == set(text.KIND_NAMES) == set(text.SHORT_NAMES)
    for words in [*text.FEATURE_NAMES.values(), *text.KIND_NAMES.values()]:
        assert words.en.strip() and CJK.search(words.zh)


def test_numbers_and_articles():
    assert [text.fmt(v) for v in (12.0, 6.5, -0.0, 0.25, 100)] == ["12", "6.5", "0", "0.25", "100"]
    assert [text.article(p) for p in ("8 mm", "11 x 4 mm", "18 mm", "1.5 mm", "80 mm", "L-bracket")] == [
        "an", "an", "an", "a", "an", "an",
    ]  # fmt: skip
    assert questions.about(24412.261) == "24400" and questions.about(3.14159) == "3.14"


def _structures(rng: np.random.Generator, spec: dict) -> list[dict]:
    base = {"part": spec, "angle": "third", "layout": "sheet", "view": None, "iso": False, "omit": None}
    out = []
    for style in ("line", "shaded"):
        for angle in ("third", "first"):
            for omit in (None, "front", "top", "right"):
                out.append(
                    {**base, "style": style, "angle": angle, "omit": omit, "iso": bool(rng.random() < 0.5)}
                )
            out.append({**base, "style": style, "angle": angle, "omit": "iso", "iso": True})
        for view in ("front", "top", "right", "iso"):
            out.append({**base, "style": style, "layout": "single", "view": view})
    return out


def test_texts_and_questions_for_many_seeds():
    rng = np.random.default_rng(0)
    seen_en = set()
    for kind in KINDS:
        for seed in range(6):
            spec = _spec(kind, seed)
            f = facts_of(spec)
            for s in _structures(rng, spec):
                d = text.describe(s, f)
                assert d.en and CJK.search(d.zh) and not TRAILING_ZERO.search(d.en + d.zh), d
                seen_en.add(d.en.split(",")[0])
                for _ in range(3):
                    q = questions.ask(rng, s, f)
                    assert q.text.en and CJK.search(q.text.zh) and q.answer
                if s["omit"] in ("front", "top", "right"):
                    edit = {"op": "complete_view", "view": s["omit"], "angle": s["angle"]}
                    words = text.instruct(edit, s)
                    assert s["omit"] in words.en and s["angle"] in words.en and CJK.search(words.zh)
                if s["omit"] == "iso":
                    words = text.instruct({"op": "complete_iso", "angle": s["angle"]}, s)
                    assert "isometric" in words.en and CJK.search(words.zh)
    assert len(seen_en) >= 4  # several phrasings


def test_describe_is_deterministic_and_states_the_part():
    spec = _spec("plate", 3)
    f = facts_of(spec)
    s = {
        "part": spec,
        "angle": "first",
        "layout": "sheet",
        "view": None,
        "iso": True,
        "omit": None,
        "style": "line",
    }
    shuffled = json.loads(json.dumps(dict(reversed(list(s.items())))))
    assert text.describe(s, f) == text.describe(shuffled, f) == text.describe(copy.deepcopy(s), f)
    d = text.describe(s, f)
    w, depth, h = (text.fmt(v) for v in f["bbox_size"])
    assert f"{w} x {depth} x {h} mm" in d.en and f"{w}×{depth}×{h} mm" in d.zh and "first-angle" in d.en
    holes = next(x for x in spec["features"] if x["name"] == "holes")
    assert f"{text.fmt(holes['diameter'])} mm through holes" in d.en


def test_file_part_is_described_from_facts_only():
    f = {
        "kind": None,
        "volume": 1.0,
        "faces": None,
        "edges": None,
        "bbox_size": [50.0, 20.0, 10.0],
        "holes": [],
    }
    s = {"part": {"file": "x.stl", "origin": "stl"}, "angle": "third", "layout": "single", "view": "iso",
         "iso": False, "omit": None, "style": "shaded"}  # fmt: skip
    d = text.describe(s, f)
    assert "100 x 40 x 20" in d.en and "faces" not in d.en and CJK.search(d.zh)
    assert questions.applicable(s, f) == ["view"]


def test_answers_equal_the_spec_and_the_solid():
    rng = np.random.default_rng(5)
    for kind in KINDS:
        for seed in range(4):
            spec = _spec(kind, seed)
            f = facts_of(spec)
            want = expected_facts(spec)
            sheet = {"part": spec, "angle": "third", "layout": "sheet", "view": None, "iso": True, "omit": None,
                     "style": "line"}  # fmt: skip
            total = sum(h["count"] for h in want["holes"])
            assert questions.ASKERS["holes"](rng, sheet, f).answer == str(total)
            if kind == "plate":  # its one hole feature, as the sampler drew it
                holes = next(x for x in spec["features"] if x["name"] == "holes")
                assert total == holes["count"] == holes["cols"] * holes["rows"]
            assert questions.ASKERS["faces"](rng, sheet, f).answer == str(f["faces"])
            if total:
                blind = sum(h["count"] for h in want["blind_holes"])
                assert (
                    questions.ASKERS["through_blind"](rng, sheet, f).answer
                    == f"{total - blind} through, {blind} blind"
                )
            if len(want["holes"]) > 1:  # asked by rank: the drawing shows sizes, not millimetres
                q = questions.ASKERS["holes_of_diameter"](rng, sheet, f)
                pick = want["holes"][-1] if "largest" in q.text.en else want["holes"][0]
                assert q.answer == str(pick["count"])
            size = questions.ASKERS["size"](rng, sheet, f).answer
            assert size == " x ".join(text.fmt(v) for v in f["bbox_size"]) + " mm"
            if kind == "plate":
                p = spec["params"]
                assert (
                    size == f"{text.fmt(p['width'])} x {text.fmt(p['depth'])} x {text.fmt(p['thickness'])} mm"
                )
            assert (
                questions.ASKERS["volume"](rng, sheet, f).answer
                == f"about {questions.about(f['volume'])} mm³"
            )
            for angle in ("third", "first"):
                for omit in (None, "front", "top"):
                    q = questions.ASKERS["projection"](rng, {**sheet, "angle": angle, "omit": omit}, f)
                    assert q.answer.startswith(f"{angle} angle")
            for view, name in questions.ANSWER_VIEW.items():
                single = {**sheet, "layout": "single", "view": view, "iso": False}
                assert questions.ASKERS["view"](rng, single, f).answer == name
                assert "view" in questions.applicable(single, f) and "projection" not in questions.applicable(
                    single, f
                )
            assert "view" not in questions.applicable(sheet, f)
