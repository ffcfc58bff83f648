"""Typed config of ``synth text-edit`` (defaults in configs/text_edit.yaml)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from pipelines.text_render.config import FontsConfig, RenderConfig, SourcesConfig
from synth.config import PipelineConfig, RuntimeConfig, Strict
from synth.evaluate.text_edit import Thresholds
from synth.ocr import OcrVerifyConfig
from synth.sampling import check_weights

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

    _check = field_validator("ops")(check_weights)


class RealConfig(Strict):
    """Real scenes (``--input``): which OCR instances qualify and how they are erased."""

    ops: dict[Literal["replace", "delete", "case"], float] = Field(
        default_factory=lambda: {"replace": 3.0, "delete": 1.0, "case": 1.0},
        description="edit operations on real text (case falls back to replace for non-Latin text)",
    )
    min_confidence: float = Field(0.8, ge=0, le=1, description="OCR confidence of an editable instance")
    min_height: int = Field(16, ge=4, description="pixels: smaller text is rejected text_too_small")
    border: int = Field(4, ge=0, description="pixels: text this close to the edge is rejected text_at_border")
    max_side: int = Field(1600, ge=256, description="photos are downscaled to this longest side first")
    max_pixels: int = Field(64_000_000, ge=1, description="decompression-bomb limit")
    max_bytes: int = Field(64 << 20, ge=1, description="input files larger than this are rejected")
    erase_pad: float = Field(0.15, ge=0, le=1, description="erase mask growth, as a share of the text height")
    inpaint: Literal["opencv", "lama"] = Field("opencv", description="how the old text is erased")
    inpaint_weights: str | None = Field(None, description="lama: local TorchScript file (big-lama.pt)")
    inpaint_device: str = Field("auto", description="lama: auto, cpu or cuda")
    inpaint_radius: int = Field(5, ge=1, le=50, description="opencv: inpainting radius")
    font_candidates: int = Field(12, ge=1, description="faces compared when matching the font")

    _check = field_validator("ops")(check_weights)


class TextEditConfig(PipelineConfig):
    pipeline: Literal["text_edit"] = "text_edit"
    runtime_keys: ClassVar[tuple[str, ...]] = ("fonts.pinned",)
    runtime: RuntimeConfig = RuntimeConfig(unit_size=50)  # as configs/text_edit.yaml
    inputs: list[str] = Field(
        default_factory=list, description="photos with text (real scenes); empty = virtual"
    )
    image_column: str = "image"
    fonts: FontsConfig = FontsConfig()
    render: RenderConfig = RenderConfig()
    sources: SourcesConfig = SourcesConfig()
    edit: EditConfig = EditConfig()
    verify: OcrVerifyConfig = OcrVerifyConfig()
    thresholds: Thresholds = Thresholds()
    real: RealConfig = RealConfig()
