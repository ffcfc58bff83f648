"""Typed config of ``synth cot`` (defaults in configs/cot.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.llm import LlmConfig
from synth.llm_stage import LlmTransformConfig

Flavour = Literal["general", "knowledge", "meme", "science"]

PROMPTS: dict[str, str] = {
    "general": "Expand the image request into an executable plan: the refined objective; sub-tasks; verifiable "
    "constraints on the scene's objects, their positions, colours and style; ordered drawing operations.",
    "knowledge": "Expand the image request into an executable plan that makes the implicit knowledge it relies on "
    "explicit (facts, conventions, what things look like): objective, sub-tasks, verifiable constraints, ordered operations.",
    "meme": "Expand the meme request into an executable plan: the humour's structure (setup, twist, punchline), where "
    "each caption goes and how it reads, the visual gag; objective, sub-tasks, verifiable constraints, ordered operations.",
    "science": "Expand the figure request into an executable plan: the scientific concepts involved and the algorithmic "
    "or physical steps, each as a visual operation on the figure's elements; objective, sub-tasks, verifiable "
    "constraints, ordered operations.",
}
ACTIONS: dict[str, list[str]] = {
    "general": ["compose", "place", "draw", "color", "light", "write", "style"],
    "knowledge": ["recall", "explain", "depict", "place", "label", "write"],
    "meme": ["set_scene", "setup", "twist", "place_caption", "write", "emphasize"],
    "science": ["draw", "place", "connect", "label", "compute", "highlight", "move", "remove"],
}
FLAVOUR_BY_DOMAIN = {"science": "science", "humor": "meme"}


class CotConfig(LlmTransformConfig):
    pipeline: Literal["cot"] = "cot"
    llm: LlmConfig = LlmConfig(timeout_s=180, temperature=0.3)  # long plans (as configs/cot.yaml)
    flavour: Literal["auto", "general", "knowledge", "meme", "science"] = Field(
        "auto", description="auto: science rows get science, humor rows meme, the rest general"
    )
    tasks: list[Literal["t2i", "edit"]] = Field(default_factory=lambda: ["t2i", "edit"])
    max_items: int = Field(8, ge=1, le=32, description="most sub-tasks, constraints and operations")
    max_chars: int = Field(300, ge=20, le=4000, description="longest free text in an answer")
    prompts: dict[str, str] = Field(
        default_factory=lambda: dict(PROMPTS),
        description="one system prompt per flavour (in the content hash)",
    )
