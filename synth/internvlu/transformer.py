"""The InternVL-U generation head: a dual-stream MMDiT over image latents and VLM condition tokens.

Written from the official ``InternVLUTransformer2DModel`` (its "ve" mode and any-resolution
packing, the path the released pipeline takes), with its parameter names (positions and RoPE
in ``rope.py``), so
``generation_decoder/``'s ``decoder.*`` tensors load with no rename table.

What it computes, per sample, on one sequence ``[target image ; reference images ; text]``:
  * image tokens are 2x2 latent patches ``(c ph pw)``, row-major; text tokens are the projected
    VLM condition after an RMSNorm;
  * every block picks each token's stream (image or text) for its AdaLN modulation, q/k/v and
    output projections and FFN; attention is joint over the whole sequence of one sample;
  * each query projection also yields a per-head sigmoid gate on the attention output;
  * 3-axis RoPE over (frame, h, w): image positions are centred, references are later frames
    of the target, text positions follow the largest image position on all three axes.

Samples are batched by padding to the longest sequence with a key mask; that equals the
official code's one-sequence-per-sample packing (masked keys get exactly zero weight).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from synth.internvlu.rope import RopeFreqs, apply_rope, sample_positions


@dataclass
class HeadConfig:
    """The head's ``decoder_config`` (official names). Defaults: the released 1.7B head."""

    patch_size: int = 2
    in_channels: int = 64
    out_channels: int = 16
    num_layers: int = 20
    attention_head_dim: int = 128
    num_attention_heads: int = 12
    joint_attention_dim: int = 2048
    axes_dims_rope: tuple[int, int, int] = (16, 56, 56)
    video_position_scale_factor: float = 1.0
    vlm_cond_position_scale_factor: float = 1.0

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HeadConfig:
        """From a ``decoder_config`` dict; keys of diffusers' bookkeeping (``_class_name``...) are
        ignored, unknown model keys are an error so a changed head is not half-read."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in d if k not in known and not k.startswith("_"))
        if unknown:
            raise ValueError(f"decoder_config has keys this head does not know: {unknown}")
        kw = {k: v for k, v in d.items() if k in known}
        if "axes_dims_rope" in kw:
            kw["axes_dims_rope"] = tuple(kw["axes_dims_rope"])
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["axes_dims_rope"] = list(self.axes_dims_rope)
        return d

    @property
    def inner_dim(self) -> int:
        return self.num_attention_heads * self.attention_head_dim


class RMSNorm(nn.Module):
    """RMSNorm computed in float32 and cast as diffusers' is (the checkpoint's ``weight``)."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + self.eps)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            x = x.to(self.weight.dtype)
        return x * self.weight


def layer_norm32(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """LayerNorm without affine, in float32, cast back (the official ``FP32LayerNorm``)."""
    return F.layer_norm(x.float(), x.shape[-1:], eps=eps).to(x.dtype)


def timestep_features(t: torch.Tensor, dim: int = 256, scale: float = 1000.0) -> torch.Tensor:
    """Sinusoidal features ``[cos | sin]`` of ``scale * t`` (diffusers' ``Timesteps`` with
    ``flip_sin_to_cos``; the official pipeline passes t in 0..1000, so the phase is t * 1000)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = scale * (t[:, None].float() * freqs[None])  # [B, half]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, in_channels: int, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(in_channels, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.silu(self.linear_1(x)))


class TimeTextEmbed(nn.Module):
    """``time_text_embed``: timestep features -> Linear, SiLU, Linear."""

    def __init__(self, dim: int):
        super().__init__()
        self.timestep_embedder = TimestepEmbedding(256, dim)

    def forward(self, t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return self.timestep_embedder(timestep_features(t).to(dtype))  # [B, D]


class GeluProj(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.proj = nn.Linear(dim, inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.proj(x), approximate="tanh")


class FeedForward(nn.Module):
    """GELU-tanh FFN of width 4x, named as diffusers' ``FeedForward`` (``net.0.proj``, ``net.2``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.net = nn.ModuleList([GeluProj(dim, 4 * dim), nn.Dropout(0.0), nn.Linear(4 * dim, dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.net:
            x = layer(x)
        return x


@dataclass
class Streams:
    """Which token of a padded batch [B, S] is in which stream, as flat indices into B*S.

    Each stream's layers run on its own tokens only (the official code runs both streams'
    layers on every token and keeps one by a mask: the same numbers for twice the work);
    padding tokens run through neither and stay zero."""

    shape: tuple[int, int]
    img: torch.Tensor  # [N_img] flat indices
    txt: torch.Tensor  # [N_txt]
    img_batch: torch.Tensor  # [N_img] sample of each image token
    txt_batch: torch.Tensor
    key_mask: torch.Tensor | None  # [B, S] bool, None when nothing is padding

    def apply(self, x: torch.Tensor, f_img: nn.Module, f_txt: nn.Module) -> torch.Tensor:
        """``f_img`` on image tokens and ``f_txt`` on text tokens of ``x`` [B, S, D_in]."""
        b, s = self.shape
        flat = x.reshape(b * s, -1)
        y_img, y_txt = f_img(flat[self.img]), f_txt(flat[self.txt])
        out = flat.new_zeros(b * s, y_img.shape[-1])
        out[self.img], out[self.txt] = y_img, y_txt
        return out.view(b, s, -1)

    def per_token(self, img: torch.Tensor, txt: torch.Tensor) -> torch.Tensor:
        """Per-sample rows [B, D] of each stream spread over the tokens: [B, S, D]."""
        b, s = self.shape
        out = img.new_zeros(b * s, img.shape[-1])
        out[self.img], out[self.txt] = img[self.img_batch], txt[self.txt_batch]
        return out.view(b, s, -1)


class Attention(nn.Module):
    """Joint attention with stream-selected projections and per-head output gates.

    ``to_q``/``add_q_proj`` emit ``[q | gate]`` per head (2 x head_dim each)."""

    def __init__(self, dim: int, heads: int, head_dim: int, eps: float = 1e-6):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        inner = heads * head_dim
        self.to_q = nn.Linear(dim, inner * 2)
        self.to_k = nn.Linear(dim, inner)
        self.to_v = nn.Linear(dim, inner)
        self.add_q_proj = nn.Linear(dim, inner * 2)
        self.add_k_proj = nn.Linear(dim, inner)
        self.add_v_proj = nn.Linear(dim, inner)
        self.norm_q = RMSNorm(head_dim, eps)
        self.norm_k = RMSNorm(head_dim, eps)
        self.norm_added_q = RMSNorm(head_dim, eps)
        self.norm_added_k = RMSNorm(head_dim, eps)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(0.0)])
        self.to_add_out = nn.Linear(inner, dim)

    def forward(self, x: torch.Tensor, streams: Streams, freqs: torch.Tensor) -> torch.Tensor:
        # x [B, S, D]; freqs [B, S, Dh/2] complex
        b, s, _ = x.shape
        h, dh = self.heads, self.head_dim
        qg = streams.apply(x, self.to_q, self.add_q_proj).view(b, s, h, 2 * dh)
        q, gate = qg[..., :dh], qg[..., dh:].reshape(b, s, h * dh)  # [B, S, H, Dh], [B, S, H*Dh]
        k = streams.apply(x, self.to_k, self.add_k_proj).view(b, s, h, dh)
        v = streams.apply(x, self.to_v, self.add_v_proj).view(b, s, h, dh)
        q = streams.apply(q, lambda t: self.norm_q(t.view(-1, h, dh)).flatten(1),
                          lambda t: self.norm_added_q(t.view(-1, h, dh)).flatten(1)).view(b, s, h, dh)  # fmt: skip
        k = streams.apply(k, lambda t: self.norm_k(t.view(-1, h, dh)).flatten(1),
                          lambda t: self.norm_added_k(t.view(-1, h, dh)).flatten(1)).view(b, s, h, dh)  # fmt: skip
        q, k = apply_rope(q, freqs), apply_rope(k, freqs)
        mask = None
        if streams.key_mask is not None:
            mask = torch.zeros(b, 1, 1, s, dtype=q.dtype, device=q.device)
            mask = mask.masked_fill(~streams.key_mask[:, None, None, :], torch.finfo(q.dtype).min)
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask
        )
        out = out.transpose(1, 2).reshape(b, s, h * dh)  # [B, S, H*Dh]
        return streams.apply(out, self.to_out[0], self.to_add_out) * torch.sigmoid(gate)


class TransformerBlock(nn.Module):
    """One dual-stream block: per-stream AdaLN (shift, scale, gate) x 2, attention, FFN."""

    def __init__(self, dim: int, heads: int, head_dim: int, eps: float = 1e-6):
        super().__init__()
        self.img_mod = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        self.txt_mod = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))
        self.attn = Attention(dim, heads, head_dim, eps)
        self.img_mlp = FeedForward(dim)
        self.txt_mlp = FeedForward(dim)
        self.eps = eps

    def forward(
        self, x: torch.Tensor, temb: torch.Tensor, streams: Streams, freqs: torch.Tensor
    ) -> torch.Tensor:
        # x [B, S, D]; temb [B, D]
        mod = streams.per_token(self.img_mod(temb), self.txt_mod(temb))  # [B, S, 6D]
        shift1, scale1, gate1, shift2, scale2, gate2 = mod.chunk(6, dim=-1)
        normed = layer_norm32(x, self.eps)  # both streams' norms have no affine: one computation
        x = x + gate1 * self.attn(normed * (1 + scale1) + shift1, streams, freqs)
        normed = layer_norm32(x, self.eps) * (1 + scale2) + shift2
        x = x + gate2 * streams.apply(normed, self.img_mlp, self.txt_mlp)
        if x.dtype == torch.float16:
            x = x.clip(-65504, 65504)
        return x


class NormOut(nn.Module):
    """AdaLayerNormContinuous: LayerNorm (no affine) then ``(1 + scale)``, ``shift`` from temb."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.linear = nn.Linear(dim, 2 * dim)
        self.eps = eps

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        # x [B, N, D]; temb [B, D]
        scale, shift = self.linear(F.silu(temb).to(x.dtype)).float().chunk(2, dim=-1)
        out = F.layer_norm(x.float(), x.shape[-1:], eps=self.eps) * (1 + scale[:, None]) + shift[:, None]
        return out.to(x.dtype)


# --- the head --------------------------------------------------------------------------------


@dataclass
class HeadInputs:
    """One batch for the head, every sample at its own latent size.

    ``latents``: per sample [C, H, W]; ``cond``: [B, L, joint_attention_dim] projected condition;
    ``cond_mask``: [B, L] bool (valid tokens; a sample's valid tokens come first);
    ``cond_image_mask``: [B, L] bool, condition tokens that are VLM image tokens;
    ``cond_image_grids``: per sample, the (f, h, w) of each of those image runs;
    ``refs``: per sample, reference latents [N_i, C, H, W] (editing) or None.
    """

    latents: list[torch.Tensor]
    timestep: torch.Tensor
    cond: torch.Tensor
    cond_mask: torch.Tensor
    cond_image_mask: torch.Tensor | None = None
    cond_image_grids: list[list[tuple[int, int, int]]] = field(default_factory=list)
    refs: list[torch.Tensor | None] = field(default_factory=list)


@dataclass
class Prepared:
    """A batch's tokens, rotations and streams, built once and reused by every denoising step."""

    x: torch.Tensor  # [B, S, D]: [target (zeros) ; references ; text ; padding] per sample
    rot: torch.Tensor  # [B, S, Dh/2] complex
    streams: Streams
    targets: list[tuple[int, int]]  # each sample's target latent (H, W)


class InternVLUTransformer2DModel(nn.Module):
    """The generation head (``generation_decoder/`` ``decoder.*``)."""

    def __init__(self, config: HeadConfig):
        super().__init__()
        if sum(config.axes_dims_rope) != config.attention_head_dim:
            raise ValueError(
                f"axes_dims_rope {config.axes_dims_rope} must sum to attention_head_dim {config.attention_head_dim}"
            )
        self.config = config
        d = config.inner_dim
        self.pos_embed = RopeFreqs(config.axes_dims_rope)
        self.time_text_embed = TimeTextEmbed(d)
        self.txt_norm = RMSNorm(config.joint_attention_dim)
        self.img_in = nn.Linear(config.in_channels, d)
        self.txt_in = nn.Linear(config.joint_attention_dim, d)
        self.transformer_blocks = nn.ModuleList(
            [
                TransformerBlock(d, config.num_attention_heads, config.attention_head_dim)
                for _ in range(config.num_layers)
            ]
        )
        self.norm_out = NormOut(d)
        self.proj_out = nn.Linear(d, config.patch_size**2 * config.out_channels)

    def patchify(self, z: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> [N * H/p * W/p, C*p*p] tokens, row-major, channels ``(c ph pw)``."""
        p = self.config.patch_size
        n, c, h, w = z.shape
        z = z.view(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)  # [N, h, w, C, p, p]
        return z.reshape(n * (h // p) * (w // p), c * p * p)

    def unpatchify(self, tokens: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """[h/p * w/p, C*p*p] -> [C, h, w] (inverse of ``patchify`` for one latent)."""
        p = self.config.patch_size
        c = tokens.shape[-1] // (p * p)
        t = tokens.view(h // p, w // p, c, p, p).permute(2, 0, 3, 1, 4)  # [C, h/p, p, w/p, p]
        return t.reshape(c, h, w)

    def prepare(self, inputs: HeadInputs) -> Prepared:
        """Everything of a batch that stays the same across denoising steps: the text and
        reference tokens in place, positions and their rotations, the streams. Only the target
        latents' shapes are read from ``inputs.latents``; :meth:`velocity` brings their values."""
        cfg = self.config
        p = cfg.patch_size
        dtype = self.img_in.weight.dtype
        batch = len(inputs.latents)
        txt = self.txt_in(self.txt_norm(inputs.cond.to(dtype)))  # [B, L, D]
        image_mask = inputs.cond_image_mask
        if image_mask is None:
            image_mask = torch.zeros_like(inputs.cond_mask)

        seqs, kinds, freqs, targets = [], [], [], []
        for b in range(batch):
            h, w = inputs.latents[b].shape[-2:]
            grids = [(1, h // p, w // p)]
            refs = inputs.refs[b] if inputs.refs else None
            ref_tok = txt.new_zeros(0, cfg.inner_dim)
            if refs is not None and len(refs):
                grids += [(1, r.shape[-2] // p, r.shape[-1] // p) for r in refs]
                ref_tok = self.img_in(self.patchify(refs.to(dtype)))  # [N_ref, D]
            n_target = grids[0][1] * grids[0][2]
            valid = inputs.cond_mask[b].bool()
            txt_tok = txt[b][valid]  # [Lb, D]
            pos = sample_positions(
                grids,
                image_mask[b][valid],
                inputs.cond_image_grids[b] if inputs.cond_image_grids else [],
                cfg.video_position_scale_factor,
                cfg.vlm_cond_position_scale_factor,
            )
            # the target's slots stay zero here: velocity() writes its tokens each step
            seqs.append(torch.cat([txt.new_zeros(n_target, cfg.inner_dim), ref_tok, txt_tok]))
            n_image = n_target + len(ref_tok)
            kinds.append(torch.cat([torch.zeros(n_image), torch.ones(len(txt_tok))]))
            freqs.append(self.pos_embed(pos.to(txt.device)))
            targets.append((h, w))

        s = max(len(x) for x in seqs)
        device = txt.device
        x = torch.zeros(batch, s, cfg.inner_dim, dtype=dtype, device=device)
        rot = torch.ones(batch, s, freqs[0].shape[-1], dtype=freqs[0].dtype, device=device)
        kind = torch.full((batch, s), -1, dtype=torch.long, device=device)  # 0 image, 1 text, -1 padding
        for b, (seq, k, f) in enumerate(zip(seqs, kinds, freqs, strict=True)):
            x[b, : len(seq)], kind[b, : len(seq)], rot[b, : len(seq)] = seq, k.long(), f
        flat = kind.flatten()
        img, txt_idx = (flat == 0).nonzero()[:, 0], (flat == 1).nonzero()[:, 0]
        key_mask = kind >= 0
        streams = Streams(
            (batch, s), img, txt_idx, img // s, txt_idx // s, None if bool(key_mask.all()) else key_mask
        )
        return Prepared(x, rot, streams, targets)

    def velocity(self, prep: Prepared, latents: list[torch.Tensor] | torch.Tensor, timestep: torch.Tensor):
        """The velocity of each target latent [C, H, W] at ``timestep`` [B], on a prepared batch:
        a list of [out_channels, H, W] (a tensor [B, C, H, W] in, a tensor out)."""
        p = self.config.patch_size
        dtype = self.img_in.weight.dtype
        temb = self.time_text_embed(timestep.to(dtype), dtype)  # [B, D]
        x = prep.x.clone()
        same = len(set(prep.targets)) == 1
        if same:  # one latent size: the whole batch in one call
            h, w = prep.targets[0]
            n = (h // p) * (w // p)
            z = latents if isinstance(latents, torch.Tensor) else torch.stack(list(latents))
            x[:, :n] = self.img_in(self.patchify(z.to(dtype))).view(len(z), n, -1)  # [B, n, D]
        else:
            for b, z in enumerate(latents):
                h, w = prep.targets[b]
                x[b, : (h // p) * (w // p)] = self.img_in(self.patchify(z[None].to(dtype)))

        for block in self.transformer_blocks:
            x = block(x, temb, prep.streams, prep.rot)

        if same:
            tokens = self.proj_out(self.norm_out(x[:, :n], temb))  # [B, n, C*p*p]
            out = torch.stack([self.unpatchify(t, h, w) for t in tokens])
            return out if isinstance(latents, torch.Tensor) else list(out)
        outs = []
        for b, (h, w) in enumerate(prep.targets):
            n = (h // p) * (w // p)
            tokens = self.proj_out(self.norm_out(x[b : b + 1, :n], temb[b : b + 1]))[0]
            outs.append(self.unpatchify(tokens, h, w))
        return outs

    def forward(self, inputs: HeadInputs) -> list[torch.Tensor]:
        """The velocity of each sample's latent: a list of [out_channels, H, W]."""
        return self.velocity(self.prepare(inputs), list(inputs.latents), inputs.timestep)
