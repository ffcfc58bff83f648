"""Typed config of ``synth text-render`` (defaults in configs/text_render.yaml)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from synth.config import PipelineConfig, RuntimeConfig, Strict
from synth.fonts import FontRegistry, check_font_set, font_set
from synth.ocr import OcrVerifyConfig
from synth.sampling import check_weights

Background = Literal["solid", "gradient", "texture", "photo"]
Layout = Literal["title", "poster", "slide", "list", "paragraph", "columns"]
Language = Literal["en", "zh", "mixed"]


class FontsConfig(Strict):
    dirs: list[str] = Field(default_factory=list, description="extra font folders (ttf, otf, ttc)")
    exclude: list[str] = Field(
        default_factory=lambda: ["Math", " JP ", " KR ", " TC ", " HK ", "ExtraLight", "Mono CJK"],
        description="substrings of face names never used: symbol and maths faces, and the Japanese, "
        "Korean and traditional CJK variants (zh text wants simplified glyph shapes)",
    )
    system: bool = True
    pinned: list[dict[str, Any]] | None = Field(
        None, description="set by the runner: the run's font set as run.json recorded it; not a user key"
    )

    def registry(self) -> FontRegistry:
        """The faces the stages choose from: the run's recorded set where the runner pinned one,
        else what fontconfig and ``dirs`` offer now."""
        if self.pinned is not None:
            return FontRegistry.pinned(self.pinned)
        return FontRegistry(self.dirs, self.exclude, self.system)


def pin_fonts(cfg: PipelineConfig, recorded: dict[str, Any] | None) -> tuple[dict[str, Any], PipelineConfig]:
    """``Pipeline.pin`` of the pipelines that draw text: a new run records the font set it may
    choose from; every later invocation checks the recorded files here (raising ``FontSetError``
    naming a missing or changed face) and hands the recorded set to the stages, so fonts installed
    since never change a sample. The set rides in ``fonts.pinned``, outside the content hash."""
    faces = (recorded or {}).get("fonts")
    if faces is None:
        faces = font_set(cfg.fonts.model_copy(update={"pinned": None}).registry())
    else:
        check_font_set(faces)
    fonts = cfg.fonts.model_copy(update={"pinned": faces})
    return {"fonts": faces}, cfg.model_copy(update={"fonts": fonts})


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

    _check = field_validator("backgrounds", "layouts", "languages")(check_weights)


class SourcesConfig(Strict):
    images: str | None = Field(None, description="photo folder or Parquet; None = scikit-image's photos")
    image_column: str = "image"
    caption_column: str = "caption"
    corpus: str | None = Field(None, description="UTF-8 text file, one text per line, mixed into Faker's")
    corpus_share: float = Field(0.5, ge=0, le=1)


class VerifyConfig(OcrVerifyConfig):
    full_pass_every: int = Field(
        10, ge=0, description="full detection for stray text on every Nth sample; 0 = off"
    )
    full_pass_max_side: int = Field(640, ge=128)


class Thresholds(Strict):
    max_ned: float = Field(0.2, ge=0, le=1, description="worst line's normalised edit distance allowed")


class TextRenderConfig(PipelineConfig):
    pipeline: Literal["text_render"] = "text_render"
    runtime_keys: ClassVar[tuple[str, ...]] = ("fonts.pinned",)
    runtime: RuntimeConfig = RuntimeConfig(unit_size=50)  # as configs/text_render.yaml
    fonts: FontsConfig = FontsConfig()
    render: RenderConfig = RenderConfig()
    sources: SourcesConfig = SourcesConfig()
    verify: VerifyConfig = VerifyConfig()
    thresholds: Thresholds = Thresholds()
