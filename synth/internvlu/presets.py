"""Model sizes: the tiny random checkpoint ``synth model tiny`` writes in the official layout,
built by our classes (a few MB; what the tests and laptop runs use; same seed, same bytes), and
the released architecture, for sizes on the meta device."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synth.internvlu.checkpoint import write_json
from synth.internvlu.model import Configs, InternVLU, build_components

#: Tokens the official processor and VLM look up, at the end of the vocabulary in this order.
TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>", "<quad>", "</quad>",
          "<ref>", "</ref>", "<box>", "</box>", "<img_uncond>", "<IMG_LINE_BREAK>", "<IMG_FRAME_BREAK>")  # fmt: skip
#: Qwen2's pre-tokenizer split.
SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
CORPUS = (
    "You are an AI assistant that draws and edits images and answers questions about them.",
    "Generate an image based on reference images.",
    "Here is a random image",
    "a small red cube and a blue sphere on a wooden table, studio lighting",
    "Replace the word on the sign with the word OPEN and keep the font.",
    "What is shown in the picture? Describe the image in detail.",
    "user assistant system image picture photo colour shape size texture text font",
)
IMAGE = 56  # ViT tile: 4x4 patches of 14 px -> 4 tokens after the 2x2 pixel shuffle


def tiny_configs(vocab: int, ids: dict[str, int], template: str = "qwen2_5-chat-v3") -> Configs:
    vision = {"architectures": ["InternVisionModel"], "model_type": "intern_vit_6b", "num_channels": 3,
              "patch_size": 14, "image_size": IMAGE, "qkv_bias": True, "hidden_size": 32, "num_attention_heads": 2,
              "intermediate_size": 64, "qk_normalization": False, "num_hidden_layers": 2, "use_flash_attn": True,
              "hidden_act": "gelu", "norm_type": "layer_norm", "layer_norm_eps": 1e-6, "dropout": 0.0,
              "drop_path_rate": 0.0, "attention_dropout": 0.0, "initializer_range": 0.02, "initializer_factor": 0.1}  # fmt: skip
    llm = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 64, "intermediate_size": 128,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
           "hidden_act": "silu", "max_position_embeddings": 4096, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
           "rope_scaling": None, "attention_bias": False, "attention_dropout": 0.0, "use_sliding_window": False,
           "sliding_window": None, "max_window_layers": 2, "tie_word_embeddings": False, "torch_dtype": "float32",
           "vocab_size": vocab, "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"],
           "initializer_range": 0.02, "use_cache": True}  # fmt: skip
    vlm = {"architectures": ["InternVLUChatModel"], "model_type": "internvlu_chat", "vision_config": vision,
           "llm_config": llm, "template": template, "downsample_ratio": 0.5, "ps_version": "v2",
           "force_image_size": IMAGE, "select_layer": -1, "anyres_image_size": False, "dynamic_image_size": False,
           "use_thumbnail": False, "pad2square": False, "min_dynamic_patch": 1, "max_dynamic_patch": 1,
           "use_backbone_lora": 0, "use_llm_lora": 0, "torch_dtype": "float32"}  # fmt: skip
    head = {"patch_size": 2, "in_channels": 64, "out_channels": 16, "num_layers": 2, "attention_head_dim": 32,
            "num_attention_heads": 2, "joint_attention_dim": 48, "axes_dims_rope": [8, 12, 12],
            "video_position_scale_factor": 1.0, "vlm_cond_position_scale_factor": 1.0}  # fmt: skip
    decoder = {"architectures": ["InternVLUGenerationDecoder"], "model_type": "internvlu_generation_decoder",
               "decoder_projector_type": "mlp2x_gelu", "vae_projector_type": "mlp2x_gelu",
               "visual_input_hidden_size": 32, "input_hidden_size": 128, "vae_input_hidden_size": 16,
               "output_hidden_size": 48, "decoder_config": head, "padding_encoder_hidden_states": True,
               "pad_to_fix_length": True, "max_sequence_length": 256, "gen_image_height": 64, "gen_image_width": 64,
               "video_position_scale_factor": 1.0, "vlm_cond_position_scale_factor": 1.0, "vae_downsample_factor": 8,
               "flow_shift": 3.0, "vlm_select_layer": [-2, -1], "weighting_scheme": "logit_normal",
               "all_cfg_scale": 0.0, "part_cfg_scale": 0.0, "torch_dtype": "float32", "is_composition": False}  # fmt: skip
    rng = random.Random(1234)
    vae = {"_class_name": "AutoencoderKLQwenImage", "_diffusers_version": "0.35.1", "base_dim": 8, "z_dim": 16,
           "dim_mult": [1, 2, 4, 4], "num_res_blocks": 1, "attn_scales": [],
           "temperal_downsample": [False, True, True], "dropout": 0.0,
           "latents_mean": [round(rng.gauss(0, 1), 4) for _ in range(16)],
           "latents_std": [round(1 + 2 * rng.random(), 4) for _ in range(16)]}  # fmt: skip
    scheduler = {"_class_name": "DPMSolverMultistepScheduler", "_diffusers_version": "0.35.1",
                 "num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
                 "trained_betas": None, "solver_order": 2, "prediction_type": "flow_prediction",
                 "thresholding": False, "dynamic_thresholding_ratio": 0.995, "sample_max_value": 1.0,
                 "algorithm_type": "dpmsolver++", "solver_type": "midpoint", "lower_order_final": True,
                 "euler_at_final": False, "use_karras_sigmas": False, "use_exponential_sigmas": False,
                 "use_beta_sigmas": False, "use_lu_lambdas": False, "use_flow_sigmas": True, "flow_shift": 3.0,
                 "final_sigmas_type": "zero", "lambda_min_clipped": -math.inf, "variance_type": None,
                 "timestep_spacing": "linspace", "steps_offset": 0, "rescale_betas_zero_snr": False,
                 "use_dynamic_shifting": False, "time_shift_type": "exponential"}  # fmt: skip
    norm = {"do_resize": True, "resample": 3, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
            "do_convert_rgb": True}  # fmt: skip
    processor = {"processor_class": "InternVLUProcessor", "image_seq_length": 4,
                 "image_processor_class": "GotOcr2ImageProcessorFast",
                 "image_processor_kwargs": {**norm, "size": {"height": IMAGE, "width": IMAGE},
                                            "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
                                            "crop_to_patches": False, "min_patches": 1, "max_patches": 12},
                 "image_gen_processor_class": "InternVLUDynamicResGenerationImageProcessor",
                 "image_gen_processor_kwargs": {**norm, "do_pad": False, "image_mean": [0.5] * 3,
                                                "image_std": [0.5] * 3, "min_dynamic_patch": 16,
                                                "max_dynamic_patch": 64, "vae_downsample_factor": 8,
                                                "temporal_patch_size": 1, "gen_down_sample_ratio": 0.5}}  # fmt: skip
    return Configs(vlm=vlm, generation_decoder=decoder, vae=vae, scheduler=scheduler, processor=processor)


def build_tokenizer(folder: Path) -> dict[str, int]:
    """A byte-level BPE in Qwen2's style, trained here on a few sentences, with the special
    tokens appended; saved to ``folder`` by transformers. Returns the special tokens' ids."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tk.normalizer = normalizers.NFC()
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ]
    )
    tk.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tk.train_from_iterator(list(CORPUS) * 4, trainer=trainer)
    tk.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in TOKENS])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=[t for t in TOKENS if t not in ("<|endoftext|>", "<|im_end|>")],
        clean_up_tokenization_spaces=False,
        model_max_length=8192,
    )
    tok.save_pretrained(str(folder))
    # The class and keys Qwen checkpoints carry, which transformers 4.x (the official code's) and
    # 5.x both read; transformers 5 would write its own backend class, unknown to 4.x.
    write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "Qwen2Tokenizer", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "bos_token": None, "unk_token": None, "errors": "replace", "add_prefix_space": False,
        "clean_up_tokenization_spaces": False, "model_max_length": 8192, "split_special_tokens": False,
        "additional_special_tokens": [t for t in TOKENS if t not in ("<|endoftext|>", "<|im_end|>")],
    })  # fmt: skip
    return {t: tok.convert_tokens_to_ids(t) for t in TOKENS}


@torch.no_grad()
def randomize(module: nn.Module, seed: int) -> None:
    """Every parameter from one seeded generator, in name order: norm scales near 1, biases and
    embeddings small, weights scaled by fan-in (so no affine term is a no-op a test would miss)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in sorted(module.named_parameters()):
        shape = tuple(p.shape)
        leaf = name.rsplit(".", 1)[-1]
        if p.ndim == 1 and leaf == "weight":
            val = 1.0 + 0.1 * torch.randn(shape, generator=g)
        elif leaf in ("ls1", "ls2"):
            val = 0.5 + 0.1 * torch.randn(shape, generator=g)
        elif p.ndim == 1 or leaf in ("class_embedding", "position_embedding", "encoder_padding_token"):
            val = (
                0.05 * torch.randn(shape, generator=g)
                if p.ndim == 1
                else 0.5 * torch.randn(shape, generator=g)
            )
        elif "embed_tokens" in name or "special_token_embedding" in name:
            val = 0.5 * torch.randn(shape, generator=g)
        else:
            val = torch.randn(shape, generator=g) / math.sqrt(max(1, math.prod(shape[1:])))
        p.copy_(val.to(p.dtype))


def make_checkpoint(
    out: str | Path, configs_for: Callable[[int, dict[str, int]], Configs], seed: int = 0
) -> Path:
    """Write a random checkpoint of ``configs_for(vocab, token_ids)`` to ``out``, its tokenizer
    trained here; same seed, same bytes."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    proc = out / "processor"
    proc.mkdir(exist_ok=True)
    ids = build_tokenizer(proc)
    vocab = int(math.ceil((max(ids.values()) + 1) / 64) * 64)  # padded as real Qwen vocabularies are
    configs = configs_for(vocab, ids)
    write_json(proc / "processor_config.json", configs.processor)
    torch.manual_seed(seed)
    components = build_components(configs)
    for i, name in enumerate(("vlm", "generation_decoder", "vae")):
        randomize(components[name], seed * 10 + i + 1)
    files = {p.name: p.read_bytes() for p in sorted(proc.iterdir()) if p.is_file()}
    InternVLU(configs, components, files).save_pretrained(out)
    return out


def make_tiny(out: str | Path, seed: int = 0) -> Path:
    """The tiny checkpoint (``synth model tiny``): the oracle's tiny sizes, about 5 MB."""
    return make_checkpoint(out, tiny_configs, seed)


def mid_configs(vocab: int, ids: dict[str, int]) -> Configs:
    """A mid-size model for benchmarks: the head of 4 layers at width 512 (4 x 128), a Qwen3 of
    4 layers at width 512; the tiny ViT and VAE."""
    tiny = tiny_configs(vocab, ids)
    vlm = dict(tiny.vlm)
    vlm["llm_config"] = dict(tiny.vlm["llm_config"], hidden_size=512, intermediate_size=1536, num_hidden_layers=4,
                             num_attention_heads=8, num_key_value_heads=4, head_dim=64, max_window_layers=4)  # fmt: skip
    head = dict(tiny.generation_decoder["decoder_config"], num_layers=4, attention_head_dim=128,
                num_attention_heads=4, joint_attention_dim=512, axes_dims_rope=[16, 56, 56])  # fmt: skip
    decoder = dict(
        tiny.generation_decoder, input_hidden_size=1024, output_hidden_size=512, decoder_config=head
    )
    return Configs(vlm=vlm, generation_decoder=decoder, vae=tiny.vae, scheduler=tiny.scheduler,
                   processor=tiny.processor)  # fmt: skip


def describe(configs: Configs) -> dict[str, Any]:
    """The shape of a checkpoint in a few numbers (for ``synth model info``)."""
    vlm, dec = configs.vlm, configs.generation_decoder
    head = dec.get("decoder_config", {})
    return {
        "template": vlm.get("template"),
        "vit": {k: vlm["vision_config"].get(k) for k in ("hidden_size", "num_hidden_layers", "image_size")},
        "llm": {
            k: vlm["llm_config"].get(k)
            for k in ("architectures", "hidden_size", "num_hidden_layers", "vocab_size")
        },
        "head": {
            k: head.get(k)
            for k in ("num_layers", "num_attention_heads", "attention_head_dim", "axes_dims_rope")
        },
        "vlm_select_layer": dec.get("vlm_select_layer"),
        "max_sequence_length": dec.get("max_sequence_length"),
    }


def release_configs() -> Configs:
    """The released model's architecture (InternViT-300M at 448 px, Qwen3-1.7B, the head of 20
    dual-stream layers of 12 x 128, the Qwen-Image VAE), for sizes on the meta device.

    The released config files are not reachable here; the parts' published architectures are
    used, and where the head's config is not published (``joint_attention_dim``, the selected
    layers) the LLM's width and its last layer are assumed."""
    tiny = tiny_configs(151936, {"<|im_end|>": 151645, "<|endoftext|>": 151643})
    vlm = dict(tiny.vlm, force_image_size=448)
    vlm["vision_config"] = dict(tiny.vlm["vision_config"], image_size=448, hidden_size=1024, num_attention_heads=16,
                                intermediate_size=4096, num_hidden_layers=24)  # fmt: skip
    vlm["llm_config"] = dict(tiny.vlm["llm_config"], hidden_size=2048, intermediate_size=6144, num_hidden_layers=28,
                             num_attention_heads=16, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
                             max_window_layers=28, tie_word_embeddings=True, torch_dtype="bfloat16")  # fmt: skip
    head = dict(tiny.generation_decoder["decoder_config"], num_layers=20, attention_head_dim=128,
                num_attention_heads=12, joint_attention_dim=2048, axes_dims_rope=[16, 56, 56])  # fmt: skip
    decoder = dict(tiny.generation_decoder, input_hidden_size=2048, output_hidden_size=2048, vlm_select_layer=[-1],
                   decoder_config=head, max_sequence_length=512, gen_image_height=512, gen_image_width=512)  # fmt: skip
    vae = dict(tiny.vae, base_dim=96, num_res_blocks=2)
    processor = dict(tiny.processor, image_seq_length=256)
    return Configs(
        vlm=vlm, generation_decoder=decoder, vae=vae, scheduler=tiny.scheduler, processor=processor
    )
