"""The training loop: ``train(...)`` runs in every process (one process, each ``torchrun``
process, each Ray Train worker) and does the same steps on its share of every global batch.

    per step:  this rank's rows of the global batch (the loader; same rows whatever the world size)
               micro-batches: VAE latents (frozen) -> TrainModule -> loss sums / global counts -> backward
               clip the global gradient norm -> AdamW -> LR schedule
               log (rank 0); every save_every steps an atomic checkpoint; at the end final/ in the official layout

Losses are sums divided by global counts (generating rows for flow matching, labelled tokens for
next-token prediction), counted before the forward over every rank, so a step's gradient does not
depend on how its rows are split over ranks and micro-batches.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from synth.internvlu.errors import TrainError
from synth.internvlu.train import distributed as D
from synth.internvlu.train.batch import IGNORE, Batch, Example, collate
from synth.internvlu.train.config import TrainConfig
from synth.internvlu.train.losses import draw, noise_generator
from synth.internvlu.train.metrics import FlopCounter, Logs, peak_flops
from synth.internvlu.train.state import checkpoints, export, load_checkpoint, save_checkpoint
from synth.internvlu.train.step import Noise, TrainModule, encode_latents

log = logging.getLogger(__name__)

#: Keys of the config that may change between a run and its resume (they change no step).
RESUMABLE_CHANGES = ("train.steps", "train.save_every", "train.keep", "train.log_every",
                     "train.export_every_checkpoint", "train.peak_tflops")  # fmt: skip


@dataclass
class Summary:
    out: Path
    steps: int
    resumed_from: int
    final: Path | None
    last: dict[str, Any]


def freeze(module: torch.nn.Module, trainable: list[str]) -> tuple[int, int]:
    """requires_grad by name prefix; returns (trainable, frozen) parameter counts."""
    counts = [0, 0]
    matched = {prefix: False for prefix in trainable}
    for name, p in module.named_parameters():
        hit = [t for t in trainable if name == t or name.startswith(t + ".")]
        for t in hit:
            matched[t] = True
        p.requires_grad_(bool(hit))
        counts[0 if hit else 1] += p.numel()
    unknown = [t for t, ok in matched.items() if not ok]
    if unknown:
        raise TrainError(
            f"model.trainable names no parameters: {unknown}; prefixes start with vlm or generation_decoder "
            "(e.g. generation_decoder, vlm.language_model, vlm.mlp1, vlm.vision_model)"
        )
    return counts[0], counts[1]


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Multiplier of the base LR at optimizer step ``step`` (0-based): linear warmup, then
    constant or cosine to ``min_lr_ratio``."""
    o = cfg.optim
    if step < o.warmup_steps:
        return (step + 1) / o.warmup_steps
    if o.schedule == "constant":
        return 1.0
    span = max(1, cfg.train.steps - o.warmup_steps)
    progress = min(1.0, (step - o.warmup_steps) / span)
    return o.min_lr_ratio + (1 - o.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def _labelled(e: Example) -> int:
    return sum(1 for t in e.labels[1:] if t != IGNORE)


def filler(processor, stride: int) -> Example:
    """A row that trains nothing (its loss weight is 0) but runs the head and the ViT: under
    FSDP2 every rank must run every sharded block in every micro-batch, so a micro-batch that
    happens to hold no generating row on one rank gets this one. A drop-text edit row at the
    smallest size: an image for the ViT, a reference, a target."""
    from PIL import Image

    from synth.internvlu.processor import prompt_rows

    image = Image.new("RGB", (stride * 4, stride * 4), (127, 127, 127))
    row = prompt_rows("", 1, "image", processor.template)[1]
    ids = processor.tokenizer(processor.expand_images(row))["input_ids"]
    target = torch.zeros(3, stride * 4, stride * 4)
    return Example("edit", "<filler>", ids, [IGNORE] * len(ids), processor.vit_tile(image)[None],
                   target, processor.vae_pixels(image), "text")  # fmt: skip


def _config_changes(old: dict, new: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _config_changes(a, b, path + ".")
        elif a != b and path not in RESUMABLE_CHANGES:
            out.append(f"{path}: {a!r} -> {b!r}")
    return out


def _record(root: Path, cfg: TrainConfig, init: str | None, data: list[str]) -> str:
    """The run's record (``train.json``): a rerun into the same folder resumes only with the same
    config (but for its length and bookkeeping), data and init; returns the init to use."""
    path = root / "train.json"
    new = {"config": cfg.model_dump(mode="json"), "init": init, "data": list(data)}
    if path.exists():
        old = json.loads(path.read_text())
        changes = _config_changes(old["config"], new["config"])
        if init is not None and init != old["init"]:
            changes.append(f"--init: {old['init']} -> {init}")
        if data and list(data) != old["data"]:
            changes.append(f"--data: {old['data']} -> {list(data)}")
        if changes and checkpoints(root):
            raise TrainError(
                f"{root} holds a run with another setup ({'; '.join(changes)}); resume it with the same "
                "config, --init and --data, or train into a new --out"
            )
        init = init or old["init"]
        new["init"], new["data"] = init, list(data) or old["data"]
    if init is None:
        raise TrainError(
            "--init is required: a checkpoint in the official layout (synth model tiny makes one)"
        )
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(new, indent=1))
    return init


def _local_init(init: str) -> Path:
    if "://" in init:
        from synth.internvlu.fetch import local_checkpoint

        return local_checkpoint(init)
    return Path(init)


def train(
    cfg: TrainConfig, data: list[str], init: str | None, out: str | Path, progress: bool = True
) -> Summary:
    """Train (or resume) into ``out``; see the module docstring. Every process of the world calls it."""
    from synth.internvlu.model import InternVLU
    from synth.internvlu.train.data import DataConfig, Position, TrainData

    world = D.setup()
    root = Path(out)
    init = _record(root, cfg, init, data) if world.main else None
    if world.distributed:
        box = [init]
        torch.distributed.broadcast_object_list(box, src=0)
        init = box[0]
    data = data or json.loads((root / "train.json").read_text())["data"]
    try:
        summary = _train(cfg, data, init, root, world, progress, InternVLU, DataConfig, Position, TrainData)
        # Every rank done before any tears the group down: a gloo rank whose peer had already closed
        # its sockets aborted at exit once ("terminate called without an active exception").
        D.barrier(world)
        return summary
    finally:
        D.teardown(world)


def _train(cfg, data, init, root, world, progress, InternVLU, DataConfig, Position, TrainData) -> Summary:  # noqa: C901, PLR0915
    torch.manual_seed(cfg.train.seed)
    model = InternVLU.from_pretrained(_local_init(init), dtype=torch.float32, device=world.device)
    decoder_cfg = model.generation_decoder.config.extra
    mean = (
        cfg.loss.logit_mean if cfg.loss.logit_mean is not None else float(decoder_cfg.get("logit_mean", 0.0))
    )
    std = cfg.loss.logit_std if cfg.loss.logit_std is not None else float(decoder_cfg.get("logit_std", 1.0))
    shift = (
        cfg.loss.flow_shift if cfg.loss.flow_shift is not None else float(decoder_cfg.get("flow_shift", 3.0))
    )

    module = TrainModule(model.vlm, model.generation_decoder, ntp=cfg.loss.ntp > 0)
    for p in model.vae.parameters():
        p.requires_grad_(False)
    n_train, n_frozen = freeze(module, cfg.model.trainable)
    module.train()
    model.vae.eval()
    if cfg.model.activation_checkpointing:
        D.checkpoint_activations(module)
    D.shard(module, world)
    params = [p for p in module.parameters() if p.requires_grad]
    o = cfg.optim
    optimizer = torch.optim.AdamW(params, lr=o.lr, betas=o.betas, eps=o.eps, weight_decay=o.weight_decay)
    flops = FlopCounter(model, module.vlm_trains())
    peak = peak_flops(world.device, cfg.train.peak_tflops)
    autocast_bf16 = cfg.train.precision == "bfloat16" or (
        cfg.train.precision == "auto" and world.device.type == "cuda"
    )

    found = checkpoints(root)
    start, resumed = Position.start(), 0
    if found:
        state = load_checkpoint(found[-1], world, module, optimizer)
        start, resumed = Position.from_dict(state["position"]), int(state["step"])
        if world.main:
            log.warning("resuming %s from step %d", root, resumed)
    logs = Logs(root, world.main, resumed)
    if world.main:
        (root / "config.resolved.json").write_text(json.dumps(cfg.model_dump(mode="json"), indent=1))

    loader = TrainData(
        data, DataConfig.from_dict(cfg.data), model.processor, cfg.train.seed, world.rank, world.size
    )
    fill = filler(model.processor, model.processor.gen_factor) if world.distributed else None
    pad = model.tokenizer.pad_token_id
    bar = None
    if progress and world.main:
        from tqdm import tqdm

        bar = tqdm(total=cfg.train.steps, initial=resumed, desc="train", unit="step")
    skipped_total: Counter = Counter()
    last: dict[str, Any] = {}
    step = resumed
    tick = time.perf_counter()
    window = Counter()
    steps_iter = iter(()) if resumed >= cfg.train.steps else loader.steps(start)
    for batch_step in steps_iter:
        step = batch_step.position.step
        examples = batch_step.examples
        skipped_total.update(batch_step.skipped)
        local = [
            sum(e.target is not None for e in examples),
            sum(_labelled(e) for e in examples),
            len(examples),
            sum(len(e.input_ids) for e in examples),  # tokens the VLM reads
        ]
        mb = cfg.train.micro_batch
        chunks = [examples[i : i + mb] for i in range(0, len(examples), mb)]
        n_chunks = len(chunks)
        if world.distributed:  # every rank runs the same number of micro-batches
            t = torch.tensor([n_chunks], device=world.device)
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            n_chunks = int(t.item())
        gen_total, tok_total, rows_total, seq_total = D.all_sum(world, local)
        sums = torch.zeros(2, dtype=torch.float64)
        step_flops = 0.0
        for c in range(n_chunks):
            chunk = list(chunks[c]) if c < len(chunks) else []
            real = len(chunk)
            if fill is not None and not any(e.target is not None for e in chunk):
                chunk.append(fill)
            if not chunk:
                continue
            batch = collate(chunk, pad)
            dtype = torch.float32
            latents = encode_latents(model.vae, batch, world.device, dtype)
            noise = _noise(batch, latents, cfg.train.seed, step, mean, std, shift)
            with torch.autocast(world.device.type, dtype=torch.bfloat16, enabled=autocast_bf16):
                fm_rows, ntp_sum = module(batch, latents, noise)
            weights = torch.tensor(
                [1.0 if i < real else 0.0 for i in batch.generating], device=fm_rows.device
            )
            fm_sum = (fm_rows * weights).sum()
            loss = cfg.loss.fm * fm_sum / max(gen_total, 1.0) + cfg.loss.ntp * ntp_sum / max(tok_total, 1.0)
            loss = loss * world.size  # FSDP2 averages gradients over ranks; the sums are global
            loss.backward()
            sums += torch.tensor([float(fm_sum.detach()), float(ntp_sum.detach())], dtype=torch.float64)
            step_flops += flops(batch, flops.head_tokens(batch, latents.x0, latents.refs))
        grad_norm = torch.nn.utils.clip_grad_norm_(params, o.grad_clip, foreach=True)
        if hasattr(grad_norm, "full_tensor"):
            grad_norm = grad_norm.full_tensor()
        lr = o.lr * lr_factor(step - 1, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

        fm_total, ntp_total, step_flops = D.all_sum(world, [float(sums[0]), float(sums[1]), step_flops])
        window.update(rows=rows_total, tokens=seq_total, flops=step_flops, steps=1)
        if bar is not None:
            bar.update(1)
        if step % cfg.train.log_every == 0 or step == cfg.train.steps:
            elapsed = time.perf_counter() - tick
            fm = fm_total / max(gen_total, 1.0)
            ntp = ntp_total / max(tok_total, 1.0)
            last = {
                "step": step,
                "loss": cfg.loss.fm * fm + cfg.loss.ntp * ntp,
                "loss_fm": fm,
                "loss_ntp": ntp,
                "lr": lr,
                "grad_norm": float(grad_norm),
                "samples_per_s": window["rows"] / elapsed,
                "tokens_per_s": window["tokens"] / elapsed,
                "rows": rows_total,
                "skipped": dict(sorted(skipped_total.items())),
            }
            if peak:
                last["mfu"] = window["flops"] / elapsed / (peak * world.size)
            logs.write(last)
            if bar is not None:
                bar.set_postfix(loss=f"{last['loss']:.4f}", lr=f"{lr:.2e}")
            tick, window = time.perf_counter(), Counter()
        if step % cfg.train.save_every == 0 or step == cfg.train.steps:
            path = save_checkpoint(
                root, step, world, module, optimizer,
                {"position": batch_step.position.to_dict(), "skipped": dict(skipped_total)}, cfg.train.keep,
            )  # fmt: skip
            if cfg.train.export_every_checkpoint:
                export(path / "export", world, module, model, _export_dtype(cfg, init))
        if step >= cfg.train.steps:
            break
    if bar is not None:
        bar.close()
    final = (
        export(root / "final", world, module, model, _export_dtype(cfg, init))
        if step >= cfg.train.steps
        else None
    )
    logs.close()
    return Summary(root, step, resumed, final, last)


def _noise(batch: Batch, latents, seed: int, step: int, mean: float, std: float, shift: float) -> Noise:
    sigma, eps = [], []
    seen: Counter = Counter()
    for i in batch.generating:
        sid = batch.sample_ids[i]
        g = noise_generator(seed, step, sid, seen[sid])
        seen[sid] += 1
        s, e = draw(g, tuple(latents.x0[i].shape), mean, std, shift)
        sigma.append(s)
        eps.append(e)
    return Noise(sigma, eps)


def _export_dtype(cfg: TrainConfig, init: str) -> torch.dtype | None:
    if cfg.train.export_dtype == "float32":
        return torch.float32
    if cfg.train.export_dtype == "bfloat16":
        return torch.bfloat16
    from synth.internvlu.checkpoint import WEIGHTS, safetensors_header, weight_files

    files = weight_files(_local_init(init) / "generation_decoder", WEIGHTS["generation_decoder"])
    dtypes = {dtype for dtype, _ in safetensors_header(files[0]).values()}
    return torch.bfloat16 if dtypes == {"BF16"} else torch.float32
