"""``synth rewrite``: several natural phrasings of each edit row's instruction, by any
OpenAI-compatible server; a phrasing that loses a quoted text, a number or an object the edit
names is dropped, and a row left with none is rejected."""

from pipelines.rewrite.config import RewriteConfig
from pipelines.rewrite.stages import build_stages
from synth.llm_stage import plan_transform, transform_rows
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="rewrite",
    domain="any",
    summary="Rewrite edit instructions of earlier outputs into several natural phrasings that keep every quoted "
    "text, number and named object exactly.",
    config_model=RewriteConfig,
    build_stages=build_stages,
    source=transform_rows,
    plan_inputs=plan_transform,
    needs_llm=True,
)
