"""``synth caption``: concise, dense and human-centric captions of earlier outputs' images from a
VLM served behind any OpenAI-compatible endpoint (images sent as data URIs)."""

from pipelines.caption.config import CaptionConfig
from pipelines.caption.stages import build_stages
from synth.llm_stage import plan_transform, transform_rows
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="caption",
    domain="any",
    summary="Caption the images of earlier outputs with a VLM: concise, dense, and human-centric when people are present.",
    config_model=CaptionConfig,
    build_stages=build_stages,
    source=transform_rows,
    plan_inputs=plan_transform,
    needs_llm=True,
)
