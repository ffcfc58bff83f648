"""``InternVLU``: the whole model, read from and written to the official checkpoint layout.

    model = InternVLU.from_pretrained("/models/InternVL-U", dtype=torch.bfloat16, device="cuda")
    model.save_pretrained("out/copy")          # loads in the official InternVLUPipeline too

Every component is checked (classes, configs, every tensor's name, shape and byte range) before
any weight is read, and all problems are reported together (``check_checkpoint``).
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synth.internvlu.checkpoint import (
    MODEL_INDEX,
    TOKENIZER_FILES,
    WEIGHTS,
    compare_tensors,
    read_json,
    read_weights,
    safetensors_header,
    weight_files,
    write_json,
    write_weights,
)
from synth.internvlu.decoder import DecoderConfig, InternVLUGenerationDecoder
from synth.internvlu.errors import CheckpointError
from synth.internvlu.vlm import SPECIAL_TOKENS, InternVLUChatModel, VlmConfig


@dataclass
class Configs:
    """Every component's config file as read (written back unchanged by ``save_pretrained``)."""

    vlm: dict[str, Any]
    generation_decoder: dict[str, Any]
    vae: dict[str, Any]
    scheduler: dict[str, Any]
    processor: dict[str, Any]


def build_vae(config: dict[str, Any]) -> nn.Module:
    from diffusers import AutoencoderKLQwenImage

    return AutoencoderKLQwenImage.from_config({k: v for k, v in config.items() if not k.startswith("_")})


def build_components(configs: Configs) -> dict[str, nn.Module]:
    """The three weighted components, built from their configs (on the current default device:
    under ``torch.device("meta")`` they take no memory)."""
    return {
        "vlm": InternVLUChatModel(VlmConfig(configs.vlm)),
        "generation_decoder": InternVLUGenerationDecoder(DecoderConfig.from_dict(configs.generation_decoder)),
        "vae": build_vae(configs.vae),
    }


def read_configs(root: Path) -> tuple[Configs | None, list[str]]:
    """The configs of ``root`` and the problems found reading them (classes, keys, agreement)."""
    problems: list[str] = []
    index_path = root / "model_index.json"
    if not index_path.exists():
        return None, [f"no model_index.json in {root}"]
    index = read_json(index_path)
    for name, want in MODEL_INDEX.items():
        got = index.get(name)
        if name == "_class_name":
            if got != want:
                problems.append(f"model_index.json: _class_name {got!r}, expected {want!r}")
        elif got is None:
            problems.append(f"model_index.json names no {name}")
        elif list(got)[-1] != want[-1]:
            problems.append(f"model_index.json: {name} is {got}, expected class {want[-1]}")
    files = {
        "vlm": root / "vlm" / "config.json",
        "generation_decoder": root / "generation_decoder" / "config.json",
        "vae": root / "vae" / "config.json",
        "scheduler": root / "scheduler" / "scheduler_config.json",
        "processor": root / "processor" / "processor_config.json",
    }
    read: dict[str, dict] = {}
    for name, path in files.items():
        if not path.exists():
            problems.append(f"{name}: {path.relative_to(root)} is missing")
            continue
        try:
            read[name] = read_json(path)
        except (OSError, ValueError) as e:
            problems.append(f"{name}: {path.relative_to(root)} is not JSON ({e})")
    for tok in TOKENIZER_FILES:
        if not (root / "processor" / tok).exists():
            problems.append(f"processor: {tok} is missing")
    if len(read) < len(files):
        return None, problems
    configs = Configs(**read)
    vlm = VlmConfig(configs.vlm)
    problems += [f"vlm: {p}" for p in vlm.check()]
    if configs.scheduler.get("_class_name") != "DPMSolverMultistepScheduler":
        problems.append(
            f"scheduler: class {configs.scheduler.get('_class_name')!r}, expected DPMSolverMultistepScheduler"
        )
    if configs.vae.get("_class_name", "AutoencoderKLQwenImage") != "AutoencoderKLQwenImage":
        problems.append(f"vae: class {configs.vae.get('_class_name')!r}, expected AutoencoderKLQwenImage")
    try:
        dec = DecoderConfig.from_dict(configs.generation_decoder)
        llm_hidden = vlm.llm.get("hidden_size")
        if dec.input_hidden_size != llm_hidden * len(dec.vlm_select_layer):
            problems.append(
                f"generation_decoder: input_hidden_size {dec.input_hidden_size} is not the VLM's hidden size "
                f"{llm_hidden} x {len(dec.vlm_select_layer)} selected layers"
            )
        if dec.head.in_channels != configs.vae.get("z_dim", 16) * dec.head.patch_size**2:
            problems.append(
                f"generation_decoder: in_channels {dec.head.in_channels} is not the VAE's z_dim x patch_size^2"
            )
    except (TypeError, ValueError) as e:
        problems.append(f"generation_decoder: {e}")
    seq = configs.processor.get("image_seq_length")
    if seq is not None and not problems and seq != vlm.num_image_token:
        problems.append(
            f"processor: image_seq_length {seq} is not the VLM's {vlm.num_image_token} tokens a tile"
        )
    gen = configs.processor.get("image_gen_processor_kwargs") or {}
    if gen.get("temporal_patch_size", 1) != 1:
        problems.append("processor: image_gen_processor_kwargs.temporal_patch_size must be 1")
    return configs, problems


def check_checkpoint(root: str | Path) -> tuple[Configs | None, list[str]]:
    """Configs and every problem of the checkpoint at ``root``: configs, then each weighted
    component's tensors against what its config builds (on the meta device, no memory)."""
    root = Path(root)
    configs, problems = read_configs(root)
    if configs is None or problems:
        return configs, problems
    with torch.device("meta"):
        components = build_components(configs)
    for name, module in components.items():
        expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
        try:
            files = weight_files(root / name, WEIGHTS[name])
            found: dict[str, tuple[int, ...]] = {}
            for path in files:
                found.update({k: shape for k, (_, shape) in safetensors_header(path).items()})
        except (OSError, ValueError, KeyError) as e:
            problems.append(f"{name}: {e}")
            continue
        problems += compare_tensors(name, expected, found)
    return configs, problems


def _materialise_buffers(module: nn.Module, device: str | torch.device) -> None:
    """Rebuild the submodules whose non-persistent buffers (RoPE frequencies) were left on the
    meta device: they are computed from the config, not stored."""
    for name, sub in list(module.named_modules()):
        if any(b.is_meta for b in sub.buffers(recurse=False)):
            if not hasattr(sub, "config"):
                raise RuntimeError(f"{name} has buffers that are neither stored nor rebuildable")
            with torch.device(device):
                fresh = type(sub)(config=sub.config)
            parent, _, leaf = name.rpartition(".")
            setattr(module.get_submodule(parent) if parent else module, leaf, fresh)


def write_pretrained(
    root: Path,
    configs: Configs,
    processor_files: dict[str, bytes],
    states: dict[str, dict[str, torch.Tensor]],
) -> None:
    """The official layout at ``root`` from configs, processor files and each weighted
    component's state dict (``save_pretrained``'s, and the trainer's export from gathered shards)."""
    root.mkdir(parents=True, exist_ok=True)
    index = {"_class_name": MODEL_INDEX["_class_name"], "_diffusers_version": "0.35.1"}
    index.update({k: v for k, v in MODEL_INDEX.items() if k != "_class_name"})
    write_json(root / "model_index.json", index)
    for name in ("vlm", "generation_decoder", "vae"):
        folder = root / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        write_json(folder / "config.json", getattr(configs, name))
        write_weights(folder, WEIGHTS[name], states[name])
    (root / "scheduler").mkdir(exist_ok=True)
    write_json(root / "scheduler" / "scheduler_config.json", configs.scheduler)
    proc = root / "processor"
    if proc.exists():
        shutil.rmtree(proc)
    proc.mkdir()
    for name, data in processor_files.items():
        (proc / name).write_bytes(data)


class InternVLU(nn.Module):
    """The VLM, the generation decoder (projector + head), the VAE, the scheduler's config and
    the processor's files, as one model."""

    def __init__(self, configs: Configs, components: dict[str, nn.Module], processor_files: dict[str, bytes]):
        super().__init__()
        self.configs = configs
        self.vlm: InternVLUChatModel = components["vlm"]
        self.generation_decoder: InternVLUGenerationDecoder = components["generation_decoder"]
        self.vae = components["vae"]
        self.processor_files = processor_files
        self.tokenizer = None
        self.processor = None

    @classmethod
    def from_pretrained(
        cls, root: str | Path, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
    ) -> InternVLU:
        """Load the checkpoint at ``root`` after checking all of it; raises ``CheckpointError``
        naming every problem (nothing is loaded then)."""
        root = Path(root)
        configs, problems = check_checkpoint(root)
        if problems or configs is None:
            raise CheckpointError(root, problems)
        with torch.device("meta"):
            components = build_components(configs)
        for name, module in components.items():
            state = read_weights(weight_files(root / name, WEIGHTS[name]), dtype, device)
            module.load_state_dict(state, strict=True, assign=True)
            _materialise_buffers(module, device)
            module.eval()
        files = {p.name: p.read_bytes() for p in sorted((root / "processor").iterdir()) if p.is_file()}
        model = cls(configs, components, files)
        model.load_tokenizer(root / "processor")
        return model

    def load_tokenizer(self, folder: Path) -> None:
        from transformers import AutoTokenizer

        from synth.internvlu.processor import Processor

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.processor = Processor.from_folder(
            folder, self.configs.vlm.get("template", "qwen2_5-chat-v3"), self.tokenizer
        )
        ids = {
            t: self.tokenizer.convert_tokens_to_ids(t)
            for t in (*SPECIAL_TOKENS, "<|im_start|>", "<|im_end|>")
        }
        unknown = [t for t, i in ids.items() if i is None or i == self.tokenizer.unk_token_id]
        if unknown:
            raise CheckpointError(folder.parent, [f"processor: the tokenizer has no {unknown}"])
        self.vlm.set_tokens(ids)

    def save_pretrained(self, root: str | Path) -> None:
        """Write the official layout: configs as read, weights as one safetensors file per
        component, the processor's files as they were."""
        states = {name: getattr(self, name).state_dict() for name in ("vlm", "generation_decoder", "vae")}
        write_pretrained(Path(root), self.configs, self.processor_files, states)

    @property
    def device(self) -> torch.device:
        return self.generation_decoder.decoder.img_in.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.generation_decoder.decoder.img_in.weight.dtype

    def scheduler(self, flow_shift: float = 3.0):
        """diffusers' ``DPMSolverMultistepScheduler`` from the checkpoint's config, with the
        ``flow_shift`` the official pipeline always sets (its default ``timestep_shift``, 3.0),
        whatever the file says."""
        from diffusers import DPMSolverMultistepScheduler

        cfg = {k: v for k, v in self.configs.scheduler.items() if not k.startswith("_")}
        return DPMSolverMultistepScheduler.from_config({**cfg, "flow_shift": flow_shift})

    def parameter_counts(self) -> dict[str, int]:
        """Parameters by part: vision, mlp1, language model, special embeddings, projector, head, VAE."""
        parts: Counter = Counter()
        for prefix, module in (
            ("vlm", self.vlm),
            ("generation_decoder", self.generation_decoder),
            ("vae", self.vae),
        ):
            for name, p in module.named_parameters():
                part = name.split(".")[0]
                if prefix == "generation_decoder" and part == "decoder":
                    part = "head"
                parts[f"{prefix}.{part}"] += p.numel()
        return dict(parts)
