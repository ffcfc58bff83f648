"""Aesthetic score: a LAION head on the shared CLIP embedding (higher is better, about 1 to 10)."""

from __future__ import annotations

from pydantic import Field

from synth.config import Strict


class AestheticConfig(Strict):
    head: str | None = Field(
        None, description="sac+logos+ava1-l14-linearMSE.pth or sa_0_4_vit_l_14_linear.pth"
    )
    min: float = Field(5.0, description="score below this: low_aesthetic")


def check(score: float, cfg: AestheticConfig) -> tuple[str, str] | None:
    if score < cfg.min:
        return "low_aesthetic", f"aesthetic {score:.3f} < {cfg.min}"
    return None
