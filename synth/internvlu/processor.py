"""Prompts and pixels for InternVL-U, as the official processor makes them.

    proc = Processor.from_folder("ckpt/processor", template="qwen2_5-chat-v3")
    batch = proc(["a red cube"], mode="image", height=512, width=512)   # 3 rows: CFG's cond/drops

What has to match the released model's training to the token:
  * the user text gets its first letter upper-cased and a full stop unless it ends in
    ``.!?,:;`` (an image's ``<image>\\n`` prefix comes first, so an edit instruction keeps its case);
  * the conversation template: ``-imgen`` for text-to-image, ``-editing`` when an image is given,
    the plain one for text answers, each with its own system prompt;
  * image generation has three rows per prompt: the prompt, the text dropped (an edit keeps its
    image: ``<image>\\n`` + "Generate an image based on reference images."), everything dropped
    ("Here is a random image <img_uncond>:"); ``<img>`` is appended where drawing starts;
  * each image becomes ``<img>`` + ``<IMG_CONTEXT>`` x ``image_seq_length`` + ``</img>``;
  * rows are left-padded; pixels are bfloat16-rounded, as the official processor returns them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image

from synth.internvlu.checkpoint import read_json

#: System prompts of the conversation templates (the released model's, word for word).
SYSTEM = "你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。"
TEMPLATES = {
    "qwen2_5-chat-v3": SYSTEM,
    "qwen2_5-chat-v3-imgen": SYSTEM + "请通过详细描述图像中物体和背景的颜色、形状、大小、纹理、数量、文字内容以及空间位置关系等来对图像进行全面描述：",
    "qwen2_5-chat-v3-editing": SYSTEM + "请描述输入图像的关键特征（颜色、形状、大小、纹理、物体、背景等），然后解释用户的文本指令"
    "应该如何改变或修改图像，从而生成一个满足用户要求的新图像，并适当保持与原始输入的一致性。：",
}  # fmt: skip
#: The processor's own blank messages (its conversation templates carry others, with a newline,
#: that the released pipeline does not use).
BLANK_ALL = "Here is a random image <img_uncond>:"
BLANK_TEXT = "Generate an image based on reference images."
Mode = Literal["text", "image", "text_image"]


def normalise_text(text: str) -> str:
    """First character upper-cased, a full stop unless the text ends in punctuation."""
    text = text.strip()
    if text:
        text = text[0].upper() + text[1:]
        if text[-1] not in ".!?,:;":
            text += "."
    return text


def conversation(template: str, user: str) -> str:
    """One user turn in the ``MPT``-style ChatML the templates use, ready for the answer."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown conversation template {template!r}; known: {sorted(TEMPLATES)}")
    return (
        f"<|im_start|>system\n{TEMPLATES[template]}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def prompt_rows(prompt: str, images: int, mode: Mode, template: str = "qwen2_5-chat-v3") -> list[str]:
    """The text rows of one prompt with ``images`` input images (``<image>`` placeholders): one
    row for text answers, three for image generation (the prompt, text dropped, all dropped)."""
    if images and prompt.count("<image>") < images:
        prompt = "<image>\n" * (images - prompt.count("<image>")) + prompt
    user = normalise_text(prompt)
    if mode == "text":
        return [conversation(template, user)]
    family = template + ("-editing" if images else "-imgen")
    drop_text = "<image>\n" * user.count("<image>") + BLANK_TEXT if images else BLANK_ALL
    suffix = "<img>" if mode == "image" else ""
    return [conversation(family, u) + suffix for u in (user, drop_text, BLANK_ALL)]


def smart_size(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Both sides multiples of ``factor``, the area within [min_pixels, max_pixels], the aspect
    kept as closely as that allows (the Qwen2-VL rule the official generation processor uses)."""
    if height < factor or width < factor:
        raise ValueError(f"an image of {width}x{height} is smaller than {factor} px on a side")
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"an image of {width}x{height} is more than 200:1")
    h, w = round(height / factor) * factor, round(width / factor) * factor
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h, w = math.floor(height / beta / factor) * factor, math.floor(width / beta / factor) * factor
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h, w = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return h, w


def vit_pixels(image: Image.Image, size: int, mean: list[float], std: list[float]) -> torch.Tensor:
    """[3, S, S] for the ViT as the official ``GotOcr2ImageProcessorFast`` makes it: the uint8
    image resized by torchvision's antialiased bicubic (not PIL's: the two round differently on
    most resized images), /255, (x - mean) / std in float32, bf16-rounded."""
    import torchvision.transforms.v2.functional as TF
    from torchvision.transforms import InterpolationMode

    x = torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous()  # [3, H, W] uint8
    if x.shape[1:] != (size, size):
        x = TF.resize(x, [size, size], interpolation=InterpolationMode.BICUBIC, antialias=True)
    m, s = torch.tensor(mean).view(3, 1, 1), torch.tensor(std).view(3, 1, 1)
    return ((x.float() * (1 / 255) - m) / s).to(torch.bfloat16).float()


def generation_pixels(
    image: Image.Image, size: tuple[int, int], mean: list[float], std: list[float]
) -> torch.Tensor:
    """[3, h, w] in [-1, 1] for the VAE as the official generation processor makes it: PIL's
    bicubic resize to ``size`` (h, w), /255 in float64 then float32 (transformers' ``rescale``),
    (x - mean) / std in float32, bf16-rounded. All float32 differs in the last bit on resized
    images, and bf16 then rounds some of those pixels the other way."""
    img = image.convert("RGB")
    if img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), Image.BICUBIC)
    x = (np.asarray(img, dtype=np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy()).to(torch.bfloat16).float()


@dataclass
class Processor:
    """The tokenizer and the two image pipelines (ViT tiles, VAE pixels) of a checkpoint."""

    tokenizer: Any
    image_seq_length: int
    vit_size: int
    vit_mean: list[float]
    vit_std: list[float]
    gen_factor: int
    gen_min_pixels: int
    gen_max_pixels: int
    gen_mean: list[float]
    gen_std: list[float]
    vae_factor: int
    template: str = "qwen2_5-chat-v3"

    @classmethod
    def from_folder(
        cls, folder: str | Path, template: str = "qwen2_5-chat-v3", tokenizer: Any = None
    ) -> Processor:
        from transformers import AutoTokenizer

        folder = Path(folder)
        cfg = read_json(folder / "processor_config.json")
        vit, gen = cfg["image_processor_kwargs"], cfg["image_gen_processor_kwargs"]
        if vit.get("crop_to_patches"):
            raise ValueError(
                "processor: crop_to_patches is on; the released pipeline turns it off (one tile an image)"
            )
        patch = int(gen.get("vae_downsample_factor", 8))
        merge = int(1 / gen.get("gen_down_sample_ratio", 0.5))
        return cls(
            tokenizer=tokenizer or AutoTokenizer.from_pretrained(str(folder)),
            image_seq_length=int(cfg["image_seq_length"]),
            vit_size=int(vit["size"]["height"]),
            vit_mean=list(vit["image_mean"]),
            vit_std=list(vit["image_std"]),
            gen_factor=patch * merge,
            gen_min_pixels=int(gen.get("min_dynamic_patch", 4096)) * patch**2,
            gen_max_pixels=int(gen.get("max_dynamic_patch", 16384)) * patch**2,
            gen_mean=list(gen["image_mean"]),
            gen_std=list(gen["image_std"]),
            vae_factor=patch,
            template=template,
        )

    def vit_tile(self, image: Image.Image) -> torch.Tensor:
        """[3, S, S]: the image resized to one ViT tile."""
        return vit_pixels(image, self.vit_size, self.vit_mean, self.vit_std)

    def vae_pixels(self, image: Image.Image) -> torch.Tensor:
        """[3, H, W] in [-1, 1] at the generation processor's size (multiples of 16)."""
        h, w = smart_size(
            image.height, image.width, self.gen_factor, self.gen_min_pixels, self.gen_max_pixels
        )
        return generation_pixels(image, (h, w), self.gen_mean, self.gen_std)

    def expand_images(self, row: str) -> str:
        tokens = "<img>" + "<IMG_CONTEXT>" * self.image_seq_length + "</img>"
        return row.replace("<image>", tokens)

    def __call__(
        self,
        prompts: list[str],
        images: list[Image.Image | None] | None = None,
        mode: Mode = "text",
        height: int = 512,
        width: int = 512,
    ) -> dict[str, Any]:
        """A batch of prompts, each with at most one input image. Rows: one per prompt for text,
        ``[all conds ; all text-drops ; all full drops]`` for image generation (the official order).

        Returns ``input_ids`` and ``attention_mask`` [R, N] (left-padded), ``pixel_values`` [T, 3, S, S]
        (ViT tiles of the rows that show an image, in row order), ``pixel_values_gen`` [T', 3, H, W]
        (references, one per row that keeps its image), ``image_grid_thw_gen`` [G, 3] and
        ``generation_flags`` [G] (1: a grid to generate; 0: a reference), in the official order."""
        images = images or [None] * len(prompts)
        if len(images) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts for {len(images)} images")
        per_prompt = [
            prompt_rows(p, int(im is not None), mode, self.template)
            for p, im in zip(prompts, images, strict=True)
        ]
        kinds = range(len(per_prompt[0]))
        texts, tiles, refs, grids, flags = [], [], [], [], []
        target = [1, height // self.vae_factor, width // self.vae_factor]
        for (
            kind
        ) in kinds:  # rows grouped by kind: every prompt's cond, then every text drop, then every full drop
            for rows, image in zip(per_prompt, images, strict=True):
                row = rows[kind]
                texts.append(self.expand_images(row))
                if "<image>" in row and image is not None:
                    tiles.append(self.vit_tile(image))
                    if mode != "text":
                        ref = self.vae_pixels(image)
                        refs.append(ref)
                        grids.append([1, ref.shape[1] // self.vae_factor, ref.shape[2] // self.vae_factor])
                        flags.append(0)
                if mode != "text":
                    grids.append(target)
                    flags.append(1)
        enc = self.tokenizer(texts, padding=True, padding_side="left", return_tensors="pt")
        out: dict[str, Any] = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        if tiles:
            out["pixel_values"] = torch.stack(tiles)
        if refs:
            out["pixel_values_gen"] = pad_stack(refs)
        if mode != "text":
            out["image_grid_thw_gen"] = torch.tensor(grids, dtype=torch.long)
            out["generation_flags"] = torch.tensor(flags, dtype=torch.long)
        return out


def pad_stack(images: list[torch.Tensor]) -> torch.Tensor:
    """[3, H_i, W_i] images zero-padded at the bottom right to the largest: [N, 3, H, W]."""
    h, w = max(i.shape[1] for i in images), max(i.shape[2] for i in images)
    out = torch.zeros(len(images), 3, h, w)
    for k, img in enumerate(images):
        out[k, :, : img.shape[1], : img.shape[2]] = img
    return out
