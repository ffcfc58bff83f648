"""Typed config of ``synth cs-diagram`` (defaults in configs/cs_diagram.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from pipelines.text_render.config import _weights
from synth.config import PipelineConfig, Strict
from synth.ocr import OcrConfig

KindName = Literal[
    "bst",
    "heap",
    "linked_list",
    "stack",
    "queue",
    "array",
    "graph_bfs",
    "graph_dfs",
    "graph_path",
    "dfa",
    "nfa",
    "flowchart",
    "bar_chart",
    "line_chart",
    "pie_chart",
    "scatter_chart",
]
ALL_KINDS: tuple[str, ...] = KindName.__args__
Task = Literal["t2i", "edit", "und"]


class RenderConfig(Strict):
    max_side: int = Field(768, ge=128, le=4096, description="pixels of the longer side")
    attempts: int = Field(
        6, ge=1, le=50, description="structures drawn before a row is rejected render_error"
    )
    mask_dilate: int = Field(
        3, ge=0, le=64, description="pixels the edit mask grows beyond the changed elements"
    )
    timeout_s: float = Field(20.0, gt=0, description="Graphviz's time limit per drawing")


class VerifyConfig(Strict):
    ocr: OcrConfig = OcrConfig()
    max_labels: int = Field(10, ge=0, le=100, description="labels read back by OCR per image (0 = none)")


class Thresholds(Strict):
    """The verifier's cuts (decision keys: not in the content hash)."""

    max_label_ned: float = Field(
        0.25, ge=0, le=1, description="mean normalised edit distance of the labels read"
    )
    max_changed_outside: int = Field(0, ge=0, description="pixels allowed to change outside the edit mask")


class CsDiagramConfig(PipelineConfig):
    pipeline: Literal["cs_diagram"] = "cs_diagram"
    kinds: list[KindName] = Field(
        default_factory=lambda: list(ALL_KINDS), description="structures to draw, equally often"
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
