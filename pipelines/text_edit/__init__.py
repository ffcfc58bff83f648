"""``synth text-edit``: (source image, instruction, target image) triplets of eleven text-edit
operations on rendered scenes, or of real photos' own text with ``--input``, each verified for
correctness, removal and preservation."""

from typing import Any

from pipelines.text_edit.config import TextEditConfig
from pipelines.text_edit.real import SOURCE_KEYS, source_rows
from pipelines.text_edit.stages import DECISION, build_stages
from pipelines.text_render.config import pin_fonts
from synth.inputs import plan_inputs as plan_input_files
from synth.pipeline import GENERATED_KEYS, Pipeline, RunIdentity, Unit, generated_rows
from synth.stage import Row


def plan_inputs(cfg: TextEditConfig) -> tuple[list[Unit], dict[str, Any]] | None:
    """Real scenes plan their units from ``--input``; virtual ones from ``--num`` (None here)."""
    if not cfg.inputs:
        return None
    return plan_input_files(cfg.inputs, cfg.image_column, cfg.runtime.unit_size)


def rows(cfg: TextEditConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    return source_rows(cfg, ident, unit) if cfg.inputs else generated_rows(cfg, ident, unit)


def source_keys(cfg: TextEditConfig) -> tuple[str, ...]:
    return SOURCE_KEYS if cfg.inputs else GENERATED_KEYS


PIPELINE = Pipeline(
    name="text_edit",
    domain="text",
    summary="Text-editing triplets (source, instruction, target) of eleven operations on rendered scenes, "
    "English and Chinese, each verified by OCR and pixel checks.",
    config_model=TextEditConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_inputs,
    decide=DECISION,
    source_keys=source_keys,
    pin=pin_fonts,
)
