"""The config both diagram pipelines extend: kinds, tasks, rendering, verification, thresholds."""

from __future__ import annotations

from pydantic import Field, field_validator

from synth.config import PipelineConfig, RuntimeConfig, Strict
from synth.ocr import OcrVerifyConfig
from synth.sampling import check_weights


class RenderConfig(Strict):
    max_side: int = Field(768, ge=128, le=4096, description="pixels of the longer side")
    attempts: int = Field(
        6, ge=1, le=50, description="structures drawn before a row is rejected render_error"
    )
    mask_dilate: int = Field(
        3, ge=0, le=64, description="pixels the edit mask grows beyond the changed elements"
    )
    timeout_s: float = Field(
        20.0, gt=0, description="time limit of an external renderer (Graphviz) per drawing"
    )


class VerifyConfig(OcrVerifyConfig):
    max_labels: int = Field(10, ge=0, le=100, description="labels read back by OCR per image (0 = none)")


class Thresholds(Strict):
    """The verifier's cuts (decision keys: not in the content hash)."""

    max_label_ned: float = Field(
        0.25, ge=0, le=1, description="mean normalised edit distance of the labels read"
    )
    max_changed_outside: int = Field(0, ge=0, description="pixels allowed to change outside the edit mask")


class DiagramConfig(PipelineConfig):
    """Subclasses narrow ``kinds`` to their names (a Literal) and give its default."""

    kinds: list[str]
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

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one kind")
        return sorted(set(v), key=v.index)
