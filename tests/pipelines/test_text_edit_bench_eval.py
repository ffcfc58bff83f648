"""``synth eval text-edit`` on Ray: the figures of one process, a resumed evaluation equal to an
uninterrupted one, and a run folder of our schema read as the predictions by sample_id."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipelines.text_edit.bench_eval import evaluate
from synth.evaluate.units import EvalError
from tests.cli_runner import invoke


@pytest.fixture(scope="module")
def bench(tmp_path_factory, ray_session):
    """A 4-edit text-edit run, its TextEdit export, and the ground truth laid out as predictions."""
    d = tmp_path_factory.mktemp("te_eval")
    run, bench, pred = d / "run", d / "bench", d / "pred"
    sets = ["split=test", "runtime.unit_size=4", "render.sizes=[[640,640],[768,576]]"]
    args = ["text-edit", "--num", "4", "--out", str(run), "--seed", "4", "--quiet"]
    result = invoke(*args, *[x for s in sets for x in ("--set", s)])
    assert result.exit_code == 0, result.output
    result = invoke("text-edit", "export", str(run), "--out", str(bench))
    assert result.exit_code == 0, result.output
    for f in bench.glob("*.jsonl"):
        for line in f.read_text().splitlines():
            row = json.loads(line)
            dest = pred / f.stem / Path(row["original_image"]).name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(bench / row["gt_image"], dest)
    return {"run": run, "bench": bench, "pred": pred}


@pytest.fixture(scope="module")
def single(bench, tmp_path_factory):
    """The ground truth scored in this process."""
    work = tmp_path_factory.mktemp("one")
    return evaluate(str(bench["bench"]), str(bench["pred"]), progress=False, workers=0, work=str(work))


def figures(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("runtime", "pred")}


def test_ray_equals_one_process_and_resumes(bench, single, tmp_path):
    b, p = str(bench["bench"]), str(bench["pred"])
    work = tmp_path / "ray"
    parallel = evaluate(b, p, progress=False, workers=2, work=str(work))
    assert parallel["runtime"]["workers"] == 2 and parallel["runtime"]["units"] >= 2
    assert parallel == {**single, "runtime": parallel["runtime"]}
    assert single["scored"] >= 4 and single["summary"]["all"]["correctness_ned"] == 0.0
    (work / "units" / "part-000000.json").unlink()
    resumed = evaluate(b, p, progress=False, workers=2, work=str(work))
    assert resumed["runtime"]["units_run"] == 1 and figures(resumed) == figures(single)


def test_run_folder_as_predictions(bench, single, tmp_path):
    """The run itself as a `synth sample --mode edit` output (its targets the predictions): the
    figures of the same images laid out as files."""
    rows = evaluate(
        str(bench["bench"]), str(bench["run"]), progress=False, workers=0, work=str(tmp_path / "b")
    )
    assert figures(rows) == figures(single) and rows["missing"] == 0


def test_run_folder_needs_our_sample_ids(bench, tmp_path):
    released = tmp_path / "released"
    (released / "1.1" / "image" / "original").mkdir(parents=True)
    row = {"id": 1, "prompt": "x", "original_image": "1.1/image/original/a.png", "gt_image": "1.1/image/gt/a.png",
           "source_text": "a", "target_text": "b", "gt_caption": ""}  # fmt: skip
    (released / "1.1.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(EvalError, match="no sample_id"):
        evaluate(str(released), str(bench["run"]), progress=False, workers=0, work=str(tmp_path / "w"))


def test_cli_runs_on_ray_and_resumes(bench, tmp_path):
    out = tmp_path / "report.json"
    args = ["eval", "text-edit", "--pred", str(bench["pred"]), "--bench", str(bench["bench"]), "--out", str(out),
            "--quiet"]  # fmt: skip
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert json.loads(out.read_text())["runtime"]["units_run"] >= 1
    again = invoke(*args)
    assert again.exit_code == 0 and f"report: {out}" in again.output
    report = json.loads(out.read_text())
    assert report["runtime"]["units_run"] == 0 and report["scored"] >= 4
