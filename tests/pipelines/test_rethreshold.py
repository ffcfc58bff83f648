"""``--rethreshold`` for every generator: a stricter threshold moves rows to rejected with the
decision's reason from the stored scores alone (nothing is drawn or read again), rewriting only
the units whose rows change; the result equals a fresh run with that threshold, and loosening it
again gives back the original bytes. An interrupted pass resumes; new thresholds without the flag
are refused."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import synth.decision
from pipelines import registry
from synth.config import default_config_path, load_config
from synth.runner import RunError, run_pipeline
from synth.schema import scores_of
from synth.validate import validate
from tests.cli_runner import invoke


@dataclass(frozen=True)
class Case:
    sets: tuple[str, ...]
    num: int
    score: str  # the score the threshold cuts
    key: str  # thresholds.<key>
    reason: str  # what a row failing it is rejected with
    unit_size: int = 4  # small enough that some unit holds no row the new threshold changes


# seed 7 gives each a kept row that reads imperfectly (tesseract misreads some rendered lines; rapidocr
# reads every line of the fluent text-edit scenes and of the diagrams' clear labels perfectly, so
# every case uses tesseract)
CASES = {
    "text_render": Case(
        ("render.sizes=[[512,512],[640,480]]", "verify.full_pass_every=0", "verify.ocr.backend=tesseract"),
        8, "ocr_ned_max", "max_ned", "ocr_mismatch", unit_size=1,
    ),
    "text_edit": Case(("render.sizes=[[640,640],[768,576]]", "verify.ocr.backend=tesseract"), 12,
                      "correctness_ned", "max_ned", "verify_failed", unit_size=2),
    "cs_diagram": Case(("verify.ocr.backend=tesseract",), 16, "label_ned_mean", "max_label_ned", "ocr_mismatch"),
    "physics": Case(("verify.ocr.backend=tesseract",), 16, "label_ned_mean", "max_label_ned", "ocr_mismatch"),
}  # fmt: skip
FOLDERS = ("data", "rejected", "_units")


def config(name: str, *extra: str):
    pipeline = registry()[name]
    sets = [*CASES[name].sets, f"runtime.unit_size={CASES[name].unit_size}", "seed=7", *extra]
    return load_config(pipeline.config_model, default_config_path(name), sets)


@pytest.fixture(scope="module")
def originals(tmp_path_factory, ray_session):
    """Each domain's run with its shipped thresholds, made once: ``originals(name)`` -> folder."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            out = tmp_path_factory.mktemp(name) / "out"
            run_pipeline(registry()[name], config(name), str(out), CASES[name].num, progress=False)
            made[name] = out
        return made[name]

    return get


def copy_of(originals, name: str, tmp_path: Path) -> Path:
    out = tmp_path / name
    shutil.copytree(originals(name), out)
    return out


def files(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        f"{folder}/{p.name}": (p.stat().st_mtime_ns, p.read_bytes())
        for folder in FOLDERS
        for p in sorted((out / folder).iterdir())
    }


def outcomes(out: Path) -> dict[str, tuple]:
    """sample_id -> (unit shard, status, reason, detail, scores)."""
    found = {}
    for folder in ("data", "rejected"):
        for shard in sorted((out / folder).glob("*.parquet")):
            for r in pq.read_table(shard).to_pylist():
                found[r["sample_id"]] = (shard.stem, r["status"], r["reason"], r["detail"], scores_of(r))
    return found


def stricter(name: str, rows: dict[str, tuple]) -> float:
    """The threshold just below the worst kept score: the rows at that score fail it."""
    case = CASES[name]
    values = sorted({o[4][case.score] for o in rows.values() if o[1] == "kept" and case.score in o[4]})
    assert values and values[-1] > 0, f"{name}: no kept row reads imperfectly; pick another seed"
    return values[-2] if len(values) > 1 else 0.0


def forbid_work(monkeypatch, name: str) -> None:
    """Any unit run, stage set-up or stage call (drawing, rendering, OCR) fails the test."""

    def boom(*args, **kwargs):
        raise AssertionError("a rethreshold must not draw, render or read anything again")

    monkeypatch.setattr("synth.runner._execute", boom)
    monkeypatch.setattr("synth.ocr.make_ocr", boom)
    for stage in registry()[name].stages(config(name)):
        for method in ("setup", "process_batch", "process_row"):
            monkeypatch.setattr(type(stage), method, boom)


@pytest.mark.parametrize("name", CASES)
def test_stricter_threshold_then_back(name, originals, tmp_path, monkeypatch):
    case, pipeline = CASES[name], registry()[name]
    out = copy_of(originals, name, tmp_path)
    before, old = files(out), outcomes(out)
    strict = stricter(name, old)
    forbid_work(monkeypatch, name)

    run = run_pipeline(
        pipeline, config(name, f"thresholds.{case.key}={strict}"), str(out), rethreshold=True, progress=False
    )
    new = outcomes(out)
    assert new.keys() == old.keys()
    moved = {sid for sid, o in old.items() if o[1] == "kept" and o[4].get(case.score, 0) > strict}
    assert moved
    for sid in moved:
        _, status, reason, detail, _ = new[sid]
        assert (status, reason) == ("rejected", case.reason) and f"> {strict}" in detail
    changed = {sid for sid in old if old[sid][1:4] != new[sid][1:4]}
    for sid in changed - moved:  # rejected by the decision already: only the threshold in its detail
        assert old[sid][1:3] == new[sid][1:3] == ("rejected", case.reason)
    assert all(old[sid][4] == new[sid][4] for sid in old)  # scores untouched
    assert run["redecided"]["rows_changed"] == len(changed)

    touched = {old[sid][0] for sid in changed}
    after = files(out)
    for rel, stamp in before.items():
        unit = Path(rel).stem
        assert (after[rel] == stamp) == (unit not in touched), rel  # other units not even rewritten
    assert run["redecided"]["units_rewritten"] == len(touched) < len(run["plan"])
    counts = run["report"]["counts"]
    assert counts["kept"] == sum(o[1] == "kept" for o in old.values()) - len(moved)
    assert counts["kept"] + counts["rejected"] + counts["error"] == case.num
    assert validate(str(out)).ok
    assert "redecide" not in json.loads((out / "run.json").read_text())

    run_pipeline(pipeline, config(name), str(out), rethreshold=True, progress=False)
    assert {rel: data for rel, (_, data) in files(out).items()} == {
        rel: data for rel, (_, data) in before.items()
    }  # the original shards and manifests, byte for byte


def test_rethreshold_equals_a_fresh_run(originals, tmp_path, ray_session):
    out = copy_of(originals, "cs_diagram", tmp_path)
    strict = stricter("cs_diagram", outcomes(out))
    given = [*CASES["cs_diagram"].sets, "runtime.unit_size=4", f"thresholds.max_label_ned={strict}"]
    sets = [arg for s in given for arg in ("--set", s)]
    result = invoke(
        "cs-diagram", "--out", str(out), "--seed", "7", *sets, "--rethreshold", "--quiet", "--no-preview"
    )
    assert result.exit_code == 0, result.output  # no --num: the planned samples are re-decided
    fresh = tmp_path / "fresh"
    run_pipeline(registry()["cs_diagram"], config("cs_diagram", f"thresholds.max_label_ned={strict}"),
                 str(fresh), CASES["cs_diagram"].num, progress=False)  # fmt: skip
    for folder in ("data", "rejected"):
        for shard in sorted((fresh / folder).iterdir()):
            assert (out / folder / shard.name).read_bytes() == shard.read_bytes(), shard


def test_an_interrupted_rethreshold_resumes_without_the_flag(originals, tmp_path, monkeypatch):
    pipeline = registry()["cs_diagram"]
    out = copy_of(originals, "cs_diagram", tmp_path)
    old = outcomes(out)
    strict_cfg = config("cs_diagram", f"thresholds.max_label_ned={stricter('cs_diagram', old)}")
    real = synth.decision.redecide_unit

    def fail_unit_0(pipeline, cfg, out_dir, unit):
        if unit.index == 0:
            raise OSError("connection reset")
        return real(pipeline, cfg, out_dir, unit)

    monkeypatch.setattr(synth.decision, "redecide_unit", fail_unit_0)
    with pytest.raises(RunError, match="connection reset"):
        run_pipeline(pipeline, strict_cfg, str(out), rethreshold=True, progress=False)
    assert json.loads((out / "run.json").read_text())["redecide"] is True
    monkeypatch.setattr(synth.decision, "redecide_unit", real)
    run = run_pipeline(pipeline, strict_cfg, str(out), CASES["cs_diagram"].num, progress=False)
    assert "redecide" not in run and run["redecided"]["units_checked"] == len(run["plan"])
    assert outcomes(out) != old and validate(str(out)).ok


def test_new_thresholds_without_the_flag_are_refused(originals, tmp_path):
    out = copy_of(originals, "text_edit", tmp_path)
    with pytest.raises(RunError, match=r"'max_ned': 0\.01.*add --rethreshold"):
        run_pipeline(registry()["text_edit"], config("text_edit", "thresholds.max_ned=0.01"), str(out), 12)
    with pytest.raises(RunError, match="re-decides an existing output; .* holds none"):
        run_pipeline(registry()["text_edit"], config("text_edit"), str(tmp_path / "empty"), rethreshold=True)


def test_an_output_made_before_decisions_were_stored_is_not_re_decided(originals, tmp_path):
    """Its rows lack what a decision reads (a structural problem, the worst line): re-deciding them
    could keep a row that failed for a reason the row does not record."""
    out = copy_of(originals, "cs_diagram", tmp_path)
    run = json.loads((out / "run.json").read_text())
    del run["decisions_stored"]  # as run.json was written before this change
    (out / "run.json").write_text(json.dumps(run))
    before = files(out)
    cfg = config("cs_diagram", "thresholds.max_label_ned=0.0")
    with pytest.raises(RunError, match="cannot re-decide it; use --overwrite"):
        run_pipeline(registry()["cs_diagram"], cfg, str(out), rethreshold=True, progress=False)
    assert files(out) == before
