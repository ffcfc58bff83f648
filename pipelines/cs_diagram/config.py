"""Typed config of ``synth cs-diagram`` (defaults in configs/cs_diagram.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.diagram.config import DiagramConfig

KindName = Literal[
    "bst", "heap", "linked_list", "stack", "queue", "array", "graph_bfs", "graph_dfs", "graph_path",
    "dfa", "nfa", "flowchart", "bar_chart", "line_chart", "pie_chart", "scatter_chart",
]  # fmt: skip
ALL_KINDS: tuple[str, ...] = KindName.__args__


class CsDiagramConfig(DiagramConfig):
    pipeline: Literal["cs_diagram"] = "cs_diagram"
    kinds: list[KindName] = Field(
        default_factory=lambda: list(ALL_KINDS), description="structures to draw, equally often"
    )
