"""``synth rewrite``: several natural phrasings of each edit row's instruction, by any
OpenAI-compatible server; a phrasing that loses a quoted text, a number or an object the edit
names is dropped, and a row left with none is rejected."""

from typing import Any

from pipelines.rewrite.config import RewriteConfig
from pipelines.rewrite.stages import build_stages
from synth.inputs import plan_run_inputs, reopened_rows
from synth.llm import LlmClient
from synth.pipeline import Pipeline, RunIdentity, Unit
from synth.stage import Row


def plan_inputs(cfg: RewriteConfig) -> tuple[list[Unit], dict[str, Any]]:
    LlmClient(cfg.llm).connect()
    return plan_run_inputs(cfg.inputs, cfg.runtime.unit_size)


def rows(cfg: RewriteConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    return reopened_rows(unit)


PIPELINE = Pipeline(
    name="rewrite",
    domain="any",
    summary="Rewrite edit instructions of earlier outputs into several natural phrasings that keep every quoted "
    "text, number and named object exactly.",
    config_model=RewriteConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_inputs,
    needs_llm=True,
)
