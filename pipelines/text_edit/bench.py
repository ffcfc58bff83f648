"""The TextEdit benchmark layout (open-compass/TextEdit): export our triplets into it, and score any
model's predictions on it, ours or the released benchmark.

Layout: ``{bench}/{cat}.jsonl`` with rows ``{id, prompt, original_image, gt_image, source_text,
target_text, gt_caption}`` plus our extra keys; images at ``{cat}/image/original/{name}`` and
``{cat}/image/gt/{name}``. Our categories are ``1.<n>`` (virtual scenes) and ``2.<n>`` (real
scenes), one per edit operation, listed in ``categories.json``. Predictions are read from
``{pred}/{cat}/{basename of original_image}``, as TextEdit's own evaluator reads them.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from pipelines.text_edit.config import OPS
from synth.evaluate.text_edit import (
    classic_metrics,
    correctness,
    items_from_ocr,
    polygon_crop,
    psnr_outside,
    summarize,
)
from synth.imageio import decode_image
from synth.ocr import OcrConfig, make_ocr
from synth.writer import OutputDir, read_table

log = logging.getLogger(__name__)

METRICS = ("oa", "op", "or", "f1", "ned", "correctness_ned", "preservation_psnr")
CATEGORY_FILES = "categories.json"


def category(op: str, real: bool) -> str:
    return f"{2 if real else 1}.{OPS.index(op) + 1}"


def export_textedit(run_dir: str, bench: str) -> dict[str, Any]:
    """Write the kept rows of a ``synth text-edit`` output in the TextEdit layout; returns counts
    per category. Warns when the run is a ``train`` split (benchmarks should come from ``--set
    split=test`` runs, whose samples never occur in training data)."""
    out = OutputDir(run_dir)
    run = out.read_json("run.json")
    if not run or run.get("pipeline") != "text_edit":
        raise FileNotFoundError(f"{run_dir} is not a synth text-edit output (no run.json of text_edit)")
    if run.get("split") == "train":
        log.warning(
            "exporting a train-split run as a benchmark: rerun with --set split=test for held-out samples"
        )
    root = Path(bench)
    per_cat: dict[str, list[dict]] = {}
    for shard in out.list("data", ".parquet"):
        for row in read_table(out, shard).to_pylist():
            spec = json.loads(row["spec"])
            op = spec["edit"]["op"]
            real = spec.get("scene") == "real"
            cat = category(op, real)
            name = f"{row['sample_id'][:20]}.png"
            files = {
                "original_image": f"{cat}/image/original/{name}",
                "gt_image": f"{cat}/image/gt/{name}",
                "mask_image": f"{cat}/image/mask/{name}",
            }
            for key, cell in (("original_image", row["source_image"]), ("gt_image", row["target_image"]),
                              ("mask_image", row["aux_images"][0])):  # fmt: skip
                path = root / files[key]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(cell["bytes"])
            meta = json.loads(row["meta"] or "{}")
            sources = [t for t in row["texts"] if t["role"] == "source"]
            targets = [t for t in row["texts"] if t["role"] == "target"]
            source_text, target_text = changed_lines(sources, targets)
            per_cat.setdefault(cat, []).append(
                {
                    "prompt": row["instruction"],
                    **files,
                    "source_text": source_text,
                    "target_text": target_text,
                    "source_word": meta.get("old_text"),
                    "target_word": meta.get("new_text"),
                    "gt_caption": "Text in the image: " + "; ".join(
                        t["text"] for t in row["texts"] if t["role"] != "source"),
                    "edit_type": op,
                    "instructions": row["instructions"],
                    "language": row["language"],
                    "source_lines": [{"text": t["text"], "polygon": t["polygon"]} for t in sources],
                    "target_lines": [{"text": t["text"], "polygon": t["polygon"]} for t in targets],
                    "case_sensitive": op == "case",
                    "sample_id": row["sample_id"],
                    "split": run.get("split"),
                }
            )  # fmt: skip
    next_id = 1
    for cat in sorted(per_cat, key=lambda c: [int(x) for x in c.split(".")]):
        with open(root / f"{cat}.jsonl", "w", encoding="utf-8") as f:
            for row in sorted(per_cat[cat], key=lambda r: r["sample_id"]):
                f.write(json.dumps({"id": next_id, **row}, ensure_ascii=False) + "\n")
                next_id += 1
    categories = {
        category(op, real): {"operation": op, "scene": "real" if real else "virtual"}
        for op in OPS
        for real in (False, True)
    }
    (root / CATEGORY_FILES).write_text(json.dumps(categories, indent=2) + "\n")
    return {cat: len(rows) for cat, rows in sorted(per_cat.items())}


def changed_lines(sources: list[dict], targets: list[dict]) -> tuple[str, str]:
    """TextEdit's source_text and target_text: whole text instances (OCR reads lines, and its
    metrics compare against what OCR reads), so the edited lines, not the edited word. Lines that
    read the same before and after are left out; a style edit (same text) keeps them all."""
    old = [t["text"] for t in sources]
    new = [t["text"] for t in targets]
    old_changed = [t for t in old if t not in new]
    new_changed = [t for t in new if t not in old]
    if not old_changed and not new_changed:
        return " ".join(old), " ".join(new)
    return " ".join(old_changed), " ".join(new_changed)


def read_bench(bench: str) -> list[dict[str, Any]]:
    """Every row of every ``{cat}.jsonl``, with its category and operation (``categories.json``
    names them for our exports; the released benchmark's files are all replacements)."""
    root = Path(bench)
    names = json.loads((root / CATEGORY_FILES).read_text()) if (root / CATEGORY_FILES).exists() else {}
    files = sorted(
        root.glob("*.jsonl"), key=lambda p: [int(x) if x.isdigit() else x for x in p.stem.split(".")]
    )
    if not files:
        raise FileNotFoundError(f"no <category>.jsonl files in {bench}: is it a TextEdit-layout folder?")
    rows = []
    for path in files:
        cat = path.stem
        info = names.get(
            cat, {"operation": "replace", "scene": "virtual" if cat.startswith("1.") else "real"}
        )
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    rows.append({**json.loads(line), "category": cat, **info})
    return rows


def _inside(root: Path, rel: str) -> bool:
    """A benchmark file's image path stays inside the benchmark folder (jsonl files are input, not
    trusted: ``../../etc/passwd`` is refused)."""
    base = root.resolve()
    return (base / rel).resolve().is_relative_to(base)


def _load(path: Path) -> np.ndarray:
    return decode_image(path.read_bytes())


def score_sample(
    row: dict[str, Any], original: np.ndarray, predicted: np.ndarray, ocr, mask: np.ndarray | None
):
    """All metrics of one prediction. The prediction is resized to the original's size first
    (LANCZOS, as TextEdit's evaluator does)."""
    h, w = original.shape[:2]
    if predicted.shape[:2] != (h, w):
        predicted = np.asarray(Image.fromarray(predicted).resize((w, h), Image.LANCZOS))
    scores = classic_metrics(
        items_from_ocr(ocr.detect(original)), items_from_ocr(ocr.detect(predicted)),
        row["source_text"], row["target_text"],
    )  # fmt: skip
    lines = row.get("target_lines") or []
    if lines:  # our exports know where the new text belongs: the verifier's own check
        reads = [t for t, _ in ocr.recognize([polygon_crop(predicted, t["polygon"]) for t in lines])]
        scores["correctness_ned"] = correctness(
            [t["text"] for t in lines], reads, not row.get("case_sensitive")
        )
    if mask is not None:
        scores["preservation_psnr"] = psnr_outside(original, predicted, mask)
    return scores


def evaluate(
    bench: str, pred: str, ocr_cfg: OcrConfig | None = None, progress: bool = True
) -> dict[str, Any]:
    """Score the predictions under ``pred`` against the benchmark at ``bench``."""
    ocr = make_ocr(ocr_cfg or OcrConfig())
    root, pred_root = Path(bench), Path(pred)
    samples, missing = [], []
    rejected = []
    for row in tqdm(read_bench(bench), desc="eval text-edit", disable=not progress):
        if not all(_inside(root, row.get(k)) for k in ("original_image", "mask_image") if row.get(k)):
            rejected.append(f"id {row.get('id')}: image path outside the benchmark folder")
            continue
        predicted_path = pred_root / row["category"] / Path(row["original_image"]).name
        if not predicted_path.exists():
            missing.append(str(predicted_path))
            continue
        original = _load(root / row["original_image"])
        mask = None
        if row.get("mask_image") and (root / row["mask_image"]).exists():
            mask = np.asarray(Image.open(io.BytesIO((root / row["mask_image"]).read_bytes())).convert("L"))
        try:
            scores = score_sample(row, original, _load(predicted_path), ocr, mask)
        except Exception as e:  # noqa: BLE001 - one unreadable prediction scores zero, with the reason
            log.warning("cannot score %s: %s", predicted_path, e)
            scores = {"oa": 0.0, "op": 0.0, "or": 0.0, "f1": 0.0, "ned": 0.0, "error": str(e)}
        samples.append({"id": row["id"], "category": row["category"], "operation": row["operation"],
                        "scene": row["scene"], **scores})  # fmt: skip
    return {
        "bench": str(bench),
        "pred": str(pred),
        "ocr": (ocr_cfg or OcrConfig()).backend,
        "scored": len(samples),
        "missing": len(missing),
        "missing_examples": missing[:5],
        "rejected_rows": rejected,
        "summary": summarize(samples, METRICS, "scene"),
        "by_operation": {k: v for k, v in summarize(samples, METRICS, "operation").items() if k != "all"},
        "samples": samples,
    }


def table(report: dict[str, Any]) -> str:
    """A readable summary: overall, per scene type and per operation."""
    head = f"{'group':<14}{'n':>5}" + "".join(
        f"{m:>9}" for m in ("OA", "OP", "OR", "F1", "NED", "corrNED", "PSNR")
    )
    lines = [head, "-" * len(head)]
    groups = list(report["summary"].items()) + [
        (f"op:{k}", v) for k, v in sorted(report["by_operation"].items())
    ]
    for name, s in groups:
        cells = "".join(f"{s[m]:>9.3f}" if m in s else f"{'-':>9}" for m in METRICS)
        lines.append(f"{name:<14}{s['samples']:>5}{cells}")
    lines.append(
        f"scored {report['scored']}, missing predictions {report['missing']} (skipped, as TextEdit does)"
    )
    return "\n".join(lines)
