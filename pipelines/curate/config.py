"""``synth curate`` config: inputs, decoding limits and the filters, in the order they decide.

Model filters are on when their weights are given. Thresholds, the near-duplicate radius and
``against`` are decision keys: changing them re-decides from stored scores (``--rethreshold``)
without running a model again.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from filters.aesthetic import AestheticConfig
from filters.clip import ClipConfig
from filters.exact_dedup import ExactDedupConfig
from filters.nsfw import NsfwConfig
from filters.phash import PhashConfig
from filters.resolution import ResolutionConfig
from filters.watermark import WatermarkConfig
from synth.config import PipelineConfig, RuntimeConfig, Strict
from synth.imageio import DEFAULT_MAX_PIXELS
from synth.inputs import DEFAULT_MAX_BYTES


class DecodeConfig(Strict):
    max_pixels: int = Field(DEFAULT_MAX_PIXELS, ge=1, description="more pixels: decompression_bomb")
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1, description="larger files are not read: decode_error")


class FiltersConfig(Strict):
    resolution: ResolutionConfig = ResolutionConfig()
    exact_dedup: ExactDedupConfig = ExactDedupConfig()
    phash: PhashConfig = PhashConfig()
    clip: ClipConfig = ClipConfig()
    aesthetic: AestheticConfig = AestheticConfig()
    nsfw: NsfwConfig = NsfwConfig()
    watermark: WatermarkConfig = WatermarkConfig()


class CurateRuntime(RuntimeConfig):
    unit_size: int = Field(256, ge=1, description="images per work unit")


class CurateConfig(PipelineConfig):
    pipeline: str = "curate"
    inputs: list[str] = Field(
        default_factory=list, description="folders, files, globs, {a..b} shard patterns"
    )
    image_column: str = "image"
    caption_column: str = "caption"
    against: list[str] = Field(default_factory=list, description="earlier curated outputs to dedup against")
    decode: DecodeConfig = DecodeConfig()
    filters: FiltersConfig = FiltersConfig()
    runtime: CurateRuntime = CurateRuntime()

    decision_keys: ClassVar[tuple[str, ...]] = (
        "filters.resolution",
        "filters.exact_dedup",
        "filters.phash",
        "filters.aesthetic.min",
        "filters.nsfw.max",
        "filters.watermark.max",
        "against",
    )

    @model_validator(mode="after")
    def _heads_need_clip(self):
        f = self.filters
        for name, head in (("aesthetic", f.aesthetic.head), ("nsfw", f.nsfw.head)):
            if head and not f.clip.weights:
                raise ValueError(
                    f"filters.{name}.head reads the CLIP embedding: also set filters.clip.weights "
                    f"(and filters.clip.model)"
                )
        return self

    def model_filters(self) -> dict[str, str]:
        """Each model filter: 'on' or how to switch it on."""
        f = self.filters
        return {
            "aesthetic": "on"
            if f.aesthetic.head
            else "off: set filters.clip.weights and filters.aesthetic.head",
            "nsfw": "on" if f.nsfw.head else "off: set filters.clip.weights and filters.nsfw.head",
            "watermark": "on" if f.watermark.weights else "off: set filters.watermark.weights",
        }

    def weight_files(self) -> dict[str, str]:
        f = self.filters
        files = {
            "clip": f.clip.weights if (f.aesthetic.head or f.nsfw.head) else None,
            "aesthetic": f.aesthetic.head,
            "nsfw": f.nsfw.head,
            "watermark": f.watermark.weights,
        }
        return {k: v for k, v in files.items() if v}
