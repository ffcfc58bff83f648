"""Typed config of ``synth meme`` (defaults in configs/meme.yaml)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from pipelines.text_render.config import FontsConfig
from synth.config import PipelineConfig, RuntimeConfig, Strict
from synth.llm import RUNTIME_KEYS, LlmConfig
from synth.ocr import OcrVerifyConfig
from synth.sampling import check_weights

StageName = Literal["detect", "remove", "joke", "render", "verify"]
STAGES: tuple[str, ...] = StageName.__args__
RowKind = Literal["add", "t2i", "replace"]
ROW_KINDS: tuple[str, ...] = RowKind.__args__


class PhotosConfig(Strict):
    """``--num``: the photos templates are made from."""

    images: str | None = Field(None, description="photo folder or Parquet; None = scikit-image's photos")
    image_column: str = "image"
    caption_column: str = Field(
        "caption", description="a photo's description, for the joke and the t2i prompt"
    )


class DetectConfig(Strict):
    min_confidence: float = Field(0.5, ge=0, le=1, description="OCR confidence of a caption line")
    band: float = Field(0.34, gt=0, le=0.5, description="share of the height that counts as top / bottom")
    max_side: int = Field(1024, ge=128, description="inputs are downscaled to this longest side first")
    max_pixels: int = Field(64_000_000, ge=1, description="decompression-bomb limit")
    max_bytes: int = Field(64 << 20, ge=1, description="input files larger than this are rejected")
    min_side: int = Field(128, ge=16, description="pixels: smaller inputs are rejected too_small")


class RemoveConfig(Strict):
    pad: float = Field(0.2, ge=0, le=1, description="erase mask growth, as a share of the line height")
    inpaint: Literal["opencv", "lama"] = Field("opencv", description="how the old text is erased")
    inpaint_weights: str | None = Field(None, description="lama: local TorchScript file (big-lama.pt)")
    inpaint_device: str = Field("auto", description="lama: auto, cpu or cuda")
    inpaint_radius: int = Field(5, ge=1, le=50, description="opencv: inpainting radius")


class JokeConfig(Strict):
    """The humour plan: from the LLM (stage ``joke``), or from the bundled plans when the stage is left out."""

    vision: bool = Field(False, description="send the template as an image (a VLM); else its description")
    max_chars: int = Field(60, ge=8, le=200, description="longest caption, in characters")
    max_words: int = Field(12, ge=1, le=40, description="most words in an English caption")
    max_captions: int = Field(3, ge=1, le=4, description="most captions in one plan")
    languages: dict[Literal["en", "zh"], float] = Field(
        default_factory=lambda: {"en": 0.7, "zh": 0.3},
        description="language the rows draw their captions in (the plan holds both)",
    )
    prompt: str = Field(
        "You write memes. Given a meme template (a picture without text), plan one funny meme: the "
        "situation it shows, the intent, a setup and a punchline, and its captions. Each caption has a "
        "placement (top, bottom, or a label on one of the named regions) and its text in English and "
        "in Chinese. Short, punchy captions; no slurs, no real people's names.",
        description="the system prompt (in the content hash)",
    )

    _check = field_validator("languages")(check_weights)


class RenderConfig(Strict):
    styles: dict[Literal["classic", "modern"], float] = Field(
        default_factory=lambda: {"classic": 3.0, "modern": 1.0},
        description="classic: white capitals with a black outline, top and bottom; modern: black text on a white band",
    )
    classic_fonts: list[str] = Field(
        default_factory=lambda: [
            "Anton", "Bebas Neue Bold", "League Gothic", "Oswald Bold",
            "Liberation Sans Narrow Bold", "DejaVu Sans Condensed Bold",
        ],
        description="Impact-like faces, first installed one wins (caps-only faces draw capitals only)",
    )  # fmt: skip
    modern_fonts: list[str] = Field(
        default_factory=lambda: ["Liberation Sans Regular", "DejaVu Sans Book"],
        description="faces of the modern style's band text",
    )
    cjk_fonts: list[str] = Field(
        default_factory=lambda: ["Noto Sans CJK SC Bold", "Smiley Sans Oblique", "WenQuanYi Micro Hei"],
        description="faces for Chinese captions, first installed one wins",
    )
    max_lines: int = Field(3, ge=1, le=6, description="most lines a caption wraps to")
    size_ratio: float = Field(1 / 9, gt=0, le=0.5, description="classic caption size, share of the height")
    min_size_ratio: float = Field(
        1 / 40, gt=0, le=0.2, description="a caption smaller than this does not fit"
    )
    mask_dilate: int = Field(6, ge=0, le=64, description="pixels the edit mask grows beyond the drawn text")


class Thresholds(Strict):
    max_ned: float = Field(
        0.25, ge=0, le=1, description="worst caption line's OCR read-back distance allowed"
    )
    max_subject_overlap: float = Field(
        0.35, ge=0, le=1, description="share of a kept-clear region a caption may cover"
    )
    min_removal_clean: float = Field(
        1.0, ge=0, le=1, description="share of the old captions OCR must no longer find"
    )


class MemeConfig(PipelineConfig):
    pipeline: Literal["meme"] = "meme"
    runtime_keys: ClassVar[tuple[str, ...]] = ("fonts.pinned", *RUNTIME_KEYS)
    runtime: RuntimeConfig = RuntimeConfig(unit_size=24, batch_size=6)  # as configs/meme.yaml
    inputs: list[str] = Field(
        default_factory=list,
        description="memes (a folder, files, .parquet or .tar shards) or meme runs' template folders; "
        "empty = templates from the photos of sources.images (--num)",
    )
    image_column: str = "image"
    stages: list[StageName] = Field(
        default_factory=lambda: list(STAGES),
        description="detect, remove, joke, render, verify: [detect, remove] writes clean templates; "
        "without joke the captions come from the bundled plans (no LLM needed)",
    )
    rows: list[RowKind] = Field(
        default_factory=lambda: list(ROW_KINDS),
        description="add (template -> captioned meme), t2i (the captioned meme), replace (input meme -> "
        "a new caption, the old text removed)",
    )
    captions_per_template: int = Field(1, ge=1, le=16, description="humour plans drawn for each template")
    fonts: FontsConfig = FontsConfig()
    sources: PhotosConfig = PhotosConfig()
    detect: DetectConfig = DetectConfig()
    remove: RemoveConfig = RemoveConfig()
    joke: JokeConfig = JokeConfig()
    render: RenderConfig = RenderConfig()
    llm: LlmConfig = LlmConfig(temperature=0.8, max_tokens=1024)
    verify: OcrVerifyConfig = OcrVerifyConfig()
    thresholds: Thresholds = Thresholds()

    @model_validator(mode="after")
    def _order(self) -> MemeConfig:
        have = [s for s in STAGES if s in self.stages]
        if list(self.stages) != have or self.stages[:2] != ["detect", "remove"]:
            raise ValueError(
                f"stages must start with detect, remove and keep the order of {list(STAGES)}, "
                "e.g. [detect, remove] (templates only) or [detect, remove, render, verify] (bundled plans)"
            )
        if ("joke" in self.stages or "verify" in self.stages) and "render" not in self.stages:
            raise ValueError(
                "stages 'joke' and 'verify' need 'render' (they plan and check the drawn captions)"
            )
        if not self.rows:
            raise ValueError("rows must name at least one of add, t2i, replace")
        return self

    @property
    def templates_only(self) -> bool:
        """[detect, remove] and no drawing: the rows are the clean templates."""
        return "render" not in self.stages
