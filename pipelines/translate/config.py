"""Typed config of ``synth translate`` (defaults in configs/translate.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.llm_stage import LlmTransformConfig

SYSTEM = (
    "You translate short texts for an image dataset. Translate every string of `strings` into {language}. "
    "Every text listed in `protected` that occurs in a string must appear in its translation exactly as written, "
    "character for character, untranslated. Answer as JSON: {{'translations': [...]}}, one per string, in order."
)


class TranslateConfig(LlmTransformConfig):
    pipeline: Literal["translate"] = "translate"
    to: Literal["zh", "en"] = Field(
        "zh", description="target language; rows' variants in the other language are translated"
    )
    fields: list[Literal["instruction", "instructions", "captions"]] = Field(
        default_factory=lambda: ["instruction", "instructions", "captions"]
    )
    prompt: str = Field(SYSTEM, description="system prompt; {language} is filled in (in the content hash)")
    max_chars: int = Field(2000, ge=20, le=8000, description="longest translation of one string")
