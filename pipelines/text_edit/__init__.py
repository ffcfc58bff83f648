"""``synth text-edit``: (source image, instruction, target image) triplets of eleven text-edit
operations, each verified for correctness, removal and preservation."""

from pipelines.text_edit.config import TextEditConfig
from pipelines.text_edit.stages import build_stages
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="text_edit",
    domain="text",
    summary="Text-editing triplets (source, instruction, target) of eleven operations on rendered scenes, "
    "English and Chinese, each verified by OCR and pixel checks.",
    config_model=TextEditConfig,
    build_stages=build_stages,
)
