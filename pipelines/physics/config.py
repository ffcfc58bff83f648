"""Typed config of ``synth physics`` (defaults in configs/physics.yaml)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from pipelines.diagram.config import DiagramConfig
from synth.config import Strict
from synth.llm import RUNTIME_KEYS, LlmConfig

KindName = Literal[
    "incline",
    "pulley",
    "spring",
    "projectile",
    "series_circuit",
    "parallel_circuit",
    "lens",
    "refraction",
    "charges",
    "magnet",
]
ALL_KINDS: tuple[str, ...] = KindName.__args__


class DocumentConfig(Strict):
    """The document path (``--documents``): pages of problems -> OCR -> LLM -> SVG."""

    max_bytes: int = Field(64 << 20, ge=1, description="larger input files are rejected decode_error")
    max_pixels: int = Field(40_000_000, ge=1, description="decompression-bomb limit of a page image")
    max_chars: int = Field(2000, ge=100, description="problem text sent to the LLM")
    min_figure_share: float = Field(
        0.02, gt=0, le=1, description="smallest figure region, as a share of the page"
    )
    vision: bool = Field(False, description="also send the figure crop as an image (needs a VLM)")


class PhysicsConfig(DiagramConfig):
    pipeline: Literal["physics"] = "physics"
    documents: list[str] = Field(
        default_factory=list, description="PDFs or page images; empty = generated scenes"
    )
    document: DocumentConfig = DocumentConfig()
    llm: LlmConfig = LlmConfig()
    kinds: list[KindName] = Field(
        default_factory=lambda: list(ALL_KINDS), description="figures to draw, equally often"
    )

    runtime_keys: ClassVar[tuple[str, ...]] = RUNTIME_KEYS
