"""What one sampling call asks for and what it gives back, and the official defaults per mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from PIL import Image

#: ``image``: text to image; ``edit``: an image and an instruction to an image; ``text_image``:
#: the model writes its reasoning first, then draws (with the source image where one is given);
#: ``text``: an answer (about the image where one is given).
Mode = Literal["image", "edit", "text_image", "text"]
MODES: tuple[str, ...] = ("image", "edit", "text_image", "text")

#: The official pipeline's guidance defaults, (all, part): ``_generate_image`` and its CoT variant.
GUIDANCE: dict[str, tuple[float, float]] = {"image": (4.5, 2.0), "edit": (4.5, 2.0), "text_image": (3.5, 1.5)}
#: Greedy tokens at most: the official CoT default (200); a text answer's (ours: the official
#: pipeline leaves it to transformers' generation config, 20 tokens, too short for an answer).
MAX_NEW_TOKENS: dict[str, int] = {"text_image": 200, "text": 512}


@dataclass
class Request:
    """One row to sample. ``height``/``width`` is the size the image is returned at; it is drawn at
    the largest multiples of 16 below and resized (LANCZOS) as the official pipeline does."""

    prompt: str
    mode: Mode = "image"
    image: Image.Image | None = None  # the source image (edit; optional for text and text_image)
    height: int = 512
    width: int = 512
    steps: int = 20
    all_cfg_scale: float | None = None  # None: the mode's official default (GUIDANCE)
    part_cfg_scale: float | None = None
    noise_seed: int = 0
    max_new_tokens: int | None = None  # None: MAX_NEW_TOKENS of the mode

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; one of {MODES}")
        if self.mode == "edit" and self.image is None:
            raise ValueError("an edit needs its source image")
        if self.mode != "text" and (self.height < 16 or self.width < 16):
            raise ValueError(f"an image of {self.width}x{self.height} is below 16 px on a side")
        if self.steps < 1 and self.mode != "text":
            raise ValueError("steps must be at least 1")

    @property
    def scales(self) -> tuple[float, float]:
        default = GUIDANCE.get(self.mode, GUIDANCE["image"])
        return (
            default[0] if self.all_cfg_scale is None else float(self.all_cfg_scale),
            default[1] if self.part_cfg_scale is None else float(self.part_cfg_scale),
        )

    @property
    def tokens(self) -> int:
        return MAX_NEW_TOKENS.get(self.mode, 0) if self.max_new_tokens is None else int(self.max_new_tokens)

    def draw_size(self, stride: int = 16) -> tuple[int, int]:
        """(height, width) the image is drawn at: the official ``size // stride * stride``."""
        return self.height // stride * stride, self.width // stride * stride


@dataclass
class Result:
    """``image`` [H, W, 3] uint8 at the requested size; ``text`` the answer (text) or the
    reasoning (text_image), ``ids`` its tokens up to and including the stop token; ``steps`` the
    latents after each denoising step, when the sampler was asked to keep them."""

    image: np.ndarray | None = None
    text: str | None = None
    ids: list[int] | None = None
    steps: list[torch.Tensor] = field(default_factory=list)
