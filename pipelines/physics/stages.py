"""The stages of ``synth physics``: the shared diagram stages over the physics figure kinds, or
for ``--documents`` read the page, ask the LLM for SVG, render it safely, then the same verify."""

from __future__ import annotations

from pipelines.diagram.stages import DECISION, VerifyDiagram
from pipelines.diagram.stages import build_stages as diagram_stages
from pipelines.physics.config import PhysicsConfig
from pipelines.physics.documents import ReadPage, RenderDocumentSvg, WriteSvg
from pipelines.physics.kinds import KINDS
from synth.decision import Decide
from synth.stage import Stage


def build_stages(cfg: PhysicsConfig) -> list[Stage]:
    if cfg.documents:
        return [
            ReadPage(cfg),
            WriteSvg(cfg),
            RenderDocumentSvg(cfg),
            VerifyDiagram(cfg.verify.ocr),
            Decide(DECISION, cfg.thresholds),
        ]
    return diagram_stages(cfg, KINDS, "physics")
