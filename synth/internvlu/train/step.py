"""One forward of training: a collated :class:`Batch` in, the two loss sums out.

    module = TrainModule(model.vlm, model.generation_decoder)      # what FSDP2 shards
    latents = encode_latents(model.vae, batch, device, dtype)      # frozen VAE, outside it
    fm_rows, ntp_sum = module(batch, latents, noise)               # [G] errors, summed cross-entropy

Every generating row goes through the same path as at sampling: its tokens (left-padded, as the
processor pads) -> the VLM's hidden states -> the condition cut from the second ``<|im_start|>``
through ``<img>`` -> the projector -> the head, with the edit's reference latents and the VLM
image grids placed as the sampler places them. Only the noisy target and the timestep differ.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from synth.internvlu import vae as V
from synth.internvlu.train.batch import Batch
from synth.internvlu.train.losses import flow_matching, next_token_sum
from synth.internvlu.transformer import HeadInputs


@dataclass
class Latents:
    """The frozen VAE's part of a batch: clean target latents and edit references, per row."""

    x0: list[torch.Tensor | None]  # [z, H/8, W/8] of rows that generate
    refs: list[torch.Tensor | None]  # [1, z, h, w] of rows that keep an edit's source image


@dataclass
class Noise:
    """Per generating row (in ``Batch.generating`` order): sigma [1] and noise like its x0."""

    sigma: list[torch.Tensor]
    eps: list[torch.Tensor]


@torch.no_grad()
def encode_latents(vae: nn.Module, batch: Batch, device: torch.device, dtype: torch.dtype) -> Latents:
    """Normalised VAE latents of every target and reference; images of one size encode together."""

    def encode_all(images: list[torch.Tensor | None]) -> list[torch.Tensor | None]:
        out: list[torch.Tensor | None] = [None] * len(images)
        by_shape: dict[tuple, list[int]] = {}
        for i, im in enumerate(images):
            if im is not None:
                by_shape.setdefault(tuple(im.shape), []).append(i)
        for idx in by_shape.values():
            pixels = torch.stack([images[i] for i in idx]).to(device, dtype)  # [n, 3, H, W]
            z = V.encode(vae, pixels).float()  # [n, z, H/8, W/8]
            for k, i in enumerate(idx):
                out[i] = z[k]
        return out

    refs = encode_all(batch.references)
    return Latents(encode_all(batch.targets), [r[None] if r is not None else None for r in refs])


class TrainModule(nn.Module):
    """The VLM and the generation decoder under one ``forward`` (the root FSDP2 shards), with
    the official parameter names below ``vlm.`` and ``generation_decoder.``."""

    def __init__(self, vlm: nn.Module, generation_decoder: nn.Module, ntp: bool):
        super().__init__()
        self.vlm = vlm
        self.generation_decoder = generation_decoder
        self.ntp = ntp  # compute next-token loss (its weight is not 0)
        self._root_params: list[str] | None = None

    def vlm_trains(self) -> bool:
        return any(p.requires_grad for p in self.vlm.parameters())

    def forward(self, batch: Batch, latents: Latents, noise: Noise) -> tuple[torch.Tensor, torch.Tensor]:
        """(flow-matching error of each generating row [G], summed next-token cross-entropy)."""
        vlm, decoder = self.vlm, self.generation_decoder
        device = decoder.encoder_padding_token.device if hasattr(decoder, "encoder_padding_token") else None
        device = device or next(decoder.parameters()).device
        ids, mask = batch.input_ids.to(device), batch.attention_mask.to(device)
        pixels = batch.pixels.to(device) if batch.pixels is not None else None
        grad = contextlib.nullcontext() if self.vlm_trains() else torch.no_grad()
        with grad:
            states = vlm.hidden_states(ids, mask, pixels)  # (L+1) x [B, N, D]
        zero = states[-1].sum() * 0.0
        ntp = zero
        if self.ntp and batch.text_tokens:
            ntp = next_token_sum(states[-1], batch.labels.to(device), vlm.language_model.lm_head)

        rows = batch.generating
        if not rows:
            return zero[None][:0], ntp + self._untouched()
        sel = torch.tensor(rows, device=device)
        layers = [states[i].index_select(0, sel) for i in range(len(states))]
        conds, image_masks = vlm.condition(
            ids[sel], mask[sel], tuple(layers), decoder.config.vlm_select_layer
        )
        cond, cond_mask, cond_images = decoder.project(conds, image_masks)

        cfg = vlm.config
        grid = int(cfg.image_size // cfg.vision.patch_size * cfg.downsample_ratio)
        per_image = cfg.num_image_token
        x0 = [latents.x0[i] for i in rows]
        noisy = [(1 - s) * x + s * e for x, s, e in zip(x0, noise.sigma, noise.eps, strict=True)]
        inputs = HeadInputs(
            latents=[x.to(device) for x in noisy],
            timestep=torch.cat(noise.sigma).to(device) * 1000.0,
            cond=cond,
            cond_mask=cond_mask,
            cond_image_mask=cond_images,
            # the (f, h, w) of each VLM image in a row's condition, as the sampler gives them
            cond_image_grids=[[(1, grid, grid)] * (int(m.sum()) // per_image) for m in image_masks],
            refs=[latents.refs[i].to(device) if latents.refs[i] is not None else None for i in rows],
        )
        velocity = decoder.decoder(inputs)  # list of [C, H, W]
        fm = flow_matching(velocity, [x.to(device) for x in x0], [e.to(device) for e in noise.eps])
        return fm, ntp + self._untouched()

    def _untouched(self) -> torch.Tensor:
        """0 x every trainable parameter held whole in this forward (not inside an FSDP2 block).
        A parameter that this rank's rows did not use (the LM head without text targets, the
        projector without generating rows) then gets a zero gradient rather than none, and the
        ranks' gradient reductions stay the same size (they hang otherwise)."""
        from synth.internvlu.train.distributed import shard_units

        if self._root_params is None:  # after FSDP2 has swapped in its parameters: the first forward
            inside = {id(p) for b in shard_units(self) for p in b.parameters()}
            self._root_params = [
                n for n, p in self.named_parameters() if p.requires_grad and id(p) not in inside
            ]
        params = dict(self.named_parameters())
        terms = [params[n].sum() * 0.0 for n in self._root_params]
        return torch.stack(terms).sum() if terms else torch.zeros(())
