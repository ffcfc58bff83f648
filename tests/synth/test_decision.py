"""Decisions from stored scores: the stage in a unit and the re-decide pass over committed units give
the same shards; only rows the decision made are re-decided; untouched units are not rewritten."""

from __future__ import annotations

import json
from typing import Literal

import pytest

from synth.config import PipelineConfig, Strict
from synth.decision import Decide, Decision, _read, redecide, redecide_unit
from synth.pipeline import Pipeline, RunIdentity, plan_units
from synth.schema import meta_of
from synth.stage import Stage, mark, run_stages
from synth.writer import OutputDir, commit_unit, read_manifest, shard_name

HIGH = {1, 2, 3, 7}  # indices whose score is high; 3 also fails to draw


class ToyThresholds(Strict):
    max_v: float = 0.6


class ToyConfig(PipelineConfig):
    pipeline: Literal["toy"] = "toy"
    thresholds: ToyThresholds = ToyThresholds()


class Score(Stage):
    name = "score"
    reads = ("_index",)
    writes = ("scores", "meta")

    def process_row(self, row):
        i = row["_index"]
        row["scores"] = {"v": 0.9 if i in HIGH else 0.1}
        row["meta"] = {"worst": f"line {i}"}
        if i == 3:
            mark(row, "render_error", "cannot draw")
        return row


def toy_decide(scores, row, t):
    if scores["v"] > t.max_v:
        return "verify_failed", f"{meta_of(row)['worst']}: v {scores['v']:.2f} > {t.max_v}"
    return None


DECISION = Decision(toy_decide, frozenset({"verify_failed"}), reads=("meta",))
TOY = Pipeline(
    name="toy",
    domain="test",
    summary="",
    config_model=ToyConfig,
    build_stages=lambda cfg: [Score(), Decide(DECISION, cfg.thresholds)],
    decide=DECISION,
)
PLAN = plan_units([], 10, 5)  # unit 0: indices 0-4 (1, 2 high; 3 a render error), unit 1: 5-9 (7 high)


def commit_all(out: OutputDir, max_v: float) -> ToyConfig:
    """What a run writes with these thresholds, unit by unit."""
    cfg = ToyConfig(thresholds={"max_v": max_v})
    ident = RunIdentity("toy", cfg.content_hash(), cfg.seed, cfg.split)
    for unit in PLAN:
        rows = run_stages(TOY.stages(cfg), TOY.rows_for(cfg, ident, unit), 4)
        commit_unit(out, unit.index, rows, {"start": unit.start, "end": unit.end})
    return cfg


def shards(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_redecide_equals_a_run_with_the_new_thresholds(tmp_path):
    out = OutputDir(str(tmp_path / "out"))
    commit_all(out, 0.95)  # everything drawn is kept
    before = shards(tmp_path / "out")
    strict = ToyConfig(thresholds={"max_v": 0.5})
    failures, stats = redecide(TOY, strict, out, PLAN, progress=False)
    assert not failures
    assert stats == {"units_checked": 2, "units_rewritten": 2, "rows_changed": 3}
    fresh = OutputDir(str(tmp_path / "fresh"))
    commit_all(fresh, 0.5)
    assert shards(tmp_path / "out") == shards(tmp_path / "fresh")  # same rows, order and bytes
    rejected = read_manifest(out, 0)["reasons"]
    assert rejected == {"render_error": 1, "verify_failed": 2}

    failures, stats = redecide(TOY, ToyConfig(thresholds={"max_v": 0.95}), out, PLAN, progress=False)
    assert not failures and stats["rows_changed"] == 3
    assert shards(tmp_path / "out") == before  # loosened again: the original bytes


def test_rows_rejected_for_other_reasons_are_never_revived(tmp_path):
    out = OutputDir(str(tmp_path / "out"))
    commit_all(out, 0.5)
    redecide(TOY, ToyConfig(thresholds={"max_v": 1.0}), out, PLAN, progress=False)
    rows = _read(out, f"rejected/{shard_name(0)}.parquet")
    assert [(r["reason"], r["detail"]) for r in rows] == [("render_error", "cannot draw")]
    assert DECISION.applies_to({"status": "kept"})
    assert DECISION.applies_to({"status": "rejected", "reason": "verify_failed"})
    assert not DECISION.applies_to({"status": "rejected", "reason": "render_error"})
    assert not DECISION.applies_to({"status": "error", "reason": "ocr_error"})


def test_an_unchanged_unit_is_not_rewritten(tmp_path):
    out = OutputDir(str(tmp_path / "out"))
    commit_all(out, 0.95)
    unit1 = [tmp_path / "out" / f / f"{shard_name(1)}.{ext}" for f, ext in
             (("data", "parquet"), ("rejected", "parquet"), ("_units", "json"))]  # fmt: skip
    stamps = [(p.stat().st_mtime_ns, p.read_bytes()) for p in unit1]
    # 0.8 would reject rows 1, 2 (unit 0) and 7 (unit 1): only unit 0 is asked
    redecide(TOY, ToyConfig(thresholds={"max_v": 0.8}), out, PLAN[:1], progress=False)
    assert [(p.stat().st_mtime_ns, p.read_bytes()) for p in unit1] == stamps  # not asked: untouched
    assert redecide_unit(TOY, ToyConfig(thresholds={"max_v": 0.95}), out, PLAN[1]) == 0
    assert [(p.stat().st_mtime_ns, p.read_bytes()) for p in unit1] == stamps  # nothing changed
    assert redecide_unit(TOY, ToyConfig(thresholds={"max_v": 0.8}), out, PLAN[0]) == 0  # already so
    assert redecide_unit(TOY, ToyConfig(thresholds={"max_v": 0.85}), out, PLAN[0]) == 2  # new details
    manifest = json.loads((tmp_path / "out" / "_units" / f"{shard_name(0)}.json").read_text())
    assert manifest["start"] == 0 and manifest["end"] == 5  # what the unit recorded is carried over


def test_a_row_without_what_the_decision_reads_fails_its_unit_clearly(tmp_path):
    out = OutputDir(str(tmp_path / "out"))
    cfg = ToyConfig()
    ident = RunIdentity("toy", cfg.content_hash(), cfg.seed, cfg.split)
    rows = run_stages([Score()], TOY.rows_for(cfg, ident, PLAN[0]), 4)
    for row in rows:
        row["meta"] = {}  # as an output written before the decision stored it
    commit_unit(out, 0, rows, {})
    failures, _ = redecide(TOY, ToyConfig(thresholds={"max_v": 0.5}), out, PLAN[:1], progress=False)
    assert "lacks 'worst'" in failures[0] and "--overwrite" in failures[0]


def test_meta_of_reads_live_and_stored_rows():
    assert meta_of({"meta": {"a": 1}}) == {"a": 1}
    assert meta_of({"meta": '{"a":1}'}) == {"a": 1}
    assert meta_of({"meta": None}) == {} == meta_of({})


@pytest.mark.parametrize("max_v", [0.5, 0.95])
def test_decide_stage_reads_only_the_scores_and_meta(max_v):
    cfg = ToyConfig(thresholds={"max_v": max_v})
    stage = TOY.stages(cfg)[-1]
    assert stage.reads == ("scores", "meta")
    row = stage.process_row({"scores": {"v": 0.9}, "meta": {"worst": "w"}})
    assert (row.get("reason"), row.get("detail")) == (
        ("verify_failed", f"w: v 0.90 > {max_v}") if max_v < 0.9 else (None, None)
    )
