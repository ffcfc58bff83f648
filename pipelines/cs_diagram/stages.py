"""The stages of ``synth cs-diagram``: the shared diagram stages over the CS kinds."""

from __future__ import annotations

from pipelines.cs_diagram.config import CsDiagramConfig
from pipelines.cs_diagram.kinds import KINDS
from pipelines.diagram.stages import build_stages as diagram_stages
from synth.stage import Stage


def build_stages(cfg: CsDiagramConfig) -> list[Stage]:
    return diagram_stages(cfg, KINDS, "cs")
