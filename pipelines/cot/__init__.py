"""``synth cot``: chain-of-thought plans (refined objective, sub-tasks, verifiable constraints,
ordered operations) for t2i and edit rows of every domain, grounded in each row's own spec and
texts, in four flavours: general, knowledge, meme, science."""

from pipelines.cot.config import CotConfig
from pipelines.cot.stages import build_stages
from synth.llm_stage import plan_transform, transform_rows
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="cot",
    domain="any",
    summary="Expand t2i and edit rows of earlier outputs into grounded chain-of-thought plans (general, knowledge, "
    "meme and science flavours), validated against each row's spec.",
    config_model=CotConfig,
    build_stages=build_stages,
    source=transform_rows,
    plan_inputs=plan_transform,
    needs_llm=True,
)
