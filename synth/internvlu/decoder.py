"""The generation decoder: the VLM condition projected into the head's width, and the head.

``generation_decoder/`` of the official layout holds ``decoder.*`` (the head), ``decoder_projector``
(Linear, SiLU, Linear: the official ``mlp2x_gelu`` is SiLU in fact) and ``encoder_padding_token``.
Its ``config.json`` carries keys the released inference ignores (loss weighting, CFG defaults...);
they are kept as read so a save writes back the same file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from synth.internvlu.transformer import HeadConfig, InternVLUTransformer2DModel

#: What ``InternVLUGenerationDecoderConfig`` writes besides the keys read here (official defaults).
OFFICIAL_DEFAULTS: dict[str, Any] = {
    "vae_projector_type": "mlp2x_gelu",
    "visual_input_hidden_size": 4096,
    "vae_input_hidden_size": 64,
    "sigmas_as_weight": False,
    "discrete_timestep": False,
    "weighting_scheme": "logit_normal",
    "logit_mean": 0.0,
    "logit_std": 1.0,
    "mode_scale": 1.29,
    "all_cfg_scale": 0.0,
    "part_cfg_scale": 0.0,
    "mask_weight_type": None,
    "gen_image_height": 512,
    "gen_image_width": 512,
    "vae_downsample_factor": 32,
    "region_weighting": False,
    "flow_shift": 3.0,
    "qk_norm": None,
}


@dataclass
class DecoderConfig:
    """``generation_decoder/config.json``: what inference reads, and the rest kept as read."""

    input_hidden_size: int = 4096
    output_hidden_size: int = 2048
    decoder_projector_type: str = "mlp2x_gelu"
    padding_encoder_hidden_states: bool = True
    pad_to_fix_length: bool = True
    max_sequence_length: int = 512
    vlm_select_layer: list[int] = field(default_factory=lambda: [-1])
    video_position_scale_factor: float = 1.0
    vlm_cond_position_scale_factor: float = 1.0
    head: HeadConfig = field(default_factory=HeadConfig)
    extra: dict[str, Any] = field(default_factory=lambda: dict(OFFICIAL_DEFAULTS))

    _READ = (
        "input_hidden_size",
        "output_hidden_size",
        "decoder_projector_type",
        "padding_encoder_hidden_states",
        "pad_to_fix_length",
        "max_sequence_length",
        "vlm_select_layer",
        "video_position_scale_factor",
        "vlm_cond_position_scale_factor",
    )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DecoderConfig:
        if d.get("decoder_projector_type", "mlp2x_gelu") not in ("mlp2x_gelu", "identity"):
            raise ValueError(f"unknown decoder_projector_type {d['decoder_projector_type']!r}")
        head = dict(d.get("decoder_config") or {})
        # the official decoder copies these two into the head's config at construction
        head["video_position_scale_factor"] = d.get("video_position_scale_factor", 1.0)
        head["vlm_cond_position_scale_factor"] = d.get("vlm_cond_position_scale_factor", 1.0)
        skip = {*cls._READ, "decoder_config", "model_type", "is_composition"}
        return cls(
            **{k: d[k] for k in cls._READ if k in d},
            head=HeadConfig.from_dict(head),
            extra={k: v for k, v in d.items() if k not in skip},
        )

    def to_dict(self) -> dict[str, Any]:
        d = {**self.extra, **{k: getattr(self, k) for k in self._READ}}
        d["decoder_config"] = self.head.to_dict()
        d["model_type"] = "internvlu_generation_decoder"
        d["is_composition"] = False
        return d


class InternVLUGenerationDecoder(nn.Module):
    """Projector, padding token and head, named as the official checkpoint."""

    def __init__(self, config: DecoderConfig):
        super().__init__()
        if config.head.joint_attention_dim != config.output_hidden_size:
            raise ValueError(
                f"decoder_config.joint_attention_dim {config.head.joint_attention_dim} must equal "
                f"output_hidden_size {config.output_hidden_size}"
            )
        self.config = config
        self.decoder = InternVLUTransformer2DModel(config.head)
        if config.padding_encoder_hidden_states:
            self.encoder_padding_token = nn.Parameter(torch.zeros(config.input_hidden_size))
        if config.decoder_projector_type == "identity":
            self.decoder_projector: nn.Module = nn.Identity()
        else:
            out = config.output_hidden_size
            self.decoder_projector = nn.Sequential(
                nn.Linear(config.input_hidden_size, 3 * out), nn.SiLU(), nn.Linear(3 * out, out)
            )

    def project(
        self, conds: list[torch.Tensor], image_masks: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pad each sample's condition [L_i, input_hidden] with ``encoder_padding_token`` to
        ``max_sequence_length`` (tokens beyond it are dropped, as the official code does), then
        project. Returns cond [B, L, output_hidden], valid mask [B, L] and image-token mask [B, L]."""
        cfg = self.config
        longest = max(c.shape[0] for c in conds)
        length = cfg.max_sequence_length if cfg.pad_to_fix_length else max(longest, cfg.max_sequence_length)
        ref = self.encoder_padding_token
        padded = ref[None, None].repeat(len(conds), length, 1)  # [B, L, input_hidden]
        mask = torch.zeros(len(conds), length, dtype=torch.bool, device=ref.device)
        images = torch.zeros_like(mask)
        for i, c in enumerate(conds):
            n = min(c.shape[0], length)
            padded[i, :n] = c[:n].to(padded.dtype)
            mask[i, :n] = True
            if image_masks is not None:
                images[i, :n] = image_masks[i][:n].bool()
        return self.decoder_projector(padded), mask, images
