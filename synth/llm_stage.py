"""What a stage that asks the LLM is made of, on top of the client (``synth/llm.py``): it says what
to ask for its rows (``ask``) and what an answer does to a row (``apply``); the requests of a
unit's batches stream out while earlier answers come, and a worker holds enough units to keep
``llm.concurrency`` requests in flight through the units' tails. Also the config, planning and
source that the transform pipelines (caption, translate, rewrite, cot) share."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import Field

from synth.config import PipelineConfig, RuntimeConfig
from synth.llm import RUNTIME_KEYS, Answer, Failure, LlmClient, LlmConfig, Request
from synth.schema import meta_of
from synth.stage import Row, mark

log = logging.getLogger(__name__)


class LlmTransformConfig(PipelineConfig):
    """What every LLM transform pipeline (caption, translate, rewrite, cot) takes: earlier outputs
    as inputs, and a server whose transport keys stay out of both hashes."""

    inputs: list[str] = Field(
        default_factory=list, description="run folders (their kept rows) or .parquet shards of our schema"
    )
    llm: LlmConfig = LlmConfig()
    # Small batches: requests stream across batches (up to llm.concurrency in flight), so the batch
    # only sets how soon the first requests go out and how often answers are applied.
    runtime: RuntimeConfig = RuntimeConfig(batch_size=8)

    runtime_keys: ClassVar[tuple[str, ...]] = RUNTIME_KEYS


def record_answer(row: dict[str, Any], key: str, model: str | None, answer: Answer, **extra: Any) -> None:
    """Put what an answer cost (model, tokens, cost) and ``extra`` under ``meta[key]`` of a row,
    whether its meta is still a dict or came back from Parquet as JSON text."""
    meta = dict(meta_of(row))
    meta[key] = {
        **extra,
        "model": model,
        "tokens_in": answer.tokens_in,
        "tokens_out": answer.tokens_out,
        "cost": answer.cost,
    }
    row["meta"] = meta


#: What a stage asks for one row: (the row, its request, what ``apply`` needs besides the answer).
Job = tuple[Row, Request, Any]


class LlmStage:
    """Mixin for a stage that asks the LLM: one client per worker (connected at setup, so a dead
    server fails the run before work), its counts reported per unit into ``run.json``.

    A subclass says what to ask (``ask``) and what an answer does to its row (``apply``). The
    batch's requests go out in ``submit_batch`` and the answers are applied when the runner
    collects it, so the requests of a unit's later batches are already in flight meanwhile."""

    keeps_model = True
    error_reason = "llm_error"
    name: ClassVar[str]
    llm_cfg: LlmConfig

    def setup(self) -> None:
        self.client = LlmClient(self.llm_cfg)
        self.client.connect()

    @property
    def units_in_flight(self) -> int:
        """Units a worker holds at once: the oldest, enough later ones to hold ``llm.retries + 1``
        rounds of ``llm.concurrency`` first asks, and one more being read or committed. A unit's
        last rows may need every sample, one after another (a retry waits for the answer before
        it), so its tail lasts up to that many answer times; the later units' first asks keep the
        slots full meanwhile. With fewer (twice the units that fill the slots, plus one) the units
        that started together finished their tails together, and the requests in flight fell to
        none before the next unit started. The client's slots still bound the requests; the extra
        units are only rows waiting. Its counts are per thread, so per unit."""
        if type(self).ask is LlmStage.ask and type(self).submit_batch is LlmStage.submit_batch:
            return 1  # a stage of its own process_batch: maybe not thread-safe
        rounds = (self.llm_cfg.retries + 1) * self.llm_cfg.concurrency
        return -(-rounds // max(1, self.requests_per_unit)) + 2

    @property
    def requests_per_unit(self) -> int:
        """Requests one unit sends: a request per row unless the stage shares them."""
        return self.cfg.runtime.unit_size if hasattr(self, "cfg") else self.llm_cfg.concurrency

    def ask(self, rows: list[Row]) -> list[Job]:
        """The requests for live rows (rows with nothing to ask are left as they are, or marked)."""
        raise NotImplementedError

    def apply(self, row: Row, got: Answer, context: Any) -> None:
        """Put one answer into its row (a request that failed marks its row before this)."""
        raise NotImplementedError

    def submit_batch(self, rows: list[Row]) -> Callable[[], None] | None:
        if type(self).ask is LlmStage.ask:  # a stage with its own process_batch: done now
            if type(self).process_batch is LlmStage.process_batch:
                raise NotImplementedError(f"{type(self).__name__} defines neither ask nor process_batch")
            self.process_batch(rows)
            return None
        jobs = self.ask(rows)
        futures = self.client.submit([req for _, req, _ in jobs])

        def collect() -> None:
            for (row, _, context), future in zip(jobs, futures, strict=True):
                try:
                    got = future.result()
                    if isinstance(got, Failure):
                        mark(row, got.reason, got.detail)
                        continue
                    self.apply(row, got, context)
                except Exception as e:  # noqa: BLE001 - one row's answer never fails its batch
                    log.debug("stage %s failed on %s", self.name, row.get("sample_id"), exc_info=True)
                    mark(row, self.error_reason, f"{self.name}: {type(e).__name__}: {e}")

        return collect

    def process_batch(self, rows: list[Row]) -> list[Row]:
        finish = self.submit_batch(rows)
        if finish is not None:
            finish()
        return rows

    def take_stats(self) -> dict[str, dict[str, int]]:
        return {"llm": self.client.take_counts()} if hasattr(self, "client") else {}


def plan_transform(cfg: LlmTransformConfig) -> tuple[list, dict]:
    """``plan_inputs`` of the LLM transform pipelines (caption, translate, rewrite, cot): check the
    server answers (a run without one stops here, saying how to provide one), then plan units over
    the rows of the earlier outputs given as ``--input``."""
    from synth.inputs import plan_run_inputs

    LlmClient(cfg.llm).connect()
    return plan_run_inputs(cfg.inputs, cfg.runtime.unit_size)


def transform_rows(cfg: LlmTransformConfig, ident: Any, unit: Any) -> list[dict[str, Any]]:
    """``source`` of the LLM transform pipelines: the input rows, same sample ids, reopened."""
    from synth.inputs import reopened_rows

    return reopened_rows(unit)
