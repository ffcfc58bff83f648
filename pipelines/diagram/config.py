"""The config both diagram pipelines extend: kinds, tasks, rendering, verification, thresholds."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from synth.config import PipelineConfig, RuntimeConfig, Strict
from synth.ocr import OcrVerifyConfig
from synth.sampling import check_weights


class RenderConfig(Strict):
    max_side: int = Field(768, ge=128, le=4096, description="pixels of the longer side")
    min_side: int = Field(
        512, ge=64, le=4096, description="pixels of the shorter side at least (trainers take 512 to 1024)"
    )
    max_aspect: float = Field(
        2.0, ge=1.0, le=8.0, description="longer side over shorter side at most (trainers take 0.5 to 2)"
    )
    attempts: int = Field(
        6, ge=1, le=50, description="structures drawn before a row is rejected render_error"
    )
    mask_dilate: int = Field(
        3, ge=0, le=64, description="pixels the edit mask grows beyond the changed elements"
    )
    timeout_s: float = Field(
        20.0, gt=0, description="time limit of an external renderer (Graphviz) per drawing"
    )

    @model_validator(mode="after")
    def _sides(self) -> RenderConfig:
        if self.min_side > self.max_side:
            raise ValueError(f"render.min_side ({self.min_side}) exceeds render.max_side ({self.max_side})")
        return self

    @property
    def aspect_cap(self) -> float:
        """The widest aspect both bounds allow: with the longer side at ``max_side``, the shorter
        stays at least ``min_side``."""
        return min(self.max_aspect, self.max_side / self.min_side)


class VerifyConfig(OcrVerifyConfig):
    max_labels: int = Field(10, ge=0, le=100, description="labels read back by OCR per image (0 = none)")


class Thresholds(Strict):
    """The verifier's cuts (decision keys: not in the content hash)."""

    max_label_ned: float = Field(
        0.25, ge=0, le=1, description="mean normalised edit distance of the labels read"
    )
    max_changed_outside: int = Field(0, ge=0, description="pixels allowed to change outside the edit mask")


class DiagramConfig(PipelineConfig):
    """Subclasses declare the list of kinds they draw (``kinds``, a list of Literal names with its
    default; geometry calls it ``solids``) and name it in ``kinds_key``."""

    kinds_key: ClassVar[str] = "kinds"
    runtime: RuntimeConfig = RuntimeConfig(unit_size=50)  # as both pipelines' YAML
    tasks: dict[str, float] = Field(default_factory=lambda: {"t2i": 1.0, "edit": 2.0, "und": 1.0})
    render: RenderConfig = RenderConfig()
    verify: VerifyConfig = VerifyConfig()
    thresholds: Thresholds = Thresholds()

    @field_validator("tasks")
    @classmethod
    def _tasks(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - {"t2i", "edit", "und"}
        if unknown:
            raise ValueError(f"tasks are t2i, edit and und, not {sorted(unknown)}")
        return check_weights(v)

    @property
    def kind_names(self) -> list[str]:
        return getattr(self, self.kinds_key)

    @field_validator("kinds", "solids", check_fields=False)
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one kind")
        return sorted(set(v), key=v.index)
