"""``synth translate``: English <-> Chinese for the instructions and captions of rows we wrote
before, by any OpenAI-compatible server, with every text drawn in the image kept verbatim."""

from typing import Any

from pipelines.translate.config import TranslateConfig
from pipelines.translate.stages import build_stages
from synth.inputs import plan_run_inputs, reopened_rows
from synth.llm import LlmClient
from synth.pipeline import Pipeline, RunIdentity, Unit
from synth.stage import Row


def plan_inputs(cfg: TranslateConfig) -> tuple[list[Unit], dict[str, Any]]:
    """Units over the input rows, after checking the LLM answers (a run without one stops here)."""
    LlmClient(cfg.llm).connect()
    return plan_run_inputs(cfg.inputs, cfg.runtime.unit_size)


def rows(cfg: TranslateConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    return reopened_rows(unit)


PIPELINE = Pipeline(
    name="translate",
    domain="any",
    summary="Translate instructions and captions of earlier outputs between English and Chinese; texts drawn in the "
    "image stay verbatim (rows that break one are rejected translation_mismatch).",
    config_model=TranslateConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_inputs,
    needs_llm=True,
)
