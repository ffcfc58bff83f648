"""The stages of ``synth chemistry``: the shared diagram stages over the chemistry kinds."""

from __future__ import annotations

from pipelines.chemistry.config import ChemistryConfig
from pipelines.chemistry.kinds import KINDS
from pipelines.diagram.stages import build_stages as diagram_stages
from synth.stage import Stage


def build_stages(cfg: ChemistryConfig) -> list[Stage]:
    return diagram_stages(cfg, KINDS, "chemistry")
