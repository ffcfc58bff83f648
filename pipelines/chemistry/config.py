"""Typed config of ``synth chemistry`` (defaults in configs/chemistry.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.diagram.config import DiagramConfig

KindName = Literal["molecule", "reaction"]
ALL_KINDS: tuple[str, ...] = KindName.__args__


class ChemistryConfig(DiagramConfig):
    pipeline: Literal["chemistry"] = "chemistry"
    kinds: list[KindName] = Field(
        default_factory=lambda: list(ALL_KINDS), description="figures to draw, equally often"
    )
