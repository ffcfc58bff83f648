"""Typed config of ``synth biology`` (defaults in configs/biology.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.diagram.config import DiagramConfig

KindName = Literal[
    "punnett", "pedigree", "central_dogma", "food_web", "phylogeny", "enzyme_kinetics", "population_growth",
]  # fmt: skip
ALL_KINDS: tuple[str, ...] = KindName.__args__


class BiologyConfig(DiagramConfig):
    pipeline: Literal["biology"] = "biology"
    kinds: list[KindName] = Field(
        default_factory=lambda: list(ALL_KINDS), description="figures to draw, equally often"
    )
