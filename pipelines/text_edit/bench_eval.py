"""``synth eval text-edit``: a model's predictions scored on a TextEdit-layout benchmark, ours or
the released one, on Ray across every core and resumable (``synth.evaluate.units``).

Predictions are either a folder laid out as TextEdit's evaluator reads it,
``{pred}/{cat}/{basename of original_image}``, or a run folder of our schema (``synth sample
--mode edit`` of a text-edit run): its rows are found by ``sample_id``, which our exports keep
on every benchmark row (their image names are the first 20 characters of it). The rows of one
edit share its images and stay in one unit, so each image is read by OCR once.
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from pipelines.text_edit.bench import read_bench
from synth.evaluate.text_edit import summarize
from synth.evaluate.text_edit_rows import Pair, read_pair, score_sample
from synth.evaluate.units import EvalError, EvalUnit, open_work, plan_by_groups, run_units, stamps
from synth.identity import digest
from synth.imageio import decode_image
from synth.ocr import OcrConfig, make_ocr
from synth.writer import OutputDir

log = logging.getLogger(__name__)

METRICS = ("oa", "op", "or", "f1", "ned", "placed", "correctness_ned", "preservation_psnr")
METRICS_VERSION = 1
UNIT_ROWS = 4  # at least: an edit's rows stay together


def _inside(root: Path, rel: str) -> bool:
    """A benchmark file's image path stays inside the benchmark folder (jsonl files are input, not
    trusted: ``../../etc/passwd`` is refused)."""
    base = root.resolve()
    return (base / rel).resolve().is_relative_to(base)


def is_run_folder(pred: str) -> bool:
    return OutputDir(pred).exists("run.json")


def run_index(pred: str) -> dict[str, tuple[str, int]]:
    """sample_id -> (shard, row) over the kept rows of a run folder, from the id column alone."""
    from synth.inputs import run_shards

    index: dict[str, tuple[str, int]] = {}
    for shard in run_shards([pred]):
        ids = pq.read_table(shard, columns=["sample_id"]).column("sample_id").to_pylist()
        for k, sid in enumerate(ids):
            index.setdefault(sid, (shard, k))
    return index


def locate(rows: list[dict[str, Any]], bench: str, pred: str) -> tuple[list, list[str], list[str]]:
    """(rows with where their prediction is, missing predictions, rejected rows): a located row is
    ``(row, ("file", path))`` or ``(row, ("run", shard, row index))``."""
    root = Path(bench)
    located, missing, rejected = [], [], []
    index = run_index(pred) if is_run_folder(pred) else None
    if index is not None and rows and not any("sample_id" in r for r in rows):
        raise EvalError(
            f"--pred {pred} is a run folder, but the benchmark rows carry no sample_id: a run folder "
            "can only be scored against our own exports (synth text-edit export); give the released "
            "benchmark's predictions as {pred}/{category}/{image name}"
        )
    for row in rows:
        if not all(_inside(root, row.get(k)) for k in ("original_image", "mask_image") if row.get(k)):
            rejected.append(f"id {row.get('id')}: image path outside the benchmark folder")
            continue
        if index is not None:
            where = index.get(row.get("sample_id"))
            if where is None:
                missing.append(f"{pred}: sample_id {row.get('sample_id')}")
                continue
            located.append((row, ("run", *where)))
            continue
        path = Path(pred) / row["category"] / Path(row["original_image"]).name  # TextEdit's layout
        if not path.exists():
            missing.append(str(path))
            continue
        located.append((row, ("file", str(path))))
    return located, missing, rejected


def bench_digest(bench: str) -> str:
    """The benchmark's row files (``*.jsonl``, ``categories.json``) by content."""
    files = sorted(Path(bench).glob("*.json*"))
    return digest([[f.name, hashlib.sha256(f.read_bytes()).hexdigest()] for f in files])


def _group_key(item) -> tuple:
    row, where = item
    return row["original_image"], where


def plan(located: list, unit_rows: int) -> list[EvalUnit]:
    groups: list[list] = []
    for item in located:
        if groups and _group_key(groups[-1][-1]) == _group_key(item):
            groups[-1].append(item)
        else:
            groups.append([item])
    return plan_by_groups(groups, unit_rows)


class TextEditScorer:
    """Scores benchmark rows against their predictions; ``setup`` starts the OCR engine once."""

    def __init__(self, bench: str, ocr_cfg: OcrConfig):
        self.bench, self.ocr_cfg = bench, ocr_cfg

    def setup(self) -> None:
        self.ocr = make_ocr(self.ocr_cfg)

    def score_unit(self, unit: EvalUnit) -> list[dict[str, Any]]:
        root = Path(self.bench)
        pairs: dict[tuple, Pair] = {}
        out = []
        for row, where in unit.items:
            mask = None
            if row.get("mask_image") and (root / row["mask_image"]).exists():
                mask = np.asarray(
                    Image.open(io.BytesIO((root / row["mask_image"]).read_bytes())).convert("L")
                )
            key = (row["original_image"], where)
            try:
                if key not in pairs:  # rows of one edit are adjacent
                    original = decode_image((root / row["original_image"]).read_bytes())
                    pairs = {key: read_pair(original, decode_image(_prediction(where)), self.ocr)}
                scores = score_sample(row, pairs[key], self.ocr, mask)
            except Exception as e:  # noqa: BLE001 - one unreadable prediction scores zero, with the reason
                log.warning("cannot score %s: %s", where[1], e)
                scores = {"oa": 0.0, "op": 0.0, "or": 0.0, "f1": 0.0, "ned": 0.0, "error": str(e)}
            out.append({"id": row["id"], "category": row["category"], "operation": row["operation"],
                        "scene": row["scene"], "rows": row_kind(row), **scores})  # fmt: skip
        return out


def _prediction(where: tuple) -> bytes:
    if where[0] == "file":
        return Path(where[1]).read_bytes()
    _, shard, k = where
    from synth.inputs import open_file, row_range

    with open_file(shard) as f:
        cell = row_range(pq.ParquetFile(f), k, k + 1, ["target_image"]).column(0)[0].as_py()
    if not cell or not cell.get("bytes"):
        raise ValueError(f"row {k} of {shard} has no target_image")
    return cell["bytes"]


def evaluate(
    bench: str,
    pred: str,
    ocr_cfg: OcrConfig | None = None,
    progress: bool = True,
    *,
    workers: int | None = None,
    address: str | None = None,
    work: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Score the predictions under ``pred`` (a folder or a run folder) against the benchmark at
    ``bench``. ``workers``: Ray actors (None = every free CPU, 0 = this process); units are
    committed under ``work`` (default: the user's cache, keyed by what is scored), so the same call
    after an interruption scores only what is left. The figures do not depend on the workers."""
    ocr_cfg = ocr_cfg or OcrConfig()
    located, missing, rejected = locate(read_bench(bench), bench, pred)
    units = plan(located, UNIT_ROWS)
    key = digest(
        "text-edit", METRICS_VERSION, bench_digest(bench), stamps([where[1] for _, where in located]),
        ocr_cfg.model_dump(exclude={"threads", "rec_batch"}), UNIT_ROWS,
    )  # fmt: skip
    samples: list[dict[str, Any]] = []
    runtime: dict[str, Any] = {"units": 0, "units_run": 0, "workers": 0}
    if units:
        from synth.evaluate.generation import default_work

        work_dir = OutputDir(work or default_work(None, key))
        open_work(work_dir, key, {"bench": str(bench), "pred": str(pred)}, units, overwrite)
        samples, runtime = run_units(
            TextEditScorer(str(bench), ocr_cfg), units, work_dir, key, workers=workers, address=address,
            progress=progress, desc="eval text-edit",
        )  # fmt: skip
        runtime["work"] = work_dir.uri
    return {
        "bench": str(bench),
        "pred": str(pred),
        "ocr": ocr_cfg.backend,
        "scored": len(samples),
        "missing": len(missing),
        "missing_examples": missing[:5],
        "rejected_rows": rejected,
        "summary": summarize(samples, METRICS, "scene"),
        "by_operation": {k: v for k, v in summarize(samples, METRICS, "operation").items() if k != "all"},
        "by_rows": {k: v for k, v in summarize(samples, METRICS, "rows").items() if k not in ("all", "None")},
        "samples": samples,
        "runtime": runtime,
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
