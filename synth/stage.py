"""The stage contract: config in ``__init__``, models in ``setup()``, work in ``process_batch()``.

Stages know nothing of Ray: the runner moves them to workers (pickled), calls ``setup()`` once per
worker, then feeds them batches of rows. Rows are plain dicts in the sample schema, plus working
keys that start with ``_`` (decoded images, intermediate arrays) which the writer drops.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from synth.reasons import Status, status_of

log = logging.getLogger(__name__)

Row = dict[str, Any]


@dataclass(frozen=True)
class Resources:
    cpus: float = 1.0
    gpus: float = 0.0


class Stage:
    """Base class. Subclasses set ``name``, what they read and write, and override the hooks."""

    name: ClassVar[str] = "stage"
    resources: ClassVar[Resources] = Resources()
    #: A stage with a model to keep loaded runs its units on an actor pool instead of tasks.
    keeps_model: ClassVar[bool] = False
    #: The reason code a row gets when this stage raises an unexpected error on it.
    error_reason: ClassVar[str] = "io_error"
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()

    def setup(self) -> None:
        """Load models, fonts, OCR engines: once per worker, never in ``__init__``."""

    def process_batch(self, rows: list[Row]) -> list[Row]:
        """Transform live rows (status still open). Return the same rows, updated. When a batch
        raises, the runner retries it row by row, so a row may be processed twice: keep this
        idempotent per row."""
        return [self.process_row(r) for r in rows]

    def process_row(self, row: Row) -> Row:
        raise NotImplementedError

    def take_stats(self) -> dict[str, dict[str, int]]:
        """Counters since the last call, by family (``{"llm": {"requests_sent": 3, ...}}``): the
        runner records them per unit and the report sums them into ``run.json``."""
        return {}


def is_open(row: Row) -> bool:
    """A row no stage has rejected or errored yet."""
    return row.get("status") in (None, Status.KEPT)


def mark(row: Row, reason: str, detail: str) -> Row:
    """Reject or error a row with a reason code; the status follows from the code."""
    row["status"] = str(status_of(reason))
    row["reason"] = reason
    row["detail"] = detail[:500]
    return row


def run_stages(
    stages: list[Stage], rows: list[Row], batch_size: int, seconds: Counter | None = None
) -> list[Row]:
    """Push rows through the stages one batch at a time (a batch goes through every stage before
    the next starts, so working data such as decoded images lives for one batch only). One bad row
    never fails its batch: when a stage raises on a batch, the batch is retried row by row and
    only the failing rows are marked."""
    for i in range(0, len(rows), batch_size):
        for stage in stages:
            batch = [r for r in rows[i : i + batch_size] if is_open(r)]
            if not batch:
                break
            t0 = time.perf_counter()
            try:
                stage.process_batch(batch)
            except Exception:  # noqa: BLE001 - isolate the failing row below
                for row in batch:
                    try:
                        stage.process_batch([row])
                    except Exception as e:  # noqa: BLE001 - a row error is data
                        log.debug("stage %s failed on %s", stage.name, row.get("sample_id"), exc_info=True)
                        mark(row, stage.error_reason, f"{stage.name}: {type(e).__name__}: {e}")
            if seconds is not None:
                seconds[stage.name] += time.perf_counter() - t0
    for row in rows:
        if row.get("status") is None:
            row["status"] = str(Status.KEPT)
    return rows
