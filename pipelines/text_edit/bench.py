"""The TextEdit benchmark layout (open-compass/TextEdit): export our triplets into it, and score any
model's predictions on it, ours or the released benchmark.

Layout: ``{bench}/{cat}.jsonl`` with rows ``{id, prompt, original_image, gt_image, source_text,
target_text, gt_caption}`` plus our extra keys; images at ``{cat}/image/original/{name}`` and
``{cat}/image/gt/{name}``; our exports hold one row per edited line (the rows of an edit share
its images). Our categories are ``1.<n>`` (virtual scenes) and ``2.<n>`` (real
scenes), one per edit operation, listed in ``categories.json``. Predictions are read from
``{pred}/{cat}/{basename of original_image}``, as TextEdit's own evaluator reads them.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from pipelines.text_edit.config import OPS
from synth.evaluate.text_edit import (
    Item,
    classic_metrics,
    correctness,
    in_region,
    items_from_ocr,
    placed,
    polygon_crop,
    psnr_outside,
    summarize,
)
from synth.imageio import decode_image
from synth.ocr import OcrConfig, make_ocr
from synth.writer import OutputDir, read_table

log = logging.getLogger(__name__)

METRICS = ("oa", "op", "or", "f1", "ned", "placed", "correctness_ned", "preservation_psnr")
CATEGORY_FILES = "categories.json"


def category(op: str, real: bool) -> str:
    return f"{2 if real else 1}.{OPS.index(op) + 1}"


def export_textedit(run_dir: str, bench: str, single_line: bool = False) -> tuple[dict[str, int], int]:
    """Write the kept rows of a ``synth text-edit`` output in the TextEdit layout, one benchmark
    row per edited line (see :func:`edit_rows`); ``single_line`` leaves out the rows whose text
    spans lines. Returns the rows per category and the number of rows left out. Warns
    when the run is a ``train`` split (benchmarks should come from ``--set split=test`` runs,
    whose samples never occur in training data)."""
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
    left_out = 0
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
            meta = json.loads(row["meta"] or "{}")
            sources = [t for t in row["texts"] if t["role"] == "source"]
            targets = [t for t in row["texts"] if t["role"] == "target"]
            common = {
                "prompt": row["instruction"],
                **files,
                "source_word": meta.get("old_text"),
                "target_word": meta.get("new_text"),
                "gt_caption": "Text in the image: " + "; ".join(
                    t["text"] for t in row["texts"] if t["role"] != "source"),
                "edit_type": op,
                "instructions": row["instructions"],
                "language": row["language"],
                "case_sensitive": op == "case",
                "sample_id": row["sample_id"],
                "split": run.get("split"),
            }  # fmt: skip
            rows = edit_rows(sources, targets)
            kept = [(k, part) for k, part in enumerate(rows) if not (single_line and part["multi_line"])]
            left_out += len(rows) - len(kept)
            if not kept:
                continue
            per_cat.setdefault(cat, []).extend(
                {**common, **part, "line": k, "edit_rows": len(rows)} for k, part in kept
            )
            for key, cell in (("original_image", row["source_image"]), ("gt_image", row["target_image"]),
                              ("mask_image", row["aux_images"][0])):  # fmt: skip
                path = root / files[key]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(cell["bytes"])
    next_id = 1
    for cat in sorted(per_cat, key=lambda c: [int(x) for x in c.split(".")]):
        with open(root / f"{cat}.jsonl", "w", encoding="utf-8") as f:
            for row in sorted(per_cat[cat], key=lambda r: (r["sample_id"], r["line"])):
                f.write(json.dumps({"id": next_id, **row}, ensure_ascii=False) + "\n")
                next_id += 1
    categories = {
        category(op, real): {"operation": op, "scene": "real" if real else "virtual"}
        for op in OPS
        for real in (False, True)
    }
    (root / CATEGORY_FILES).write_text(json.dumps(categories, indent=2) + "\n")
    return {cat: len(rows) for cat, rows in sorted(per_cat.items())}, left_out


def edit_rows(sources: list[dict], targets: list[dict]) -> list[dict[str, Any]]:
    """The benchmark rows of one edit. TextEdit's evaluator finds ``source_text`` among the lines
    OCR reads in the original and looks for ``target_text`` in that line's box, so a row must be
    one line: where the edited text has as many lines after as before, one row per line pair that
    changed (every pair for a style edit, whose text stays), and a deletion one row per line gone.
    Where the lines rewrap, one row holds the lines between the unchanged first and last ones
    (with a neighbour where a line was only added or only removed, so there is text to find),
    ``multi_line`` where either side spans lines. ``in_place`` rows have one line, drawn where OA
    looks for it (TextEdit's region test of the new line's box against the old one's)."""
    if not targets or len(sources) == len(targets):
        pairs = [(s, targets[k] if targets else None) for k, s in enumerate(sources)]
        changed = [(s, t) for s, t in pairs if t is None or s["text"] != t["text"]]
        return [_row([s], [t] if t else []) for s, t in changed or pairs]
    n, m = len(sources), len(targets)
    head = 0
    while head < min(n, m) and sources[head]["text"] == targets[head]["text"]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and sources[n - 1 - tail]["text"] == targets[m - 1 - tail]["text"]:
        tail += 1
    if head == n - tail or head == m - tail:  # a line only added or only removed
        head, tail = (head - 1, tail) if head else (head, tail - 1)
    return [_row(sources[head : n - tail], targets[head : m - tail])]


def _row(sources: list[dict], targets: list[dict]) -> dict[str, Any]:
    return {
        "source_text": " ".join(t["text"] for t in sources),
        "target_text": " ".join(t["text"] for t in targets),
        "source_lines": [{"text": t["text"], "polygon": t["polygon"]} for t in sources],
        "target_lines": [{"text": t["text"], "polygon": t["polygon"]} for t in targets],
        "multi_line": len(sources) > 1 or len(targets) > 1,
        "in_place": len(sources) == len(targets) == 1
        and in_region(_bbox(targets[0]["polygon"]), _bbox(sources[0]["polygon"])),
    }


def _bbox(polygon: list[float]) -> tuple[float, float, float, float]:
    xs, ys = polygon[0::2], polygon[1::2]
    return min(xs), min(ys), max(xs), max(ys)


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


@dataclass(frozen=True)
class Pair:
    """An original and a prediction (resized to the original's size, LANCZOS, as TextEdit's
    evaluator does) with the full OCR of each: read once per image, since an edit's rows share it."""

    original: np.ndarray
    predicted: np.ndarray
    found_original: list[Item]
    found_predicted: list[Item]


def read_pair(original: np.ndarray, predicted: np.ndarray, ocr) -> Pair:
    h, w = original.shape[:2]
    if predicted.shape[:2] != (h, w):
        predicted = np.asarray(Image.fromarray(predicted).resize((w, h), Image.LANCZOS))
    return Pair(
        original, predicted, items_from_ocr(ocr.detect(original)), items_from_ocr(ocr.detect(predicted))
    )


def score_sample(row: dict[str, Any], pair: Pair, ocr, mask: np.ndarray | None) -> dict[str, float]:
    """All metrics of one row: TextEdit's classic ones, and on our exports (which know where the
    text was and where it belongs) the placed OA, the verifier's correctness at the new lines and
    PSNR outside the edit mask."""
    scores = classic_metrics(
        pair.found_original, pair.found_predicted, row["source_text"], row["target_text"]
    )
    lines = row.get("target_lines")
    if lines is not None:
        scores["placed"] = placed(
            pair.found_original,
            pair.found_predicted,
            [_bbox(t["polygon"]) for t in row.get("source_lines") or []],
            [_bbox(t["polygon"]) for t in lines],
            row["source_text"],
            row["target_text"],
        )
    if lines:
        crops = [polygon_crop(pair.predicted, t["polygon"]) for t in lines]
        reads = [t for t, _ in ocr.recognize(crops)]
        scores["correctness_ned"] = correctness(
            [t["text"] for t in lines], reads, not row.get("case_sensitive")
        )
    if mask is not None:
        scores["preservation_psnr"] = psnr_outside(pair.original, pair.predicted, mask)
    return scores


def evaluate(
    bench: str, pred: str, ocr_cfg: OcrConfig | None = None, progress: bool = True
) -> dict[str, Any]:
    """Score the predictions under ``pred`` against the benchmark at ``bench``."""
    ocr = make_ocr(ocr_cfg or OcrConfig())
    root, pred_root = Path(bench), Path(pred)
    samples, missing = [], []
    rejected = []
    pairs: dict[tuple[Path, Path], Pair] = {}
    for row in tqdm(read_bench(bench), desc="eval text-edit", disable=not progress):
        if not all(_inside(root, row.get(k)) for k in ("original_image", "mask_image") if row.get(k)):
            rejected.append(f"id {row.get('id')}: image path outside the benchmark folder")
            continue
        predicted_path = pred_root / row["category"] / Path(row["original_image"]).name
        if not predicted_path.exists():
            missing.append(str(predicted_path))
            continue
        mask = None
        if row.get("mask_image") and (root / row["mask_image"]).exists():
            mask = np.asarray(Image.open(io.BytesIO((root / row["mask_image"]).read_bytes())).convert("L"))
        key = (root / row["original_image"], predicted_path)
        try:
            if key not in pairs:
                pairs = {key: read_pair(_load(key[0]), _load(key[1]), ocr)}  # rows of one edit are adjacent
            scores = score_sample(row, pairs[key], ocr, mask)
        except Exception as e:  # noqa: BLE001 - one unreadable prediction scores zero, with the reason
            log.warning("cannot score %s: %s", predicted_path, e)
            scores = {"oa": 0.0, "op": 0.0, "or": 0.0, "f1": 0.0, "ned": 0.0, "error": str(e)}
        samples.append({"id": row["id"], "category": row["category"], "operation": row["operation"],
                        "scene": row["scene"], "rows": row_kind(row), **scores})  # fmt: skip
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
        "by_rows": {k: v for k, v in summarize(samples, METRICS, "rows").items() if k not in ("all", "None")},
        "samples": samples,
    }


def row_kind(row: dict[str, Any]) -> str | None:
    """``in-place``, ``not-in-place`` (one line, moved, resized, widened past OA's region, or
    deleted) or ``multi-line``, from our exports' flags; None for rows without them (the released
    benchmark)."""
    if "multi_line" not in row:
        return None
    return "multi-line" if row["multi_line"] else "in-place" if row["in_place"] else "not-in-place"


def table(report: dict[str, Any]) -> str:
    """A readable summary: overall, per scene type and per operation."""
    head = f"{'group':<17}{'n':>5}" + "".join(
        f"{m:>9}" for m in ("OA", "OP", "OR", "F1", "NED", "Placed", "corrNED", "PSNR")
    )
    lines = [head, "-" * len(head)]
    groups = (
        list(report["summary"].items())
        + [(f"rows:{k}", v) for k, v in sorted(report.get("by_rows", {}).items())]
        + [(f"op:{k}", v) for k, v in sorted(report["by_operation"].items())]
    )
    for name, s in groups:
        cells = "".join(f"{s[m]:>9.3f}" if m in s else f"{'-':>9}" for m in METRICS)
        lines.append(f"{name:<17}{s['samples']:>5}{cells}")
    lines.append(
        f"scored {report['scored']}, missing predictions {report['missing']} (skipped, as TextEdit does)"
    )
    return "\n".join(lines)
