"""InternViT, the VLM's vision encoder, with the official parameter names (``vision_model.*``).

A plain ViT: 14-px patches, a class token, learned positions (bicubically resized when a tile is
not the native size), pre-norm blocks with layer scales ``ls1``/``ls2``. The VLM drops the class
token, folds 2x2 neighbours into channels (pixel shuffle ``v2``) and maps them with ``mlp1``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class VisionConfig:
    """``vlm/config.json`` ``vision_config`` (official names). Defaults: InternViT-300M."""

    num_channels: int = 3
    patch_size: int = 14
    image_size: int = 448
    qkv_bias: bool = True
    hidden_size: int = 1024
    num_attention_heads: int = 16
    intermediate_size: int = 4096
    qk_normalization: bool = False
    num_hidden_layers: int = 24
    hidden_act: str = "gelu"
    norm_type: str = "layer_norm"
    layer_norm_eps: float = 1e-6

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VisionConfig:
        cfg = cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})
        if cfg.hidden_act != "gelu":
            raise ValueError(f"vision_config.hidden_act {cfg.hidden_act!r}: only 'gelu' is supported")
        if cfg.norm_type not in ("layer_norm", "rms_norm"):
            raise ValueError(f"vision_config.norm_type {cfg.norm_type!r} is not layer_norm or rms_norm")
        return cfg


class InternRMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


def _norm(cfg: VisionConfig, dim: int) -> nn.Module:
    if cfg.norm_type == "rms_norm":
        return InternRMSNorm(dim, cfg.layer_norm_eps)
    return nn.LayerNorm(dim, eps=cfg.layer_norm_eps)


class Embeddings(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.grid = cfg.image_size // cfg.patch_size
        d = cfg.hidden_size
        self.class_embedding = nn.Parameter(torch.zeros(1, 1, d))
        self.patch_embedding = nn.Conv2d(
            cfg.num_channels, d, kernel_size=cfg.patch_size, stride=cfg.patch_size
        )
        self.position_embedding = nn.Parameter(torch.zeros(1, self.grid**2 + 1, d))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        # pixels [N, 3, H, W] -> [N, 1 + (H/14)*(W/14), D]
        dtype = self.patch_embedding.weight.dtype
        patches = self.patch_embedding(pixels.to(dtype))  # [N, D, h, w]
        n, d, h, w = patches.shape
        patches = patches.flatten(2).transpose(1, 2)
        pos = self.position_embedding[:, 1:].float().reshape(1, self.grid, self.grid, d).permute(0, 3, 1, 2)
        pos = F.interpolate(pos, size=(h, w), mode="bicubic", align_corners=False)
        pos = pos.reshape(1, d, h * w).permute(0, 2, 1).to(dtype)  # [1, h*w, D]
        cls = self.class_embedding.expand(n, 1, -1).to(dtype)
        return torch.cat([cls, patches], dim=1) + torch.cat([self.position_embedding[:, :1], pos], dim=1).to(
            dtype
        )


class Attention(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        d = cfg.hidden_size
        self.heads = cfg.num_attention_heads
        self.qkv = nn.Linear(d, 3 * d, bias=cfg.qkv_bias)
        self.proj = nn.Linear(d, d)
        self.qk_normalization = cfg.qk_normalization
        if cfg.qk_normalization:
            self.q_norm = InternRMSNorm(d, cfg.layer_norm_eps)
            self.k_norm = InternRMSNorm(d, cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, c).unbind(2)  # [B, N, C] each
        if self.qk_normalization:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k, v = (t.view(b, n, self.heads, c // self.heads).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v)  # [B, H, N, Dh]
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.attn = Attention(cfg)
        self.mlp = Mlp(cfg)
        self.norm1 = _norm(cfg, cfg.hidden_size)
        self.norm2 = _norm(cfg, cfg.hidden_size)
        self.ls1 = nn.Parameter(torch.ones(cfg.hidden_size))
        self.ls2 = nn.Parameter(torch.ones(cfg.hidden_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x).to(x.dtype)) * self.ls1
        return x + self.mlp(self.norm2(x).to(x.dtype)) * self.ls2


class Encoder(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])


class InternVisionModel(nn.Module):
    def __init__(self, cfg: VisionConfig):
        super().__init__()
        self.config = cfg
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)

    def forward(self, pixels: torch.Tensor, layer: int = -1) -> torch.Tensor:
        """Hidden states [N, 1 + patches, D] after ``layer`` (-1: the last; Python indexing over
        the embeddings and every layer's output, as ``hidden_states[layer]`` is officially)."""
        x = self.embeddings(pixels)
        states = [x]
        for block in self.encoder.layers:
            x = block(x)
            states.append(x)
        return states[layer]


def pixel_shuffle(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """[N, h*w, C] -> [N, h*w*ratio^2, C/ratio^2]: neighbours folded into channels in the official
    ``pixel_shuffle_v2`` order (width first, then height)."""
    n, tokens, c = x.shape
    h = w = int(tokens**0.5)
    x = x.reshape(n, h, int(w * ratio), int(c / ratio))  # fold pairs along w
    x = x.permute(0, 2, 1, 3).reshape(n, int(w * ratio), int(h * ratio), int(c / ratio**2))  # then along h
    return x.permute(0, 2, 1, 3).reshape(n, int(h * ratio * w * ratio), int(c / ratio**2))
