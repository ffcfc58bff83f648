"""Training throughput of the whole ``synth train`` step against the bare model step, in one run.

The whole step is what ``train()`` does each step: the loader (reading shards, decoding, resizing,
tokenising, in its worker processes), the frozen VAE, forward, backward, clipping and AdamW,
logging and checkpoint bookkeeping. The bare step is the same model's VAE encoding, forward,
backward, clipping and AdamW on one batch built beforehand (no loader). Ratio = whole / bare in
samples/s (target at least 0.9 on the CPU tiny config: the loader never starves the model).

    python benchmarks/bench_train.py                       # tiny checkpoint, CPU, text-render rows
    python benchmarks/bench_train.py --size release --device cuda --steps 30 --batch 8
        # on a GPU: the released architecture with random weights, bf16 autocast: samples/s,
        # MFU from the model's FLOPs and peak memory (no loader ratio: synthetic rows)

Run from the repository root (``.venv/bin/python benchmarks/bench_train.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from synth.internvlu.model import InternVLU
from synth.internvlu.train.batch import collate
from synth.internvlu.train.config import load_train_config
from synth.internvlu.train.data import DataConfig, Position, TrainData
from synth.internvlu.train.loop import _noise, freeze, train
from synth.internvlu.train.metrics import FlopCounter, peak_flops
from synth.internvlu.train.step import TrainModule, encode_latents


def make_data(root: Path, rows: int) -> tuple[Path, Path]:
    ckpt, text = root / "ivu-tiny", root / "text"
    subprocess.run([sys.executable, "-m", "synth.cli.main", "model", "tiny", str(ckpt)], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([sys.executable, "-m", "synth.cli.main", "text-render", "--num", str(rows), "--out", str(text),
                    "--quiet"], check=True, capture_output=True)  # fmt: skip
    return ckpt, text


def bare(cfg, ckpt: Path, data: list[str], steps: int, device: torch.device) -> float:
    """Samples/s of VAE + forward + backward + clip + AdamW on one pre-built batch."""
    model = InternVLU.from_pretrained(ckpt, device=device)
    module = TrainModule(model.vlm, model.generation_decoder, ntp=cfg.loss.ntp > 0)
    freeze(module, cfg.model.trainable)
    module.train()
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.optim.lr, betas=cfg.optim.betas)
    dcfg = DataConfig.from_dict({**cfg.data, "workers": 0})
    step = next(TrainData(data, dcfg, model.processor, cfg.train.seed).steps(Position.start()))
    batch = collate(step.examples, model.tokenizer.pad_token_id)

    def one(k: int) -> None:
        latents = encode_latents(model.vae, batch, device, torch.float32)
        fm, ntp = module(batch, latents, _noise(batch, latents, 0, k, 0.0, 1.0, 3.0))
        (fm.sum() / max(len(fm), 1) + ntp).backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.optim.grad_clip, foreach=True)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for k in range(3):
        one(k)
    t = time.perf_counter()
    for k in range(steps):
        one(k)
    return steps * len(batch) / (time.perf_counter() - t)


def whole(cfg, ckpt: Path, data: list[str], out: Path) -> float:
    """Samples/s of ``train()`` after its first logged window (start-up and worker spawn excluded)."""
    train(cfg, data, str(ckpt), out, progress=False)
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return sum(r["samples_per_s"] for r in records[1:]) / max(1, len(records) - 1)


def release(args) -> None:
    """The released architecture with random weights on a GPU: samples/s, MFU, peak memory."""
    from synth.internvlu.presets import make_checkpoint, release_configs

    root = Path(tempfile.mkdtemp())
    ckpt = make_checkpoint(root / "release", lambda vocab, ids: release_configs(), 0)
    device = torch.device(args.device)
    cfg = load_train_config(
        args.config, [f"data.global_batch={args.batch}", f"train.micro_batch={args.batch}"]
    )
    model = InternVLU.from_pretrained(ckpt, device=device)
    module = TrainModule(model.vlm, model.generation_decoder, ntp=cfg.loss.ntp > 0)
    freeze(module, cfg.model.trainable)
    module.train()
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    _, text = make_data(root, args.batch)
    step = next(TrainData([str(text)], DataConfig.from_dict({**cfg.data, "workers": 0}), model.processor, 0)
                .steps(Position.start()))  # fmt: skip
    batch = collate(step.examples, model.tokenizer.pad_token_id)
    flops = FlopCounter(model, module.vlm_trains())
    torch.cuda.reset_peak_memory_stats(device)
    t0, done = None, 0
    for k in range(args.steps + 3):
        if k == 3:
            torch.cuda.synchronize(device)
            t0 = time.perf_counter()
        latents = encode_latents(model.vae, batch, device, torch.float32)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            fm, ntp = module(batch, latents, _noise(batch, latents, 0, k, 0.0, 1.0, 3.0))
        (fm.mean() + ntp).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        done += k >= 3
    torch.cuda.synchronize(device)
    elapsed = time.perf_counter() - t0
    per_step = flops(batch, flops.head_tokens(batch, latents.x0, latents.refs))
    peak = peak_flops(device, None)
    print(json.dumps({
        "size": "release", "config": args.config, "batch": len(batch),
        "samples_per_s": done * len(batch) / elapsed,
        "mfu": per_step * done / elapsed / peak if peak else None,
        "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30,
    }))  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=["tiny", "release"], default="tiny")
    p.add_argument("--config", default="tiny")
    p.add_argument("--steps", type=int, default=60, help="timed steps")
    p.add_argument("--batch", type=int, default=8, help="rows per step")
    p.add_argument("--rows", type=int, default=64, help="text-render rows to train on (tiny)")
    p.add_argument("--workers", type=int, default=1, help="loader processes")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.size == "release":
        release(args)
        return
    root = Path(tempfile.mkdtemp())
    ckpt, text = make_data(root, args.rows)
    cfg = load_train_config(args.config, [
        f"train.steps={args.steps + 10}", "train.log_every=10", f"train.save_every={10**6}",
        f"data.global_batch={args.batch}", f"train.micro_batch={args.batch}", f"data.workers={args.workers}",
    ])  # fmt: skip
    device = torch.device(args.device)
    b = bare(cfg, ckpt, [str(text)], args.steps, device)
    w = whole(cfg, ckpt, [str(text)], root / "run")
    print(json.dumps({"size": "tiny", "batch": args.batch, "loader_workers": args.workers, "threads": args.threads,
                      "whole_samples_per_s": round(w, 2), "bare_samples_per_s": round(b, 2),
                      "ratio": round(w / b, 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
