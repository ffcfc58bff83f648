"""Typed config of ``synth sample`` (defaults in configs/sample.yaml)."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from synth.config import PipelineConfig, RuntimeConfig, Strict


class Guidance(Strict):
    all: float | None = Field(
        None, ge=0, le=50, description="null: the mode's official default (4.5; text_image 3.5)"
    )
    part: float | None = Field(
        None, ge=0, le=50, description="null: the mode's official default (2.0; text_image 1.5)"
    )


class SampleConfig(PipelineConfig):
    pipeline: Literal["sample"] = "sample"
    checkpoint: str | None = Field(
        None, description="the InternVL-U checkpoint (official layout): a folder, s3:// or gs:// URI"
    )
    checkpoint_cache: str | None = Field(
        None,
        description="local folder a remote checkpoint is copied to (default ~/.cache/unisynth/checkpoints)",
    )
    mode: Literal["auto", "image", "edit", "text_image", "text"] = Field(
        "auto", description="auto: by each row's task (t2i: image, edit: edit, und: text)"
    )
    steps: int = Field(20, ge=1, le=1000, description="denoising steps")
    size: str = Field(
        "auto",
        description="auto: the row's own size (an edit: its source image's) within the checkpoint's pixel "
        "range; default: the checkpoint's; or WxH",
    )
    guidance: Guidance = Guidance()
    max_new_tokens: int | None = Field(
        None, ge=1, le=8192, description="null: 200 for text_image reasoning, 512 for a text answer"
    )
    noise_seed: int | None = Field(
        None,
        ge=0,
        lt=2**63,
        description="one noise seed for every row; null: from the run seed and sample_id",
    )
    noise_seed_column: str | None = Field(
        None, description="take each row's noise seed from this input column"
    )
    prompt_column: str = Field("instruction", description="the input column holding the prompt")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bfloat16 on GPUs, float32 on CPUs"
    )
    inputs: list[str] = Field(
        default_factory=list, description="run folders or .parquet shards of our schema"
    )
    prompts: str | None = Field(None, description="a text file, one prompt a line (instead of inputs)")
    #: What the run recorded when it started (the checkpoint's digest and defaults): set by the
    #: pipeline's ``pin``, outside the content hash.
    pinned: dict[str, Any] | None = None
    runtime: RuntimeConfig = RuntimeConfig(unit_size=32, batch_size=8, gpus_per_worker=1.0)

    #: Where the weights are is not what they are: the digest (pinned) is what counts.
    runtime_keys: ClassVar[tuple[str, ...]] = ("checkpoint", "checkpoint_cache", "pinned")

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        match = re.fullmatch(r"(\d+)x(\d+)", value)
        if value in ("auto", "default") or (match and min(int(match[1]), int(match[2])) >= 16):
            return value
        raise ValueError("size is auto, default or WIDTHxHEIGHT with both at least 16, e.g. 1024x768")

    def explicit_size(self) -> tuple[int, int] | None:
        """(height, width) of a WxH size, else None."""
        if "x" not in self.size:
            return None
        w, h = (int(v) for v in self.size.split("x"))
        return h, w
