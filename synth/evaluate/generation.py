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
The prompt is ``meta.sample.prompt`` where the sampler recorded one, else ``instruction``.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import numpy as np
from PIL import Image
from pydantic import Field

from synth.config import Strict
from synth.evaluate import judge as judging
from synth.evaluate.locality import psnr_outside
from synth.evaluate.prompt_text import expected_texts, score_reads
from synth.evaluate.text_edit_rows import edit_rows, fit_to, read_pair, score_sample
from synth.evaluate.units import EvalError, EvalUnit
from synth.imageio import DecodeError, decode_image
from synth.llm import Answer, LlmConfig
from synth.ocr import OcrConfig, make_ocr

log = logging.getLogger(__name__)

TEXT_EDIT_METRICS = ("oa", "op", "or", "f1", "ned", "placed", "correctness_ned")
JUDGE_PREFIX = "judge_"
ROUND = 6  # digits kept: figures equal across processes, files stable


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

    def key_parts(self) -> dict[str, Any]:
        """What changes a figure (not how fast or where it runs): the resume key."""
        return {
            "ocr": self.ocr.model_dump(exclude={"threads", "rec_batch"}),
            "clip": self.clip.model_dump(exclude={"device"}) if self.clip else None,
            "judge": self.judge.model_dump(include={"model", "max_tokens", "temperature"})
            if self.judge
            else None,
            "unit_rows": self.unit_rows,
        }


def _meta(row: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(row.get("meta") or "{}")
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _bytes(cell: Any) -> bytes | None:
    return (cell or {}).get("bytes") or None


def _round(scores: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), ROUND) for k, v in scores.items()}


def is_text_edit(row: dict[str, Any]) -> bool:
    return row.get("task") == "edit" and (row.get("subdomain") or "").startswith("text_edit/")


class GenerationScorer:
    """Scores the rows of a unit (see the module docstring); ``setup`` loads OCR, CLIP and the
    judge client once per worker."""

    def __init__(self, cfg: GenerationEvalConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.ocr = make_ocr(self.cfg.ocr)
        self.clip = None
        if self.cfg.clip:
            from synth.models.clip import ClipImageEncoder

            c = self.cfg.clip
            self.clip = ClipImageEncoder(c.model, c.weights, c.model_json, c.device, text=True)
        self.judge = None
        if self.cfg.judge:
            from synth.llm import LlmClient

            self.judge = LlmClient(self.cfg.judge)
            self.judge.connect()

    def score_unit(self, unit: EvalUnit) -> list[dict[str, Any]]:
        from synth.inputs import read_rows
        from synth.pipeline import Unit

        rows, records = [], []
        for key, row, problem in read_rows(Unit(unit.index, 0, unit.rows, unit.items)):
            if row is None:
                records.append(error({"sample_id": key}, "io_error", problem or "unreadable"))
            else:
                rows.append(row)
                records.append(None)
        scored = iter(self.score_rows(rows))
        return [r if r is not None else next(scored) for r in records]

    def score_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One record per row, in order; batched where a model is (CLIP, the judge)."""
        records, images = [], []
        for row in rows:
            record, image = self._measure(row)
            records.append(record)
            images.append(image)
        clip_rows = [k for k, r in enumerate(records) if r["status"] == "scored" and r["task"] != "edit"]
        if self.clip and clip_rows:
            self._clip(rows, records, images, clip_rows)
        if self.judge:
            self._judge(rows, records)
        return records

    # -- per row -------------------------------------------------------------------------------

    def _measure(self, row: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray | None]:
        meta = _meta(row)
        sample = meta.get("sample") if isinstance(meta.get("sample"), dict) else {}
        record: dict[str, Any] = {
            "sample_id": row.get("sample_id"),
            "domain": row.get("domain"),
            "subdomain": row.get("subdomain"),
            "task": row.get("task"),
            "language": row.get("language"),
            "mode": sample.get("mode"),
            "status": "scored",
            "reason": None,
            "detail": None,
        }
        if row.get("task") == "und" or sample.get("mode") == "text":
            record.update(
                status="skipped", reason="not_an_image_row", detail="a text answer: not scored here"
            )
            return record, None
        data = _bytes(row.get("target_image"))
        if data is None:
            return error(record, "no_image", "the row has no generated image (target_image is empty)"), None
        try:
            image = decode_image(data)
        except DecodeError as e:
            return error(record, e.reason, str(e)), None
        try:
            if row.get("task") == "edit":
                record.update(self._edit(row, image))
            else:
                record.update(self._texts(row, image))
        except DecodeError as e:
            return error(record, e.reason, f"input image: {e}"), None
        except Exception as e:  # noqa: BLE001 - an OCR engine failing on one image is that row's error
            log.warning("cannot score %s: %s", row.get("sample_id"), e)
            return error(record, "ocr_error", f"{type(e).__name__}: {str(e)[:300]}"), None
        return record, image

    def _texts(self, row: dict[str, Any], image: np.ndarray) -> dict[str, Any]:
        expected, source = expected_texts(prompt_of(row), row.get("texts"))
        out: dict[str, Any] = {"expected_from": source}
        if not expected:
            return out
        blocks = score_reads(expected, [f.text for f in self.ocr.detect(image)])
        words = sum(b.words for b in blocks)
        out["blocks"] = [{"language": b.language, "words": b.words, "correct": b.words_correct,
                          "ned": b.ned} for b in blocks]  # fmt: skip
        out.update(_round({
            "ocr_ned": float(np.mean([b.ned for b in blocks])),
            **({"ocr_word_acc": sum(b.words_correct for b in blocks) / words} if words else {}),
        }))  # fmt: skip
        return out

    def _edit(self, row: dict[str, Any], image: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        source_bytes = _bytes(row.get("source_image"))
        if source_bytes is None:
            out["detail"] = "no input image: nothing to compare outside the mask"
            return out
        source = decode_image(source_bytes)
        predicted = fit_to(image, source)
        masks = row.get("aux_images") or []
        if masks and _bytes(masks[0]):
            mask = Image.open(io.BytesIO(masks[0]["bytes"])).convert("L")
            if mask.size != (source.shape[1], source.shape[0]):
                mask = mask.resize((source.shape[1], source.shape[0]), Image.NEAREST)
            out["psnr_outside"] = round(psnr_outside(source, predicted, np.asarray(mask)), ROUND)
        else:
            out["detail"] = "no edit mask (aux_images[0]): no PSNR outside it"
        if is_text_edit(row):
            out.update(self._text_edit(row, source, predicted))
        return out

    def _text_edit(self, row: dict[str, Any], source: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
        texts = row.get("texts") or []
        parts = edit_rows(
            [t for t in texts if t["role"] == "source"], [t for t in texts if t["role"] == "target"]
        )
        if not parts:
            return {}
        pair = read_pair(source, predicted, self.ocr)
        case = (row.get("subdomain") or "").endswith("/case")
        scores = [score_sample({**p, "case_sensitive": case}, pair, self.ocr, None) for p in parts]
        return _round({
            f"te_{k}": float(np.mean([s[k] for s in scores if k in s]))
            for k in TEXT_EDIT_METRICS
            if any(k in s for s in scores)
        })  # fmt: skip

    # -- batched models ------------------------------------------------------------------------

    def _clip(self, rows, records, images, which: list[int]) -> None:
        pics = self.clip.embed([images[k] for k in which])
        words = self.clip.embed_text([prompt_of(rows[k]) for k in which])
        for k, cos in zip(which, (pics * words).sum(axis=1), strict=True):
            records[k]["clip_score"] = round(100.0 * max(float(cos), 0.0), 4)

    def _judge(self, rows, records) -> None:
        asked = []
        for k, (row, record) in enumerate(zip(rows, records, strict=True)):
            if record["status"] != "scored":
                continue
            try:
                source = _bytes(row.get("source_image")) if row.get("task") == "edit" else None
                req = judging.request(
                    prompt_of(row), _bytes(row["target_image"]), source, (row.get("seed") or 0) % 2**31
                )
            except DecodeError as e:
                record["judge_error"] = f"input image: {e}"
                continue
            asked.append((k, req))
        for (k, _), got in zip(asked, self.judge.run([r for _, r in asked]), strict=True):
            if isinstance(got, Answer):
                v = got.value
                records[k].update({f"{JUDGE_PREFIX}{j}": v[j] for j in judging.JUDGED})
                records[k]["judge_reason"] = v["reason"]
            else:
                records[k]["judge_error"] = f"{got.reason}: {got.detail}"[:300]


def prompt_of(row: dict[str, Any]) -> str:
    sample = _meta(row).get("sample")
    if isinstance(sample, dict) and isinstance(sample.get("prompt"), str):
        return sample["prompt"]
    return row.get("instruction") or ""


def error(record: dict[str, Any], reason: str, detail: str) -> dict[str, Any]:
    record.update(status="error", reason=reason, detail=detail)
    return record


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
    from synth.evaluate.summary import summarize
    from synth.evaluate.units import open_work, run_units, stamps
    from synth.identity import digest
    from synth.writer import OutputDir

    cfg = cfg or GenerationEvalConfig()
    units, info = plan(pred, cfg.unit_rows)
    shards = stamps([s.entry.uri for u in units for s in u.items])
    key = digest("generation", METRICS_VERSION, info["digest"], shards, cfg.key_parts())
    work_dir = OutputDir(work or default_work(out, key))
    open_work(work_dir, key, {"pred": pred, "rows": info["planned"]}, overwrite)
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
