"""Decisions from stored scores. A generator's verdict on a row is one pure function of what the
row stores (its ``scores``, its ``meta``) and the config's ``thresholds``: the :class:`Decide`
stage at the end of a unit applies it, and ``--rethreshold`` applies it again to the committed
units (:func:`redecide`), rewriting only the units whose rows change. No renderer, model or OCR
runs again, and a re-decided output equals a fresh run with the new thresholds.

Only rows whose outcome was this decision are re-decided: kept rows, and rows rejected with one
of the decision's own reason codes. A row that failed earlier (``render_error``, a decode error,
an ``error`` row) stays as it is whatever the thresholds say.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from synth.pipeline import Pipeline, RunIdentity, Unit
from synth.reasons import Status
from synth.schema import scores_of
from synth.stage import Row, Stage, mark
from synth.writer import OutputDir, commit_unit, read_manifest

if TYPE_CHECKING:
    from synth.config import PipelineConfig

log = logging.getLogger(__name__)

#: (reason code, detail) of a rejection; None keeps the row.
Verdict = tuple[str, str] | None
#: The image columns: a decision never reads them, so checking a unit leaves them on disk.
IMAGE_COLUMNS = ("source_image", "target_image", "aux_images")
#: Manifest keys that :func:`synth.writer.commit_unit` writes itself; the rest is carried over.
_COMMIT_KEYS = ("unit", "data", "rejected", "counts", "reasons")
_SHARDS = ("data", "rejected")


@dataclass(frozen=True)
class Decision:
    """A domain's decision step. ``decide(scores, row, thresholds)`` returns a :data:`Verdict`
    from the row's scores and stored columns only (``row["meta"]`` may be a dict in a unit or its
    JSON text when read back: use :func:`synth.schema.meta_of`); ``reasons`` are the codes it gives; ``reads``
    the columns besides ``scores`` it looks at."""

    decide: Callable[[dict[str, float], Row, Any], Verdict]
    reasons: frozenset[str]
    reads: tuple[str, ...] = ()

    def applies_to(self, row: Row) -> bool:
        """Whether the row's outcome came from this decision (so a new threshold may change it)."""
        status = row.get("status")
        return status == Status.KEPT or (status == Status.REJECTED and row.get("reason") in self.reasons)

    def outcome(self, row: Row, thresholds: Any) -> tuple[str, str | None, str | None]:
        """(status, reason, detail) the row gets under ``thresholds``."""
        verdict = self.decide(scores_of(row), row, thresholds)
        if verdict is None:
            return str(Status.KEPT), None, None
        marked = mark({}, *verdict)
        return marked["status"], marked["reason"], marked["detail"]


class Decide(Stage):
    """The last stage of a generator: applies its :class:`Decision` to each row still open. The
    only place in a unit where ``thresholds`` are read."""

    name = "decide"

    def __init__(self, decision: Decision, thresholds: Any):
        self.decision = decision
        self.thresholds = thresholds
        self.reads = ("scores", *decision.reads)

    def process_row(self, row: Row) -> Row:
        verdict = self.decision.decide(scores_of(row), row, self.thresholds)
        return mark(row, *verdict) if verdict else row


def redecide(
    pipeline: Pipeline,
    cfg: PipelineConfig,
    out: OutputDir,
    units: list[Unit],
    progress: bool | None = None,
    threads: int = 8,
) -> tuple[dict[int, str], dict[str, int]]:
    """Re-decide committed ``units`` with ``cfg.thresholds``; returns (failed units with why, and
    counts for run.json). A unit is checked from its shards' columns without the images and is
    rewritten (both shards and then its manifest, through :func:`synth.writer.commit_unit`) only
    when a row's status, reason or detail changes; every other byte of its rows and their order
    stay as they were, so loosening the thresholds again gives back the original shards."""
    failures: dict[int, str] = {}
    stats = {"units_checked": 0, "units_rewritten": 0, "rows_changed": 0}
    if not units:
        return failures, stats
    bar = tqdm(
        total=len(units),
        unit="unit",
        desc=f"{pipeline.name}: rethreshold",
        disable=progress is False,
        dynamic_ncols=True,
    )
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(units)))) as pool:
        futures = {pool.submit(redecide_unit, pipeline, cfg, out, unit): unit for unit in units}
        for future in as_completed(futures):
            unit = futures[future]
            try:
                changed = future.result()
            except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as e:
                failures[unit.index] = f"unit {unit.index}: {type(e).__name__}: {e}"
                log.warning("re-deciding %s", failures[unit.index])
            else:
                stats["units_checked"] += 1
                stats["rows_changed"] += changed
                stats["units_rewritten"] += bool(changed)
            bar.update(1)
    bar.close()
    return dict(sorted(failures.items())), stats


def redecide_unit(pipeline: Pipeline, cfg: PipelineConfig, out: OutputDir, unit: Unit) -> int:
    """Re-decide one committed unit; returns how many rows changed (0: nothing was written)."""
    decision: Decision = pipeline.decide
    thresholds = cfg.thresholds
    manifest = read_manifest(out, unit.index)
    if manifest is None:
        raise ValueError("not committed")
    changes: dict[tuple[str, int], tuple[str, str | None, str | None]] = {}
    for folder in _SHARDS:
        for i, row in enumerate(_read(out, manifest[folder]["path"], light=True)):
            if not decision.applies_to(row):
                continue
            try:
                new = decision.outcome(row, thresholds)
            except KeyError as e:
                raise KeyError(
                    f"row {row['sample_id']} lacks {e} that the decision reads (written by an older "
                    "version?); redo it with --overwrite"
                ) from None
            if new != (row["status"], row.get("reason"), row.get("detail")):
                changes[folder, i] = new
    if not changes:
        return 0
    rows: list[Row] = []
    for folder in _SHARDS:
        for i, row in enumerate(_read(out, manifest[folder]["path"])):
            if (folder, i) in changes:
                row["status"], row["reason"], row["detail"] = changes[folder, i]
            rows.append(row)
    rows = _in_unit_order(pipeline, cfg, unit, rows)
    extra = {k: v for k, v in manifest.items() if k not in _COMMIT_KEYS}
    commit_unit(out, unit.index, rows, extra)
    return len(changes)


def _read(out: OutputDir, rel: str, light: bool = False) -> list[Row]:
    """A shard's rows (without the image columns when ``light``), read through ``pyarrow.fs``."""
    with out.fs.open_input_file(out.path(rel)) as f:
        shard = pq.ParquetFile(f)
        names = shard.schema_arrow.names
        columns = [c for c in names if c not in IMAGE_COLUMNS] if light else names
        return shard.read(columns=columns).to_pylist()


def _in_unit_order(pipeline: Pipeline, cfg: PipelineConfig, unit: Unit, rows: list[Row]) -> list[Row]:
    """The unit's rows in the order its source gave them (which the shards keep within each), so
    a rewritten unit has the bytes a fresh run with these thresholds would write. The order comes
    from the source's sample ids: computed for generated rows, read from the inputs otherwise."""
    ident = RunIdentity(pipeline.name, cfg.content_hash(), cfg.seed, cfg.split)
    position = {r["sample_id"]: i for i, r in enumerate(pipeline.rows_for(cfg, ident, unit))}
    tail = len(position)
    return sorted(rows, key=lambda r: position.get(r["sample_id"], tail))
