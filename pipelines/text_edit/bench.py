"""The TextEdit benchmark layout (open-compass/TextEdit): export our triplets into it, and score any
model's predictions on it, ours or the released benchmark.

Layout: ``{bench}/{cat}.jsonl`` with rows ``{id, prompt, original_image, gt_image, source_text,
target_text, gt_caption}`` plus our extra keys; images at ``{cat}/image/original/{name}`` and
``{cat}/image/gt/{name}``; our exports hold one row per edited line (the rows of an edit share
its images). Our categories are ``1.<n>`` (virtual scenes) and ``2.<n>`` (real
scenes), one per edit operation, listed in ``categories.json``. Predictions are read from
``{pred}/{cat}/{basename of original_image}``, as TextEdit's own evaluator reads them
(``bench_eval.py`` scores them). How an edit becomes rows, and the scores of one row, live in
``synth.evaluate.text_edit_rows``, shared with ``synth eval generation``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pipelines.text_edit.config import OPS
from synth.evaluate.text_edit_rows import Pair, bbox, edit_rows, read_pair, score_sample
from synth.schema import meta_of
from synth.writer import OutputDir, read_table

log = logging.getLogger(__name__)

__all__ = ["Pair", "bbox", "edit_rows", "read_pair", "score_sample"]  # re-exported for callers of the export
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
            meta = meta_of(row)
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
