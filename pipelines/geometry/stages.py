"""The stages of ``synth geometry``: the shared diagram stages (draw with the edit mask, verify
the labels and the locality, decide) over one kind per solid."""

from __future__ import annotations

from pipelines.diagram.stages import build_stages as diagram_stages
from pipelines.geometry.config import GeometryConfig
from pipelines.geometry.kind import SolidKind
from synth.stage import Stage


def build_stages(cfg: GeometryConfig) -> list[Stage]:
    kinds = {name: SolidKind(name, cfg) for name in cfg.solids}
    return diagram_stages(cfg, kinds, "geometry", domain="spatial")
