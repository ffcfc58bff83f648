"""``synth curate``: decode, measure and score real images on Ray, then keep or reject each with a
reason: resolution, exact and near duplicates, NSFW, watermark and aesthetic filters."""

from __future__ import annotations

from typing import Any

from pipelines.curate.config import CurateConfig
from pipelines.curate.finalize import WORK_DIR, WORK_SCHEMA, finalize
from pipelines.curate.stages import build_stages, source_rows
from synth.identity import file_digest
from synth.inputs import InputError
from synth.inputs import plan_inputs as plan_input_files
from synth.models import ModelSetupError
from synth.pipeline import Pipeline, Unit


def plan_inputs(cfg: CurateConfig) -> tuple[list[Unit], dict[str, Any]]:
    if not cfg.inputs:
        raise InputError("nothing to curate: give --input (a folder, .parquet shards or .tar shards)")
    return plan_input_files(cfg.inputs, cfg.image_column, cfg.runtime.unit_size)


def describe(cfg: CurateConfig) -> dict[str, Any]:
    """Which model filters are on, and the sha256 of each weight file (so a changed file shows)."""
    weights = {}
    for name, path in cfg.weight_files().items():
        try:
            weights[name] = {"path": path, "sha256": file_digest(path)}
        except OSError as e:
            raise ModelSetupError(
                f"{name} weights: cannot read {path} ({e.strerror}); see README 'Model weights'"
            ) from None
    return {"filters": cfg.model_filters(), "weights": weights}


PIPELINE = Pipeline(
    name="curate",
    domain="image",
    summary="Curate real images: decode and resolution checks, exact and near duplicates, NSFW, watermark and aesthetic filters.",
    config_model=CurateConfig,
    build_stages=build_stages,
    source=source_rows,
    plan_inputs=plan_inputs,
    inputs_required=True,
    finalize=finalize,
    work_schema=WORK_SCHEMA,
    work_dir=WORK_DIR,
    describe=describe,
)
