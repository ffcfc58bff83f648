"""Batched InternVL-U sampling: many rows per forward, every number as the official pipeline's.

    sampler = Sampler(InternVLU.from_pretrained("ckpt", dtype=torch.bfloat16, device="cuda"))
    [result] = sampler([Request("a red cube", mode="image", height=512, width=512, noise_seed=42)])

Requests are grouped into buckets that can share a forward: the same drawing size, steps and
guidance (the scheduler's state and the latents stack only then). Each sample's noise comes from
its own seed, so a row gives the same image alone, in any batch, on any worker (to float
rounding: padding in a batch moves where rounding falls). Per bucket of n samples:

    text_image only: greedy reasoning on the n condition rows, which then end in it
    3n rows -> VLM hidden states -> condition -> projection        (once)
    head.prepare: text and reference tokens, positions, rotations  (once)
    each step: head on [x; x; x] -> 3-way guidance -> DPM-Solver++ step
    VAE decode -> official uint8 -> LANCZOS to the requested size
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from synth.internvlu import vae as V
from synth.internvlu.sample.conditions import encode_rows, head_inputs, reasoning_rows
from synth.internvlu.sample.guidance import guide, initial_noise
from synth.internvlu.sample.request import Request, Result

if TYPE_CHECKING:
    from synth.internvlu.model import InternVLU

#: Guidance rescales each difference by its norm while t is above this (official default).
TIMESTEP_TRUNC = 930
#: The scheduler shift the official pipeline always sets (``timestep_shift``).
FLOW_SHIFT = 3.0


class Sampler:
    """Draws, edits and answers for a batch of :class:`Request`, on the model's device and dtype."""

    def __init__(self, model: InternVLU, keep_steps: bool = False):
        self.model = model
        self.keep_steps = keep_steps  # keep every step's latents in Result.steps (parity checks)
        gen = model.processor
        self.stride = gen.gen_factor  # the official drawing size is a multiple of merge x patch

    @torch.no_grad()
    def __call__(self, requests: list[Request]) -> list[Result]:
        """Results in the order of ``requests``."""
        results: list[Result | None] = [None] * len(requests)
        buckets: dict[tuple, list[int]] = defaultdict(list)
        for i, r in enumerate(requests):
            if r.mode == "text":
                key = ("text", r.tokens)
            else:
                key = (r.mode == "text_image", r.draw_size(self.stride), r.steps, r.scales, r.tokens)
            buckets[key].append(i)
        for key, idx in buckets.items():
            batch = [requests[i] for i in idx]
            out = self.answer(batch) if key[0] == "text" else self.draw(batch)
            for i, res in zip(idx, out, strict=True):
                results[i] = res
        return results  # type: ignore[return-value]

    def _decode_text(self, ids: list[int]) -> str:
        stops = {self.model.vlm.token_ids["<|im_end|>"], self.model.vlm.token_ids["<img>"]}
        body = ids[:-1] if ids and ids[-1] in stops else ids
        return self.model.tokenizer.decode(body, skip_special_tokens=True).strip()

    @torch.no_grad()
    def answer(self, requests: list[Request]) -> list[Result]:
        """Greedy text answers (one bucket: the same token budget)."""
        model = self.model
        rows = encode_rows(model, requests, "text", 0, 0)
        pixels = rows.pixels.to(model.device, model.dtype) if rows.pixels is not None else None
        out = model.vlm.generate(
            rows.input_ids.to(model.device),
            rows.attention_mask.to(model.device),
            pixels,
            max_new_tokens=requests[0].tokens,
        )
        return [Result(text=self._decode_text(ids), ids=ids) for ids in out]

    @torch.no_grad()
    def draw(self, requests: list[Request]) -> list[Result]:
        """Images for one bucket: same drawing size, steps, guidance and (text_image) budget."""
        model = self.model
        first = requests[0]
        n = len(requests)
        height, width = first.draw_size(self.stride)
        factor = model.processor.vae_factor
        latent = (height // factor, width // factor)
        results = [Result() for _ in requests]

        if first.mode == "text_image":
            rows = encode_rows(model, requests, "text_image", height, width)
            tiles = sum(r.image is not None for r in requests)  # the condition rows' tiles come first
            pixels = rows.pixels[:tiles].to(model.device, model.dtype) if tiles else None
            generated = model.vlm.generate(
                rows.input_ids[:n].to(model.device),
                rows.attention_mask[:n].to(model.device),
                pixels,
                max_new_tokens=first.tokens,
            )
            for res, ids in zip(results, generated, strict=True):
                res.ids, res.text = ids, self._decode_text(ids)
            rows = reasoning_rows(model, rows, n, generated)
        else:
            rows = encode_rows(model, requests, "image", height, width)

        head = model.generation_decoder.decoder
        prepared = head.prepare(head_inputs(model, requests, rows, latent))
        z = model.vae.config.z_dim
        latents = torch.cat([initial_noise(r.noise_seed, z, *latent) for r in requests]).to(model.device)
        scheduler = model.scheduler(FLOW_SHIFT)
        scheduler.set_timesteps(first.steps, device=model.device)
        all_scale, part_scale = first.scales
        for t in scheduler.timesteps:
            velocity = head.velocity(prepared, torch.cat([latents] * 3), t.expand(3 * n) * 1.0).float()
            cond, part, uncond = velocity.chunk(3)
            guided = guide(cond, part, uncond, all_scale, part_scale, bool(t > TIMESTEP_TRUNC))
            if guided.shape[1] == 2 * z:  # a head that also predicts variance: the official keeps the mean
                guided = guided[:, :z]
            latents = scheduler.step(guided, t, latents, return_dict=False)[0]
            if self.keep_steps:
                for k, res in enumerate(results):
                    res.steps.append(latents[k : k + 1].detach().cpu().clone())

        images = V.to_uint8(V.decode(model.vae, latents.to(model.dtype))).cpu().numpy()
        for res, req, img in zip(results, requests, images, strict=True):
            pic = Image.fromarray(img)
            if pic.size != (req.width, req.height):
                pic = pic.resize((req.width, req.height), Image.Resampling.LANCZOS)
            res.image = np.asarray(pic)
        return results
