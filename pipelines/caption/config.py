"""Typed config of ``synth caption`` (defaults in configs/caption.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.llm import LlmConfig
from synth.llm_stage import LlmTransformConfig

SYSTEM = (
    "You caption images for a training set. Look at the image and answer as JSON with: `concise` (one short "
    "sentence), `dense` (a detailed paragraph: objects, layout, colours, any text exactly as written), "
    "`people_present` (true or false) and `human_centric` (people, their appearance and actions; empty when there "
    "are none). Describe only what is visible."
)


class CaptionConfig(LlmTransformConfig):
    pipeline: Literal["caption"] = "caption"
    # images make long prompts: fewer in flight, more time each, shorter answers (as configs/caption.yaml)
    llm: LlmConfig = LlmConfig(concurrency=8, timeout_s=180, max_tokens=1024)
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
