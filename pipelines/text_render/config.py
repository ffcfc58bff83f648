"""Typed config of ``synth text-render`` (defaults in configs/text_render.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from synth.config import PipelineConfig, Strict
from synth.fonts import FontRegistry
from synth.ocr import OcrConfig

Background = Literal["solid", "gradient", "texture", "photo"]
Layout = Literal["title", "poster", "slide", "list", "paragraph", "columns"]
Language = Literal["en", "zh", "mixed"]


def _weights(value: dict) -> dict:
    if not value or any(v < 0 for v in value.values()) or sum(value.values()) <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    return value


class FontsConfig(Strict):
    dirs: list[str] = Field(default_factory=list, description="extra font folders (ttf, otf, ttc)")
    exclude: list[str] = Field(default_factory=list, description="substrings of face names never used")
    system: bool = True

    def registry(self) -> FontRegistry:
        return FontRegistry(self.dirs, self.exclude, self.system)


class RenderConfig(Strict):
    sizes: list[tuple[int, int]] = [(1024, 1024), (1024, 768), (768, 1024), (1024, 576), (768, 768)]
    backgrounds: dict[Background, float] = {"solid": 0.25, "gradient": 0.2, "texture": 0.15, "photo": 0.4}
    layouts: dict[Layout, float] = {
        "title": 1,
        "poster": 1,
        "slide": 1,
        "list": 1,
        "paragraph": 1,
        "columns": 1,
    }
    languages: dict[Language, float] = {"en": 0.45, "zh": 0.4, "mixed": 0.15}
    min_contrast: float = Field(
        4.5, ge=1.0, le=21.0, description="WCAG ratio against the pixels under the text"
    )
    warp_max: float = Field(
        0.04, ge=0, le=0.15, description="photo text: corner jitter as a fraction of the box"
    )
    outline_prob: float = Field(0.3, ge=0, le=1)
    shadow_prob: float = Field(0.2, ge=0, le=1)

    _check = field_validator("backgrounds", "layouts", "languages")(_weights)


class SourcesConfig(Strict):
    images: str | None = Field(None, description="photo folder or Parquet; None = scikit-image's photos")
    image_column: str = "image"
    caption_column: str = "caption"
    corpus: str | None = Field(None, description="UTF-8 text file, one text per line, mixed into Faker's")
    corpus_share: float = Field(0.5, ge=0, le=1)


class VerifyConfig(Strict):
    ocr: OcrConfig = OcrConfig()
    full_pass_every: int = Field(
        10, ge=0, description="full detection for stray text on every Nth sample; 0 = off"
    )
    full_pass_max_side: int = Field(640, ge=128)


class Thresholds(Strict):
    max_ned: float = Field(0.2, ge=0, le=1, description="worst line's normalised edit distance allowed")


class TextRenderConfig(PipelineConfig):
    pipeline: Literal["text_render"] = "text_render"
    fonts: FontsConfig = FontsConfig()
    render: RenderConfig = RenderConfig()
    sources: SourcesConfig = SourcesConfig()
    verify: VerifyConfig = VerifyConfig()
    thresholds: Thresholds = Thresholds()
