"""Typed config of ``synth rewrite`` (defaults in configs/rewrite.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.llm import LlmConfig
from synth.llm_stage import LlmTransformConfig

SYSTEM = (
    "You rewrite image-editing instructions for a training set. Give {n} different natural phrasings of the "
    "instruction, in {language}, that ask for exactly the same edit. Every text listed in `keep` must appear in "
    "each phrasing exactly as written. Answer as JSON: {{'rewrites': [...]}}."
)


class RewriteConfig(LlmTransformConfig):
    pipeline: Literal["rewrite"] = "rewrite"
    llm: LlmConfig = LlmConfig(temperature=0.7)  # phrasings should differ (as configs/rewrite.yaml)
    variants: int = Field(3, ge=1, le=10, description="phrasings asked for per row")
    tasks: list[Literal["edit", "t2i", "und"]] = Field(
        default_factory=lambda: ["edit"], description="rows of these tasks are rewritten; others pass"
    )
    prompt: str = Field(
        SYSTEM, description="system prompt; {n} and {language} are filled in (in the content hash)"
    )
    max_chars: int = Field(600, ge=20, le=8000, description="longest phrasing")
