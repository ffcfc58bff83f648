"""The stages of ``synth physics``: the shared diagram stages over the physics figure kinds."""

from __future__ import annotations

from pipelines.diagram import build_stages as diagram_stages
from pipelines.physics.config import PhysicsConfig
from pipelines.physics.kinds import KINDS
from synth.stage import Stage


def build_stages(cfg: PhysicsConfig) -> list[Stage]:
    return diagram_stages(cfg, KINDS, "physics")
