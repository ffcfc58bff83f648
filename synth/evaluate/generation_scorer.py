"""The scorer of ``synth eval generation`` (:mod:`synth.evaluate.generation` says what each row
gets): a unit's rows read, measured one by one (OCR, PSNR, the text-edit metrics) and batched
where a model is (CLIP, the VLM judge). ``setup`` loads OCR, CLIP and the judge client once per
worker; the scorer knows nothing of Ray.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
from PIL import Image

from synth.evaluate import judge as judging
from synth.evaluate.generation import GenerationEvalConfig
from synth.evaluate.locality import psnr_outside
from synth.evaluate.prompt_text import expected_texts, score_reads
from synth.evaluate.text_edit_rows import edit_rows, fit_to, read_pair, score_sample
from synth.evaluate.units import EvalUnit
from synth.imageio import DecodeError, decode_image
from synth.llm import Answer
from synth.ocr import make_ocr
from synth.schema import meta_of

log = logging.getLogger(__name__)

TEXT_EDIT_METRICS = ("oa", "op", "or", "f1", "ned", "placed", "correctness_ned")
JUDGE_PREFIX = "judge_"
ROUND = 6  # digits kept: figures equal across processes, files stable


def _meta(row: dict[str, Any]) -> dict[str, Any]:
    """The row's meta; {} where it is not a JSON object (a prediction is untrusted input)."""
    try:
        meta = meta_of(row)
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
    """Scores the rows of a unit; ``setup`` loads OCR, CLIP and the judge client once per worker."""

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

    def prompt(self, row: dict[str, Any]) -> str:
        """What the model was asked: the configured column (``evaluate_run`` sets the one the
        sampler used), ``instruction`` by default."""
        value = row.get(self.cfg.prompt_column or "instruction")
        return value if isinstance(value, str) else ""

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
        expected, source = expected_texts(self.prompt(row), row.get("texts"))
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
        words = self.clip.embed_text([self.prompt(rows[k]) for k in which])
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
                    self.prompt(row), _bytes(row["target_image"]), source, (row.get("seed") or 0) % 2**31
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


def error(record: dict[str, Any], reason: str, detail: str) -> dict[str, Any]:
    record.update(status="error", reason=reason, detail=detail)
    return record
