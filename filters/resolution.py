"""Resolution and aspect checks on decoded sizes: each bound has its own reason code."""

from __future__ import annotations

from pydantic import Field, model_validator

from synth.config import Strict


class ResolutionConfig(Strict):
    min_side: int = Field(256, ge=1, description="shorter side below this: too_small")
    max_side: int = Field(16384, ge=1, description="longer side above this: too_large")
    min_pixels: int = Field(0, ge=0, description="width x height below this: too_few_pixels")
    min_aspect: float = Field(0.3333, gt=0, description="width / height below this: bad_aspect")
    max_aspect: float = Field(3.0, gt=0, description="width / height above this: bad_aspect")

    @model_validator(mode="after")
    def _ordered(self):
        if self.min_side > self.max_side:
            raise ValueError(f"min_side {self.min_side} > max_side {self.max_side}")
        if self.min_aspect > self.max_aspect:
            raise ValueError(f"min_aspect {self.min_aspect} > max_aspect {self.max_aspect}")
        return self


def check_resolution(width: int, height: int, cfg: ResolutionConfig) -> tuple[str, str] | None:
    """(reason, detail) for the first bound the size breaks, or None when it passes."""
    short, long = min(width, height), max(width, height)
    if short < cfg.min_side:
        return "too_small", f"{width}x{height}: shorter side {short} < {cfg.min_side}"
    if long > cfg.max_side:
        return "too_large", f"{width}x{height}: longer side {long} > {cfg.max_side}"
    if width * height < cfg.min_pixels:
        return "too_few_pixels", f"{width}x{height} = {width * height} pixels < {cfg.min_pixels}"
    aspect = width / height
    if not cfg.min_aspect <= aspect <= cfg.max_aspect:
        return (
            "bad_aspect",
            f"{width}x{height}: aspect {aspect:.3f} outside [{cfg.min_aspect:.3f}, {cfg.max_aspect:.3f}]",
        )
    return None
