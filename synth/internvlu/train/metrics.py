"""What each step logs: FLOPs estimated from the model's shapes and the batch, MFU, and the
writers (JSONL and TensorBoard, rank 0 only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synth.internvlu.train.batch import Batch

#: Dense bf16 peak FLOP/s by device name (tensor cores, no sparsity).
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "H800": 989e12, "B200": 2250e12, "A100": 312e12, "A800": 312e12,
             "L40S": 362e12, "L4": 121e12}  # fmt: skip


def peak_flops(device: torch.device, configured_tflops: float | None) -> float | None:
    if configured_tflops:
        return configured_tflops * 1e12
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16.items() if k in name), None)


def _params(module: nn.Module, exclude: tuple[str, ...] = ()) -> int:
    return sum(p.numel() for n, p in module.named_parameters() if not any(e in n for e in exclude))


class FlopCounter:
    """Matmul FLOPs of a training step, the usual 2 x parameters x tokens per forward plus
    attention, x3 where gradients flow (forward, and backward through activations and weights;
    a frozen VLM runs forward only). The frozen VAE's encoding is not counted."""

    def __init__(self, model: nn.Module, vlm_trains: bool):
        vlm, head = model.vlm, model.generation_decoder.decoder
        llm = vlm.config.llm
        self.llm_params = _params(vlm.language_model, ("embed_tokens", "lm_head"))
        self.llm_layers, self.llm_width = llm["num_hidden_layers"], llm["hidden_size"]
        self.lm_head = vlm.language_model.lm_head.weight.numel()
        self.vit_params = _params(vlm.vision_model)
        vit = vlm.config.vision
        self.vit_tokens = (vit.image_size // vit.patch_size) ** 2 + 1
        self.vit_layers, self.vit_width = vit.num_hidden_layers, vit.hidden_size
        # each token passes its own stream's weights only: half of the dual-stream blocks
        self.head_params = _params(head.transformer_blocks) // 2
        self.head_layers, self.head_width = head.config.num_layers, head.config.inner_dim
        self.patch = head.config.patch_size
        self.vlm_factor = 3 if vlm_trains else 1

    def __call__(self, batch: Batch, head_tokens: list[int]) -> float:
        mask = batch.attention_mask
        tokens = int(mask.sum())
        n = mask.shape[1]
        vlm = 2 * self.llm_params * tokens + 4 * self.llm_layers * self.llm_width * n * n * len(batch)
        vlm += 2 * self.lm_head * batch.text_tokens
        if batch.pixels is not None:
            tiles = batch.pixels.shape[0]
            vlm += tiles * (
                2 * self.vit_params * self.vit_tokens
                + 4 * self.vit_layers * self.vit_width * self.vit_tokens**2
            )
        head = sum(
            2 * self.head_params * s + 4 * self.head_layers * self.head_width * s * s for s in head_tokens
        )
        return float(self.vlm_factor * vlm + 3 * head)

    def head_tokens(self, batch: Batch, x0: list, refs: list) -> list[int]:
        """Head sequence length of each generating row: target and reference patches plus the
        condition (at most the row's tokens)."""
        p2 = self.patch**2
        out = []
        for i in batch.generating:
            n = x0[i].shape[-2] * x0[i].shape[-1] // p2 + int(batch.attention_mask[i].sum())
            if refs[i] is not None:
                n += refs[i].shape[-2] * refs[i].shape[-1] // p2
            out.append(n)
        return out


class Logs:
    """``log.jsonl`` (one line a logged step) and TensorBoard events under ``tb/``, rank 0 only.
    On resume the lines after the checkpoint's step are dropped, so the file is one curve."""

    def __init__(self, root: Path, enabled: bool, resume_step: int):
        self.enabled = enabled
        self.path = root / "log.jsonl"
        self.tb = None
        if not enabled:
            return
        if self.path.exists():
            kept = [
                line for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= resume_step
            ]  # fmt: skip
            self.path.write_text("".join(k + "\n" for k in kept))
        from torch.utils.tensorboard import SummaryWriter

        self.tb = SummaryWriter(str(root / "tb"), purge_step=resume_step + 1 if resume_step else None)

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with self.path.open("a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
        step = record["step"]
        for key, value in record.items():
            if isinstance(value, int | float) and key != "step":
                self.tb.add_scalar(key.replace(".", "/"), value, step)
            elif isinstance(value, dict):
                for k, v in value.items():
                    self.tb.add_scalar(f"{key}/{k}", v, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
