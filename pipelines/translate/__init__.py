"""``synth translate``: English <-> Chinese for the instructions and captions of rows we wrote
before, by any OpenAI-compatible server, with every text drawn in the image kept verbatim."""

from pipelines.translate.config import TranslateConfig
from pipelines.translate.stages import build_stages
from synth.llm_stage import plan_transform, transform_rows
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="translate",
    domain="any",
    summary="Translate instructions and captions of earlier outputs between English and Chinese; texts drawn in the "
    "image stay verbatim (rows that break one are rejected translation_mismatch).",
    config_model=TranslateConfig,
    build_stages=build_stages,
    source=transform_rows,
    plan_inputs=plan_transform,
    needs_llm=True,
)
