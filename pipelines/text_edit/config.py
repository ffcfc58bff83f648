"""Typed config of ``synth text-edit`` (defaults in configs/text_edit.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from pipelines.text_render.config import FontsConfig, RenderConfig, SourcesConfig, _weights
from synth.config import PipelineConfig, Strict
from synth.ocr import OcrConfig

Op = Literal[
    "replace",
    "delete",
    "insert",
    "color",
    "font",
    "size",
    "move",
    "case",
    "translate",
    "reflow",
    "instance",
]
OPS: tuple[str, ...] = Op.__args__


class EditConfig(Strict):
    ops: dict[Op, float] = Field(
        default_factory=lambda: dict.fromkeys(OPS, 1.0),
        description="relative frequency of each edit operation",
    )
    attempts: int = Field(4, ge=1, le=20, description="scenes drawn before a row is rejected render_error")
    mask_dilate: int = Field(6, ge=0, le=64, description="pixels the edit mask grows beyond the drawn text")

    _check = field_validator("ops")(_weights)


class VerifyConfig(Strict):
    ocr: OcrConfig = OcrConfig()


class Thresholds(Strict):
    """The verifier's cuts (decision keys: not in the content hash)."""

    max_ned: float = Field(
        0.2, ge=0, le=1, description="correctness: worst new line's normalised edit distance"
    )
    removal: float = Field(
        0.5, ge=0, le=2, description="removal: the read must move this share of the way from old to new text"
    )
    min_psnr: float = Field(40.0, ge=0, le=100, description="preservation: dB outside the edit mask")


class TextEditConfig(PipelineConfig):
    pipeline: Literal["text_edit"] = "text_edit"
    fonts: FontsConfig = FontsConfig()
    render: RenderConfig = RenderConfig()
    sources: SourcesConfig = SourcesConfig()
    edit: EditConfig = EditConfig()
    verify: VerifyConfig = VerifyConfig()
    thresholds: Thresholds = Thresholds()
