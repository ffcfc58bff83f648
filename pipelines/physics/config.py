"""Typed config of ``synth physics`` (defaults in configs/physics.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from pipelines.diagram import RenderConfig, Thresholds, VerifyConfig
from pipelines.text_render.config import _weights
from synth.config import PipelineConfig

KindName = Literal[
    "incline",
    "pulley",
    "spring",
    "projectile",
    "series_circuit",
    "parallel_circuit",
    "lens",
    "refraction",
    "charges",
    "magnet",
]
ALL_KINDS: tuple[str, ...] = KindName.__args__
Task = Literal["t2i", "edit", "und"]


class PhysicsConfig(PipelineConfig):
    pipeline: Literal["physics"] = "physics"
    kinds: list[KindName] = Field(
        default_factory=lambda: list(ALL_KINDS), description="figures to draw, equally often"
    )
    tasks: dict[Task, float] = Field(default_factory=lambda: {"t2i": 1.0, "edit": 2.0, "und": 1.0})
    render: RenderConfig = RenderConfig()
    verify: VerifyConfig = VerifyConfig()
    thresholds: Thresholds = Thresholds()

    _check = field_validator("tasks")(_weights)

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(f"name at least one kind: {', '.join(ALL_KINDS)}")
        return sorted(set(v), key=v.index)
