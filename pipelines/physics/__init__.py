"""``synth physics``: mechanics, circuits, optics and field figures generated as SVG from
parametric scenes, as text-to-image rows, verified edit pairs and questions with computed answers;
or, with ``--documents``, figures an LLM writes as SVG for pages of physics problems."""

from typing import Any

from pipelines.diagram.stages import DECISION
from pipelines.physics.config import PhysicsConfig
from pipelines.physics.documents import SOURCE_KEYS, document_rows
from pipelines.physics.stages import build_stages
from synth.inputs import plan_inputs as plan_input_files
from synth.llm import LlmClient
from synth.pipeline import GENERATED_KEYS, Pipeline, RunIdentity, Unit, generated_rows
from synth.stage import Row


def plan_inputs(cfg: PhysicsConfig) -> tuple[list[Unit], dict[str, Any]] | None:
    """Documents plan their units from their pages (after checking the LLM answers, so a run
    without one stops here with what to do); generated scenes from ``--num`` (None here)."""
    if not cfg.documents:
        return None
    LlmClient(cfg.llm).connect()
    return plan_input_files(cfg.documents, "image", cfg.runtime.unit_size, documents=True)


def rows(cfg: PhysicsConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    return document_rows(cfg, ident, unit) if cfg.documents else generated_rows(cfg, ident, unit)


def source_keys(cfg: PhysicsConfig) -> tuple[str, ...]:
    return SOURCE_KEYS if cfg.documents else GENERATED_KEYS


PIPELINE = Pipeline(
    name="physics",
    domain="science",
    summary="Draw physics figures (mechanics, circuits, optics, fields) as SVG; edit pairs change only the edited parts. "
    "With --documents, an LLM draws the figures of pages of physics problems.",
    config_model=PhysicsConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_inputs,
    decide=DECISION,
    source_keys=source_keys,
)
