"""Starting a run: in this process, under ``torchrun`` (each process calls :func:`run`), or on a
Ray cluster (Ray Train's ``TorchTrainer`` starts one worker a GPU, each calls :func:`run`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Launch:
    config: str
    data: list[str]
    out: str
    init: str | None = None
    sets: list[str] = field(default_factory=list)
    progress: bool = True


def run(launch: Launch) -> dict:
    """Train as ``launch`` says in this process (one rank of whatever world it is in)."""
    from synth.internvlu.train.config import load_train_config
    from synth.internvlu.train.loop import train

    cfg = load_train_config(launch.config, launch.sets)
    summary = train(cfg, launch.data, launch.init, launch.out, progress=launch.progress)
    return {
        "out": str(summary.out),
        "steps": summary.steps,
        "resumed_from": summary.resumed_from,
        "final": str(summary.final) if summary.final else None,
        "last": summary.last,
    }


def _ray_worker(config: dict) -> None:
    run(Launch(**config))


def run_on_ray(launch: Launch, num_workers: int, gpus_per_worker: float, address: str | None = None) -> dict:
    """Ray Train: ``num_workers`` processes in one torch process group (NCCL on GPUs, gloo on
    CPUs), each running :func:`run`. ``--out`` must be storage every worker's node sees (a shared
    folder); rank 0 writes logs, checkpoints and ``final/``."""
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    from synth.runner import ensure_ray

    ensure_ray(address)
    use_gpu = gpus_per_worker > 0
    trainer = TorchTrainer(
        _ray_worker,
        train_loop_config={**launch.__dict__, "out": str(Path(launch.out).resolve()), "progress": False},
        torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
        scaling_config=ScalingConfig(
            num_workers=num_workers,
            use_gpu=use_gpu,
            resources_per_worker={"GPU": gpus_per_worker} if use_gpu else {"CPU": 1},
        ),
        run_config=RunConfig(name="synth-train", storage_path=str((Path(launch.out) / "ray").resolve())),
    )
    trainer.fit()
    record = Path(launch.out) / "log.jsonl"
    lines = record.read_text().splitlines() if record.exists() else []
    final = Path(launch.out) / "final"
    return {"out": launch.out, "final": str(final) if final.exists() else None,
            "last": json.loads(lines[-1]) if lines else {}}  # fmt: skip


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m synth.internvlu.train",
        description="Train InternVL-U on synth outputs (run under torchrun for FSDP2; see synth train --help).",
    )
    p.add_argument(
        "--config", required=True, help="a YAML under configs/train/ or its name (stage1, tiny, ...)"
    )
    p.add_argument("--data", nargs="+", default=[], help="run folders or .parquet shards, local or s3://")
    p.add_argument("--init", default=None, help="starting checkpoint in the official layout")
    p.add_argument("--out", required=True, help="run folder: checkpoints, logs, final/ (rerun to resume)")
    p.add_argument("--set", dest="sets", action="append", default=[], help="override a config key, key=value")
    return p


def main() -> None:
    import os

    args = parser().parse_args()
    launch = Launch(args.config, args.data, args.out, args.init, args.sets,
                    progress=int(os.environ.get("RANK", "0")) == 0)  # fmt: skip
    result = run(launch)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(result))
