"""``synth caption``: concise, dense and human-centric captions of earlier outputs' images from a
VLM served behind any OpenAI-compatible endpoint (images sent as data URIs)."""

from typing import Any

from pipelines.caption.config import CaptionConfig
from pipelines.caption.stages import build_stages
from synth.inputs import plan_run_inputs, reopened_rows
from synth.llm import LlmClient
from synth.pipeline import Pipeline, RunIdentity, Unit
from synth.stage import Row


def plan_inputs(cfg: CaptionConfig) -> tuple[list[Unit], dict[str, Any]]:
    LlmClient(cfg.llm).connect()
    return plan_run_inputs(cfg.inputs, cfg.runtime.unit_size)


def rows(cfg: CaptionConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    return reopened_rows(unit)


PIPELINE = Pipeline(
    name="caption",
    domain="any",
    summary="Caption the images of earlier outputs with a VLM: concise, dense, and human-centric when people are present.",
    config_model=CaptionConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_inputs,
    needs_llm=True,
)
