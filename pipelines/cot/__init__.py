"""``synth cot``: chain-of-thought plans (refined objective, sub-tasks, verifiable constraints,
ordered operations) for t2i and edit rows of every domain, grounded in each row's own spec and
texts, in four flavours: general, knowledge, meme, science."""

from typing import Any

from pipelines.cot.config import CotConfig
from pipelines.cot.stages import build_stages
from synth.inputs import plan_run_inputs, reopened_rows
from synth.llm import LlmClient
from synth.pipeline import Pipeline, RunIdentity, Unit
from synth.stage import Row


def plan_inputs(cfg: CotConfig) -> tuple[list[Unit], dict[str, Any]]:
    LlmClient(cfg.llm).connect()
    return plan_run_inputs(cfg.inputs, cfg.runtime.unit_size)


def rows(cfg: CotConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    return reopened_rows(unit)


PIPELINE = Pipeline(
    name="cot",
    domain="any",
    summary="Expand t2i and edit rows of earlier outputs into grounded chain-of-thought plans (general, knowledge, "
    "meme and science flavours), validated against each row's spec.",
    config_model=CotConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_inputs,
    needs_llm=True,
)
