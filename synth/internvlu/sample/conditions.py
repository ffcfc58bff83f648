"""From prompts (and source images) to what the head is conditioned on: the processor's three
rows per sample, the VLM's hidden states cut to the condition, the projection, the reference
latents of edits, and, in text-then-image mode, the rows extended by the model's own reasoning.

Rows are ``[every sample's condition ; every text drop ; every full drop]``, the official order,
so a batch of n samples is 3n rows and guidance takes them apart with ``chunk(3)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from synth.internvlu import vae as V
from synth.internvlu.sample.request import Request
from synth.internvlu.transformer import HeadInputs

if TYPE_CHECKING:
    from synth.internvlu.model import InternVLU


@dataclass
class Rows:
    """A left-padded batch of token rows and the ViT tiles of its images, in row order."""

    input_ids: torch.Tensor  # [R, N]
    attention_mask: torch.Tensor  # [R, N]
    pixels: torch.Tensor | None  # [T, 3, S, S]
    refs: list[torch.Tensor]  # [3, H_i, W_i] VAE pixels of each request with an image, in order


def encode_rows(model: InternVLU, requests: list[Request], mode: str, height: int, width: int) -> Rows:
    """The processor's rows for ``requests`` (one bucket: one drawing size)."""
    images = [r.image if r.mode != "image" else None for r in requests]
    batch = model.processor([r.prompt for r in requests], images, mode=mode, height=height, width=width)
    refs = []
    if "pixel_values_gen" in batch:  # the condition rows' references come first, padded to the largest
        factor = model.processor.vae_factor
        k = sum(im is not None for im in images)
        grids = batch["image_grid_thw_gen"][batch["generation_flags"] == 0][:k].tolist()
        for pixels, (_, h, w) in zip(batch["pixel_values_gen"][:k], grids, strict=True):
            refs.append(pixels[:, : h * factor, : w * factor])
    return Rows(batch["input_ids"], batch["attention_mask"], batch.get("pixel_values"), refs)


def left_pad(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token lists as [R, N] ids and mask, padded on the left (as the processor pads)."""
    n = max(len(r) for r in rows)
    ids = torch.full((len(rows), n), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, n - len(r) :] = torch.tensor(r, dtype=torch.long)
            mask[i, n - len(r) :] = 1
    return ids, mask


def kept_reasoning(prompt: list[int], generated: list[int], stops: set[int]) -> list[int]:
    """The condition row of text-then-image mode, as the official ``_generate_image_with_cot``
    builds it for one prompt: the prompt and the generated tokens up to the first stop token
    (``<|im_end|>`` or ``<img>``), less one more token; with no stop, the last two are dropped.
    (The official arithmetic, kept as it is: it is what the released model was sampled with.)"""
    stop = next((i for i, t in enumerate(generated) if t in stops), len(generated) - 1)
    return (prompt + generated)[: len(prompt) + stop - 1]


def reasoning_rows(model: InternVLU, rows: Rows, n: int, generated: list[list[int]]) -> Rows:
    """The 3n rows of text-then-image mode once the first n have reasoned: the condition rows
    extended by their reasoning, every row ended by ``<img>`` (where drawing starts)."""
    ids = model.vlm.token_ids
    stops, img = {ids["<|im_end|>"], ids["<img>"]}, ids["<img>"]
    unpadded = [r[m.bool()].tolist() for r, m in zip(rows.input_ids, rows.attention_mask, strict=True)]
    new = [kept_reasoning(unpadded[k], generated[k], stops) for k in range(n)] + unpadded[n:]
    input_ids, attention_mask = left_pad([r + [img] for r in new], model.tokenizer.pad_token_id)
    return Rows(input_ids, attention_mask, rows.pixels, rows.refs)


@torch.no_grad()
def head_inputs(model: InternVLU, requests: list[Request], rows: Rows, latent: tuple[int, int]) -> HeadInputs:
    """The head's condition for the 3n rows: VLM hidden states of the selected layers from the
    second ``<|im_start|>`` through ``<img>``, projected; reference latents and the grids of the
    VLM's image tokens for the two rows of an edit that keep the image."""
    device, dtype = model.device, model.dtype
    n = len(requests)
    ids, mask = rows.input_ids.to(device), rows.attention_mask.to(device)
    pixels = rows.pixels.to(device, dtype) if rows.pixels is not None else None
    decoder = model.generation_decoder
    states = model.vlm.hidden_states(ids, mask, pixels)
    conds, image_masks = model.vlm.condition(ids, mask, states, decoder.config.vlm_select_layer)
    cond, cond_mask, cond_images = decoder.project(conds, image_masks)

    vit = model.vlm.config
    grid = int(vit.image_size // vit.vision.patch_size * vit.downsample_ratio)
    refs: list[torch.Tensor | None] = [None] * (3 * n)
    grids: list[list[tuple[int, int, int]]] = [[] for _ in range(3 * n)]
    pixels_gen = iter(rows.refs)
    for k, req in enumerate(requests):
        if req.image is None or req.mode == "image":
            continue
        # the latents of the image condition the two rows that keep it (the official pipeline
        # encodes it for each; one encoding serves both)
        ref = V.encode(model.vae, next(pixels_gen)[None].to(device, dtype))  # [1, z, h', w']
        refs[k] = refs[n + k] = ref
        grids[k] = grids[n + k] = [(1, grid, grid)]
    z = model.vae.config.z_dim
    shapes = [torch.empty(z, *latent, device="meta")] * (3 * n)
    return HeadInputs(
        latents=shapes,
        timestep=torch.zeros(3 * n),
        cond=cond,
        cond_mask=cond_mask,
        cond_image_mask=cond_images,
        cond_image_grids=grids,
        refs=refs,
    )
