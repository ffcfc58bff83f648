"""``synth sample``: InternVL-U over earlier outputs or a prompt file, batched on model actors:
images for t2i rows, edits of edit rows, reasoning then an image, answers to und rows."""

from pipelines.sample.config import SampleConfig
from pipelines.sample.source import pin_checkpoint, plan_sample, sample_rows
from pipelines.sample.stages import build_stages
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="sample",
    domain="any",
    summary="Sample InternVL-U on earlier outputs or a prompt file: generate, edit, reason then draw, or answer.",
    config_model=SampleConfig,
    build_stages=build_stages,
    source=sample_rows,
    plan_inputs=plan_sample,
    pin=pin_checkpoint,
    needs_model=True,
)
