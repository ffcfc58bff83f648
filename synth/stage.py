"""The stage contract: config in ``__init__``, models in ``setup()``, work in ``process_batch()``.

Stages know nothing of Ray: the runner moves them to workers (pickled), calls ``setup()`` once per
worker, then feeds them batches of rows. Rows are plain dicts in the sample schema, plus working
keys that start with ``_`` (decoded images, intermediate arrays) which the writer drops.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
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
    #: Bookkeeping (dropping working data): runs with the stage before it, never on a pool of its own.
    light: ClassVar[bool] = False
    #: The reason code a row gets when this stage raises an unexpected error on it.
    error_reason: ClassVar[str] = "io_error"
    #: Units one worker may run at once, in threads (more than 1 only where the stage's calls are
    #: thread-safe): an LLM stage takes its next unit while the last answers of one are coming.
    units_in_flight: int = 1
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

    def submit_batch(self, rows: list[Row]) -> Callable[[], None] | None:
        """Start the work on live rows; return what finishes it, or None when it is done. A stage
        that waits on a service (an LLM server) sends the batch's requests here and returns a
        callable that waits for the answers and applies them: the runner submits the next batches
        before it collects this one, so a unit's requests are in flight together, not a batch at a
        time. The default does the work now."""
        self.process_batch(rows)
        return None

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


#: A batch waiting on a stage: (its rows, the stage's index, the rows submitted, what finishes it).
_Waiting = tuple[list[Row], int, list[Row], Callable[[], None]]


def run_stages(
    stages: list[Stage], rows: list[Row], batch_size: int, seconds: Counter | None = None
) -> list[Row]:
    """Push rows through the stages a batch at a time, in row order. A batch goes through every
    stage before the next batch starts (so working data such as decoded images lives for one
    batch only), except at a stage whose ``submit_batch`` hands back work in progress: the batch
    waits there while the next batches start, and waiting batches are collected first in, first
    out, then go on through the rest of the stages. One bad row never fails its batch: when a
    stage raises on a batch, the batch is retried row by row and only the failing rows are
    marked. ``seconds`` gathers each stage's time (a waiting stage's includes the wait)."""
    seconds = Counter() if seconds is None else seconds
    waiting: deque[_Waiting] = deque()
    for i in range(0, len(rows), batch_size):
        _advance(stages, rows[i : i + batch_size], 0, waiting, seconds)
    while waiting:
        batch, k, live, finish = waiting.popleft()
        t0 = time.perf_counter()
        try:
            finish()
        except Exception:  # noqa: BLE001 - isolate the failing row below
            _row_by_row(stages[k], live)
        seconds[stages[k].name] += time.perf_counter() - t0
        _advance(stages, batch, k + 1, waiting, seconds)
    for row in rows:
        if row.get("status") is None:
            row["status"] = str(Status.KEPT)
    return rows


def _advance(
    stages: list[Stage], batch: list[Row], start: int, waiting: deque[_Waiting], seconds: Counter
) -> None:
    """Take a batch through ``stages[start:]`` until a stage leaves it waiting (queued) or no row is open."""
    for k in range(start, len(stages)):
        stage = stages[k]
        live = [r for r in batch if is_open(r)]
        if not live:
            return
        t0 = time.perf_counter()
        try:
            finish = stage.submit_batch(live)
        except Exception:  # noqa: BLE001 - isolate the failing row below
            _row_by_row(stage, live)
            finish = None
        seconds[stage.name] += time.perf_counter() - t0
        if finish is not None:
            waiting.append((batch, k, live, finish))
            return


def _row_by_row(stage: Stage, rows: list[Row]) -> None:
    for row in rows:
        try:
            stage.process_batch([row])
        except Exception as e:  # noqa: BLE001 - a row error is data
            log.debug("stage %s failed on %s", stage.name, row.get("sample_id"), exc_info=True)
            mark(row, stage.error_reason, f"{stage.name}: {type(e).__name__}: {e}")


class FlowError(ValueError):
    """A stage reads a column or working key that nothing before it writes."""


def check_flow(stages: list[Stage], provided: Iterable[str], source: str = "the source") -> None:
    """Walk the stages in order: each name a stage ``reads`` must be in ``provided`` (what the
    source gives every row) or in the ``writes`` of a stage before it, else :class:`FlowError`
    naming the stage and the name. A dotted name (``scores.aesthetic``) is part of its column: a
    write of either provides it, and a read of the column is met by a write of any part."""
    available = set(provided)
    for i, stage in enumerate(stages):
        for name in stage.reads:
            column = name.split(".", 1)[0]
            if name in available or column in available or any(a.split(".", 1)[0] == name for a in available):
                continue
            before = ", ".join(repr(s.name) for s in stages[:i]) or "none"
            raise FlowError(
                f"stage {stage.name!r} reads {name!r}, which neither {source} nor an earlier stage "
                f"({before}) writes; declare it in that stage's writes, or add the stage that makes it"
            )
        available.update(stage.writes)
