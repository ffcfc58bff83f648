"""The shared CLIP image embedding that the aesthetic and NSFW heads read: computed once per image."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from synth.config import Strict


class ClipConfig(Strict):
    model: str = Field("ViT-L-14-quickgelu", description="open_clip architecture of the checkpoint")
    weights: str | None = Field(None, description="local open_clip checkpoint (.bin/.pt/.safetensors)")
    model_json: str | None = Field(None, description="open_clip JSON config of a custom architecture")
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"
    device: str = Field("auto", description="auto (CUDA when the worker has a GPU), cpu or cuda")


def load_encoder(cfg: ClipConfig):
    from synth.models.clip import ClipImageEncoder

    return ClipImageEncoder(cfg.model, cfg.weights, cfg.model_json, cfg.device, cfg.precision)
