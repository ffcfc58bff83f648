"""The initial noise and the three-way classifier-free guidance, as the official pipeline does them."""

from __future__ import annotations

import torch


def initial_noise(seed: int, channels: int, height: int, width: int) -> torch.Tensor:
    """[1, C, H, W] float32 drawn exactly as the official pipeline draws one prompt's latents:
    ``torch.randn`` from a CPU generator seeded with ``seed``. A user with an official image
    and its seed gets the same starting point here."""
    generator = torch.Generator("cpu").manual_seed(int(seed))
    return torch.randn((1, channels, height, width), generator=generator, dtype=torch.float32)


def _damping(norm: torch.Tensor, k: float = 0.4) -> torch.Tensor:
    """The official ``process_diff_norm``: n^k where the norm exceeds 1, else 1."""
    return torch.where(norm > 1.0, torch.pow(norm, k), torch.where(norm < 1.0, torch.ones_like(norm), norm))


def guide(
    cond: torch.Tensor,
    part: torch.Tensor,
    uncond: torch.Tensor,
    all_scale: torch.Tensor | float,
    part_scale: torch.Tensor | float,
    rescale: bool,
) -> torch.Tensor:
    """``uncond + part_scale (part - uncond) + all_scale (cond - part)`` on [B, C, H, W]; with
    ``rescale`` (the official pipeline's steps with t > 930) each difference is first divided by
    its channel norm to the power 0.4 where that norm exceeds 1. Same operation order as the
    official code, so float32 results are bit-equal."""
    if rescale:
        part_norm = torch.norm(part - uncond, dim=1, keepdim=True)
        all_norm = torch.norm(cond - part, dim=1, keepdim=True)
        return (
            uncond
            + part_scale * (part - uncond) / _damping(part_norm)
            + all_scale * (cond - part) / _damping(all_norm)
        )
    return uncond + part_scale * (part - uncond) + all_scale * (cond - part)
