"""The VLM: InternViT, ``mlp1``, transformers' Qwen3 and the special-token embeddings.

Official names throughout (``vision_model.*``, ``mlp1.{0,1,3}``, ``language_model.*``,
``special_token_embedding``), so ``vlm/model.safetensors`` loads as it is. Three uses:
``hidden_states`` for the generation condition, ``condition`` to cut it out, and ``generate``
for text (greedy, stopping at ``<|im_end|>`` or ``<img>``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from synth.internvlu.vision import InternVisionModel, VisionConfig, pixel_shuffle

#: The tokens whose embeddings ``special_token_embedding`` replaces, in its row order.
SPECIAL_TOKENS = (
    "</box>",
    "<box>",
    "<IMG_CONTEXT>",
    "</img>",
    "<img>",
    "</quad>",
    "<quad>",
    "</ref>",
    "<ref>",
    "<img_uncond>",
)
LLM_ARCHITECTURES = ("Qwen3ForCausalLM", "Qwen2ForCausalLM", "LlamaForCausalLM", "Qwen3MoeForCausalLM")


@dataclass
class VlmConfig:
    """``vlm/config.json``. The file is kept as read (``raw``) and written back as it was, so a
    save loads in the official code's transformers; the fields are what this code reads."""

    raw: dict[str, Any]

    @property
    def vision(self) -> VisionConfig:
        return VisionConfig.from_dict(self.raw["vision_config"])

    @property
    def llm(self) -> dict[str, Any]:
        return self.raw["llm_config"]

    @property
    def downsample_ratio(self) -> float:
        return float(self.raw.get("downsample_ratio", 0.5))

    @property
    def select_layer(self) -> int:
        return int(self.raw.get("select_layer", -1))

    @property
    def image_size(self) -> int:
        return int(self.raw.get("force_image_size") or self.vision.image_size)

    @property
    def num_image_token(self) -> int:
        return int((self.image_size // self.vision.patch_size) ** 2 * self.downsample_ratio**2)

    def check(self) -> list[str]:
        """What this code cannot run in the file, as sentences (empty: fine)."""
        problems = []
        arch = (self.llm.get("architectures") or [None])[0]
        if arch not in LLM_ARCHITECTURES:
            problems.append(f"llm_config.architectures {arch!r} is not one of {list(LLM_ARCHITECTURES)}")
        if self.raw.get("anyres_image_size"):
            problems.append("anyres_image_size is true: the released ViT takes fixed tiles (set it false)")
        if self.raw.get("ps_version", "v2") != "v2":
            problems.append(
                f"ps_version {self.raw['ps_version']!r}: only the released 'v2' pixel shuffle is supported"
            )
        if self.downsample_ratio != 0.5:
            problems.append(f"downsample_ratio {self.downsample_ratio}: only 0.5 is supported")
        try:
            self.vision  # noqa: B018 - validates vision_config
        except (KeyError, TypeError, ValueError) as e:
            problems.append(f"vision_config: {e}")
        return problems


def build_language_model(llm: dict[str, Any]) -> nn.Module:
    """transformers' causal LM named by ``llm_config.architectures``, from the official dict."""
    import transformers

    arch = llm["architectures"][0]
    config_class = getattr(transformers, arch.replace("ForCausalLM", "Config"))
    cfg = config_class(
        **{k: v for k, v in copy.deepcopy(llm).items() if k not in ("architectures", "model_type")}
    )
    cfg._attn_implementation = "sdpa"
    return getattr(transformers, arch)(cfg)


class InternVLUChatModel(nn.Module):
    def __init__(self, config: VlmConfig):
        super().__init__()
        self.config = config
        vision = config.vision
        self.vision_model = InternVisionModel(vision)
        self.language_model = build_language_model(config.llm)
        d_vit = vision.hidden_size * int(1 / config.downsample_ratio) ** 2
        d_llm = config.llm["hidden_size"]
        self.mlp1 = nn.Sequential(
            nn.LayerNorm(d_vit), nn.Linear(d_vit, d_llm), nn.GELU(), nn.Linear(d_llm, d_llm)
        )
        self.special_token_embedding = nn.Embedding(len(SPECIAL_TOKENS), d_llm)
        self.token_ids: dict[str, int] = {}

    def set_tokens(self, ids: dict[str, int]) -> None:
        """The tokenizer's ids of ``SPECIAL_TOKENS`` and of ``<|im_start|>``/``<|im_end|>``."""
        missing = [t for t in (*SPECIAL_TOKENS, "<|im_start|>", "<|im_end|>") if t not in ids]
        if missing:
            raise ValueError(f"the tokenizer lacks {missing}")
        self.token_ids = dict(ids)

    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """[tiles, 3, 448, 448] -> [tiles, num_image_token, llm_hidden]."""
        vit = self.vision_model(pixels, self.config.select_layer)[:, 1:]  # class token dropped
        return self.mlp1(pixel_shuffle(vit, self.config.downsample_ratio))

    def embed(self, input_ids: torch.Tensor, pixels: torch.Tensor | None = None) -> torch.Tensor:
        """Token embeddings, the special tokens' rows replaced, ``<IMG_CONTEXT>`` rows by the
        image features in order: [B, N, llm_hidden]."""
        if not self.token_ids:
            raise RuntimeError("call set_tokens with the tokenizer's ids first (from_pretrained does)")
        x = self.language_model.get_input_embeddings()(input_ids)
        for row, token in enumerate(SPECIAL_TOKENS):
            where = input_ids == self.token_ids[token]
            x = torch.where(where[..., None], self.special_token_embedding.weight[row].to(x.dtype), x)
        if pixels is not None:
            where = input_ids == self.token_ids["<IMG_CONTEXT>"]
            feats = self.image_features(pixels).reshape(-1, x.shape[-1]).to(x.dtype)
            if int(where.sum()) != feats.shape[0]:
                raise ValueError(
                    f"{int(where.sum())} <IMG_CONTEXT> tokens for {feats.shape[0]} image features: "
                    "the prompt and the image tiles disagree"
                )
            x = x.masked_scatter(where[..., None], feats)
        return x

    def hidden_states(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pixels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        """Every layer's hidden states (embeddings first) [B, N, llm_hidden] of a left-padded batch.

        Positions are 0..N-1 whatever the padding, as the official forward passes none; RoPE is
        relative, so a padded row's valid tokens differ from an unpadded run by float rounding."""
        out = self.language_model.model(
            inputs_embeds=self.embed(input_ids, pixels),
            attention_mask=attention_mask,
            output_hidden_states=True,
        )
        return out.hidden_states

    def condition(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        states: tuple[torch.Tensor, ...],
        layers: list[int],
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The generation condition of each row: ``layers`` concatenated on channels, tokens from
        the row's second ``<|im_start|>`` (the user turn) through its last ``<img>``, padding out.
        Returns per row [L_i, llm_hidden * len(layers)] and the mask of its ``<IMG_CONTEXT>`` tokens."""
        h = torch.cat([states[i] for i in layers], dim=-1)  # [B, N, C * len(layers)]
        im_start, img = self.token_ids["<|im_start|>"], self.token_ids["<img>"]
        conds, images = [], []
        for b in range(input_ids.shape[0]):
            ids = input_ids[b]
            starts = (ids == im_start).nonzero()[:, 0]
            ends = (ids == img).nonzero()[:, 0]
            if len(starts) < 2 or not len(ends):
                raise ValueError(f"row {b} has no user turn or no <img> to generate at")
            keep = torch.zeros_like(ids, dtype=torch.bool)
            keep[starts[1] : ends[-1] + 1] = True
            keep &= attention_mask[b].bool()
            conds.append(h[b][keep])
            images.append((ids == self.token_ids["<IMG_CONTEXT>"])[keep])
        return conds, images

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        pixels: torch.Tensor | None = None,
        max_new_tokens: int = 512,
    ) -> list[list[int]]:
        """Greedy text of each left-padded row, new ids only, up to and including ``<|im_end|>``
        or ``<img>`` (an image is to be drawn there), at most ``max_new_tokens``.

        Positions count valid tokens only (as transformers' ``generate`` does), with a KV cache."""
        from transformers import DynamicCache

        stops = {self.token_ids["<|im_end|>"], self.token_ids["<img>"]}
        mask = attention_mask.long()
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        x = self.embed(input_ids, pixels)
        out = [[] for _ in range(input_ids.shape[0])]
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool)
        for _ in range(max_new_tokens):
            res = self.language_model(
                inputs_embeds=x,
                attention_mask=mask,
                position_ids=positions,
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
            )
            nxt = res.logits[:, -1].argmax(-1)  # [B]
            for b, t in enumerate(nxt.tolist()):
                if not done[b]:
                    out[b].append(t)
                    done[b] = t in stops
            if bool(done.all()):
                break
            # the official generate replaces special tokens' rows in the prompt only: transformers'
            # decode loop embeds each new token (a generated <box>, say) with the plain table
            x = self.language_model.get_input_embeddings()(nxt[:, None])
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            positions = positions[:, -1:] + 1
        return out
