"""Watermark probability: LAION's detector (timm efficientnet_b3a) on the image itself."""

from __future__ import annotations

from pydantic import Field

from synth.config import Strict


class WatermarkConfig(Strict):
    weights: str | None = Field(None, description="watermark_model_v1.pt")
    arch: str = Field("efficientnet_b3a", description="timm backbone of the checkpoint")
    device: str = "auto"
    max: float = Field(0.5, ge=0, le=1, description="probability above this: watermark")


def check(score: float, cfg: WatermarkConfig) -> tuple[str, str] | None:
    if score > cfg.max:
        return "watermark", f"watermark {score:.3f} > {cfg.max}"
    return None
