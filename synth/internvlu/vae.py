"""The VAE (diffusers' ``AutoencoderKLQwenImage``) with the official latent normalisation and the
official conversion of decoded pixels to uint8."""

from __future__ import annotations

import torch
from torch import nn


def _stats(vae: nn.Module, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = vae.config
    shape = (1, cfg.z_dim, 1, 1, 1)
    mean = torch.tensor(cfg.latents_mean).view(shape).to(like.device, like.dtype)
    std = torch.tensor(cfg.latents_std).view(shape).to(like.device, like.dtype)
    return mean, std


def encode(vae: nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] in [-1, 1] -> normalised latents [B, z, H/8, W/8]: the posterior's mode,
    then ``(z - mean) / std``."""
    x = pixels.to(vae.dtype).unsqueeze(2)  # [B, 3, 1, H, W]: one frame
    z = vae.encode(x).latent_dist.mode()
    mean, std = _stats(vae, z)
    return ((z - mean) / std).squeeze(2)


def decode(vae: nn.Module, latents: torch.Tensor) -> torch.Tensor:
    """Normalised latents [B, z, h, w] -> pixels [B, 3, 8h, 8w] in about [-1, 1] (unclamped).

    Denormalised as the official code does, ``z / (1 / std) + mean``: not the same float
    rounding as ``z * std + mean``."""
    z = latents.to(vae.dtype).unsqueeze(2)
    mean, std = _stats(vae, z)
    z = z / (1.0 / std) + mean
    return vae.decode(z, return_dict=False)[0][:, :, 0]


def to_uint8(pixels: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] in about [-1, 1] -> [B, H, W, 3] uint8, the official way:
    ``(127.5 x + 128) / 255`` clamped to [0, 1], times 255, truncated (offset 128, not 127.5)."""
    x = ((127.5 * pixels.float() + 128.0) / 255.0).clamp(0, 1) * 255
    return x.to(torch.uint8).permute(0, 2, 3, 1)
