"""``synth eval generation``: a model's generated images, as a run folder of our schema (what
``synth sample`` writes, or any of our runs: their targets then score as the ground truth),
scored row by row with the metrics the verifiers use.

Per row, by what the row is:

* **t2i** (and ``text_image``) rows: OCR of the image against the texts the prompt asks for
  (:mod:`synth.evaluate.prompt_text`: word accuracy and NED, per block and language), and
  CLIPScore of prompt and image (``100 * max(cos, 0)``, torchmetrics' scale) when a local open_clip
  checkpoint is given, loaded by the loader the curation filters use.
* **edit** rows: PSNR outside the row's edit mask (``aux_images[0]``) between the input image and
  the result (resized to the input's size; 100 dB is identical), and on text-edit rows the
  text-edit metrics (TextEdit's OA, OP, OR, F1, ROI-NED, our placed OA and the verifier's
  correctness at the new lines), averaged over the edit's lines as the export splits them.
* every image row: an optional VLM judge (:mod:`synth.evaluate.judge`).

``und`` rows (text answers) are counted as ``skipped``. A row that cannot be scored (no image,
undecodable bytes, an OCR failure) is an ``error`` with a reason and detail, never a failed run.
The prompt is the column ``synth sample`` read it from (its ``prompt_column``, in the run's
``run.json``), else ``instruction``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from synth.config import Strict
from synth.evaluate.units import EvalError, EvalUnit
from synth.llm import LlmConfig
from synth.ocr import OcrConfig


class ClipScoreConfig(Strict):
    weights: str = Field(description="local open_clip checkpoint (open_clip_pytorch_model.bin, .safetensors)")
    model: str = Field("ViT-L-14-quickgelu", description="open_clip architecture of the checkpoint")
    model_json: str | None = Field(None, description="open_clip JSON config of a custom architecture")
    device: str = "auto"


class GenerationEvalConfig(Strict):
    """What ``synth eval generation`` measures with, and how it runs."""

    ocr: OcrConfig = OcrConfig()
    clip: ClipScoreConfig | None = Field(None, description="CLIPScore; off when None")
    judge: LlmConfig | None = Field(None, description="VLM judge; off when None")
    unit_rows: int = Field(8, ge=1, description="rows per unit (the scheduling and resume grain)")
    workers: int | None = Field(None, ge=0, description="Ray actors; None = every free CPU; 0 = this process")
    address: str | None = Field(None, description="Ray cluster to join; None = RAY_ADDRESS or a local Ray")
    prompt_column: str | None = Field(
        None, description="column holding the prompt; None = the one `synth sample` used, else instruction"
    )

    def key_parts(self) -> dict[str, Any]:
        """What changes a figure (not how fast or where it runs): the resume key."""
        return {
            "ocr": self.ocr.model_dump(exclude={"threads", "rec_batch"}),
            "clip": self.clip.model_dump(exclude={"device"}) if self.clip else None,
            "judge": self.judge.model_dump(include={"model", "max_tokens", "temperature"})
            if self.judge
            else None,
            "unit_rows": self.unit_rows,
            "prompt_column": self.prompt_column,
        }


#: Changes whenever a metric's definition does, so an old work folder is not resumed into new figures.
METRICS_VERSION = 1


def default_work(out: str | None, key: str) -> str:
    """Beside the report (``report.json`` -> ``report.json.work/``), else in the user's cache."""
    if out:
        return f"{out}.work"
    from synth.llm import default_cache_dir

    return f"{default_cache_dir().rsplit('/', 1)[0]}/eval/{key[:16]}"


def plan(pred: str, unit_rows: int) -> tuple[list[EvalUnit], dict[str, Any]]:
    """Units over the rows of a run folder (its kept rows, ``data/``) or of Parquet shards."""
    from synth.inputs import InputError, plan_run_inputs
    from synth.writer import OutputDir

    if not OutputDir(pred).exists():
        raise EvalError(
            f"--pred {pred}: no such folder; give a run folder of our schema (e.g. a `synth sample` output)"
        )
    try:
        units, info = plan_run_inputs([pred], unit_rows)
    except InputError as e:
        raise EvalError(f"--pred: {e}") from None
    kinds = {s.entry.kind for u in units for s in u.inputs}
    if kinds - {"parquet"} or not units:
        raise EvalError(
            f"--pred {pred}: expected a run folder of our schema (run.json and data/part-*.parquet, "
            "e.g. a `synth sample` output) or .parquet shards of it"
        )
    return [EvalUnit(u.index, u.inputs, u.end - u.start) for u in units], info


def _run_json(pred: str) -> dict[str, Any]:
    from synth.writer import OutputDir

    try:
        run = OutputDir(pred).read_json("run.json")
    except (OSError, ValueError):
        return {}
    return run if isinstance(run, dict) else {}


def evaluate_run(
    pred: str,
    out: str | None = None,
    cfg: GenerationEvalConfig | None = None,
    *,
    work: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Score every kept row of the run folder ``pred``; write the JSON report to ``out`` (when
    given) and return it. Units are committed under ``work`` as they finish, so the same call
    after an interruption scores only what is left, with the same figures.

    >>> evaluate_run("out/gen", "report.json")["summary"]["ocr_word_acc"]  # doctest: +SKIP
    """
    from synth.evaluate.generation_scorer import GenerationScorer
    from synth.evaluate.summary import summarize
    from synth.evaluate.units import open_work, run_units, stamps
    from synth.identity import digest
    from synth.writer import OutputDir

    cfg = cfg or GenerationEvalConfig()
    units, info = plan(pred, cfg.unit_rows)
    run = _run_json(pred)
    if cfg.prompt_column is None:  # the column `synth sample` read its prompts from
        column = (run.get("config") or {}).get("prompt_column") if run.get("pipeline") == "sample" else None
        cfg = cfg.model_copy(update={"prompt_column": column or "instruction"})
    shards = stamps([s.entry.uri for u in units for s in u.items])
    key = digest("generation", METRICS_VERSION, info["digest"], shards, cfg.key_parts())
    work_dir = OutputDir(work or default_work(out, key))
    open_work(work_dir, key, {"pred": pred, "rows": info["planned"]}, units, overwrite)
    records, stats = run_units(
        GenerationScorer(cfg), units, work_dir, key, workers=cfg.workers, address=cfg.address,
        progress=progress, desc="eval generation",
    )  # fmt: skip
    notes = []
    if not cfg.clip:
        notes.append("CLIPScore off: no open_clip checkpoint given (--clip)")
    if not cfg.judge:
        notes.append("VLM judge off: no judge server given (--judge-url)")
    judged = sum(1 for r in records if "judge_error" in r)
    if judged:
        notes.append(f"VLM judge failed on {judged} rows (judge_error in their records)")
    report = {
        "pred": pred,
        "pred_counts": (run.get("report") or {}).get("counts"),  # kept rows are scored; the rest are not
        "settings": {
            "ocr": cfg.ocr.backend,
            "clip": cfg.clip.model_dump(exclude={"device"}) if cfg.clip else None,
            "judge": {"model": cfg.judge.model, "base_url": cfg.judge.base_url} if cfg.judge else None,
        },
        "notes": notes,
        **summarize(records),
        "records": records,
        "runtime": {**stats, "work": work_dir.uri},
    }
    if out:
        write_report(out, report)
    return report


def write_report(out: str, report: dict[str, Any]) -> None:
    from pathlib import Path

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
