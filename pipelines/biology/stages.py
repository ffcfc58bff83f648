"""The stages of ``synth biology``: the shared diagram stages over the biology kinds."""

from __future__ import annotations

from pipelines.biology.config import BiologyConfig
from pipelines.biology.kinds import KINDS
from pipelines.diagram.stages import build_stages as diagram_stages
from synth.stage import Stage


def build_stages(cfg: BiologyConfig) -> list[Stage]:
    return diagram_stages(cfg, KINDS, "biology")
