"""Typed config of ``synth caption`` (defaults in configs/caption.yaml)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from synth.config import PipelineConfig
from synth.llm import RUNTIME_KEYS, LlmConfig

SYSTEM = (
    "You caption images for a training set. Look at the image and answer as JSON with: `concise` (one short "
    "sentence), `dense` (a detailed paragraph: objects, layout, colours, any text exactly as written), "
    "`people_present` (true or false) and `human_centric` (people, their appearance and actions; empty when there "
    "are none). Describe only what is visible."
)


class CaptionConfig(PipelineConfig):
    pipeline: Literal["caption"] = "caption"
    inputs: list[str] = Field(
        default_factory=list, description="run folders (their kept rows) or .parquet shards of our schema"
    )
    prompt: str = Field(
        SYSTEM, description="system prompt (in the content hash, so a new prompt is a new dataset)"
    )
    prompt_version: str = Field("caption/1", description="recorded with every caption")
    max_side: int = Field(
        768, ge=64, le=4096, description="images are downscaled to this longer side before sending"
    )
    max_chars: int = Field(
        1500, ge=20, le=8000, description="longest caption (bounds the answer under guided decoding)"
    )
    llm: LlmConfig = LlmConfig()

    runtime_keys: ClassVar[tuple[str, ...]] = RUNTIME_KEYS
