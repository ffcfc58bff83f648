"""NSFW probability: LAION's CLIP-based detector head on the shared CLIP embedding."""

from __future__ import annotations

from pydantic import Field

from synth.config import Strict


class NsfwConfig(Strict):
    head: str | None = Field(None, description="clip_ViT-L-14_openai_binary_nsfw_head.pth")
    max: float = Field(0.5, ge=0, le=1, description="probability above this: nsfw")


def check(score: float, cfg: NsfwConfig) -> tuple[str, str] | None:
    if score > cfg.max:
        return "nsfw", f"nsfw {score:.3f} > {cfg.max}"
    return None
