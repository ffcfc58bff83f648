"""Training checkpoints (to resume) and exports in the official layout (to use).

    runs/s1/checkpoints/step-000500/   trainable.safetensors   the trained parameters, official names
                                       optimizer.safetensors   AdamW moments, by parameter name
                                       state.json              step, data position, scheduler, optimizer scalars
                                       rng-rank<r>.safetensors each rank's torch RNG states
    runs/s1/final/                     the whole model in the official layout (``InternVLU.save_pretrained``'s)

A checkpoint is written under a temporary name and renamed when complete, so a kill at any
moment leaves the previous one usable. Nothing is unpickled: tensors are safetensors, the rest
JSON (PyTorch's distributed checkpoint format stores its metadata as a pickle, which a resumed
run would have to trust). Tensors are stored whole (FSDP2 shards gathered), so a run resumes on
another number of processes. Frozen parameters are not stored: they come from ``--init``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synth.internvlu.train.distributed import World, barrier

STEP_DIR = re.compile(r"^step-(\d{6,})$")


def _full(t: torch.Tensor) -> torch.Tensor:
    """A whole tensor on the CPU: an FSDP2 shard (DTensor) is gathered (a collective: every rank
    calls this for the same tensors in the same order)."""
    if hasattr(t, "full_tensor"):
        t = t.full_tensor()
    return t.detach().to("cpu")


def _place(full: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``full`` laid out as ``like``: sharded the same way where ``like`` is a DTensor."""
    if hasattr(like, "device_mesh"):
        from torch.distributed.tensor import distribute_tensor

        return distribute_tensor(full.to(like.device_mesh.device_type), like.device_mesh, like.placements)
    return full.to(like.device)


def full_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """Every tensor of ``module``'s state dict, whole, on the CPU, by official name."""
    return {k: _full(v) for k, v in module.state_dict().items()}


def trainable_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable parameters, whole, on the CPU, by official name."""
    return {n: _full(p) for n, p in module.named_parameters() if p.requires_grad}


def optimizer_state(module: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """(tensors by ``<parameter name>.<state key>``, the param groups' settings), whole."""
    names = {id(p): n for n, p in module.named_parameters()}
    tensors = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            for key, value in optimizer.state.get(p, {}).items():
                if isinstance(value, torch.Tensor):
                    tensors[f"{names[id(p)]}.{key}"] = _full(value)
    groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    return tensors, {"param_groups": groups}


def load_optimizer(
    module: nn.Module, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], scalars: dict
) -> None:
    names = {id(p): n for n, p in module.named_parameters()}
    for group, saved in zip(optimizer.param_groups, scalars["param_groups"], strict=True):
        group.update({k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})
    for group in optimizer.param_groups:
        for p in group["params"]:
            prefix = names[id(p)] + "."
            state = {}
            for key, value in tensors.items():
                if key.startswith(prefix) and "." not in key[len(prefix) :]:
                    # moments are laid out as the parameter; AdamW's step count stays a CPU scalar
                    state[key[len(prefix) :]] = _place(value, p) if value.shape == p.shape else value
            if state:
                optimizer.state[p] = state


def save_checkpoint(
    root: Path,
    step: int,
    world: World,
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
    keep: int,
) -> Path:
    """Write ``root/checkpoints/step-<step>`` atomically and prune to the newest ``keep``."""
    from safetensors.torch import save_file

    final = root / "checkpoints" / f"step-{step:06d}"
    tmp = root / "checkpoints" / f".step-{step:06d}.tmp"
    params = trainable_state(module)
    opt_tensors, opt_scalars = optimizer_state(module, optimizer)
    if world.main:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
    barrier(world)
    rng = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state(world.device)
    save_file(rng, str(tmp / f"rng-rank{world.rank}.safetensors"))
    if world.main:
        save_file({k: v.contiguous() for k, v in params.items()}, str(tmp / "trainable.safetensors"))
        save_file({k: v.contiguous() for k, v in opt_tensors.items()}, str(tmp / "optimizer.safetensors"))
        (tmp / "state.json").write_text(
            json.dumps({**state, "step": step, "world": world.size, "optimizer": opt_scalars}, indent=1)
        )
    barrier(world)
    if world.main:
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        for old in checkpoints(root)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    barrier(world)
    return final


def checkpoints(root: Path) -> list[Path]:
    """Complete checkpoints under ``root``, oldest first."""
    folder = root / "checkpoints"
    if not folder.is_dir():
        return []
    found = [
        p for p in folder.iterdir() if p.is_dir() and STEP_DIR.match(p.name) and (p / "state.json").exists()
    ]
    return sorted(found, key=lambda p: int(STEP_DIR.match(p.name).group(1)))


def load_checkpoint(
    path: Path, world: World, module: nn.Module, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """Restore parameters, optimizer and this rank's RNG from ``path``; returns its state.json."""
    from safetensors.torch import load_file

    state = json.loads((path / "state.json").read_text())
    params = load_file(str(path / "trainable.safetensors"))
    expected = {n for n, p in module.named_parameters() if p.requires_grad}
    if set(params) != expected:
        missing, extra = sorted(expected - set(params))[:5], sorted(set(params) - expected)[:5]
        raise ValueError(
            f"{path}: its trained parameters are not this config's (missing {missing}, unexpected {extra})"
        )
    with torch.no_grad():
        for n, p in module.named_parameters():
            if n in params:
                placed = _place(params[n].to(p.dtype), p)
                (p.to_local() if hasattr(p, "to_local") else p).copy_(
                    placed.to_local() if hasattr(placed, "to_local") else placed
                )
    load_optimizer(module, optimizer, load_file(str(path / "optimizer.safetensors")), state.pop("optimizer"))
    rng_file = path / f"rng-rank{world.rank}.safetensors"
    if rng_file.exists():
        rng = load_file(str(rng_file))
        torch.set_rng_state(rng["cpu"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state(rng["cuda"], world.device)
    return state


def export(
    out: Path, world: World, module: nn.Module, model: nn.Module, dtype: torch.dtype | None
) -> Path | None:
    """The whole model in the official layout at ``out`` (written under a temporary name, then
    renamed): the trained VLM and generation decoder gathered from the shards, the VAE, configs
    and processor files as ``--init`` had them. Every rank must call it; rank 0 writes."""
    from synth.internvlu.model import write_pretrained

    full = full_state(module)
    if not world.main:
        barrier(world)
        return None
    states = {"vae": model.vae.state_dict()}
    for part in ("vlm", "generation_decoder"):
        states[part] = {k[len(part) + 1 :]: v for k, v in full.items() if k.startswith(part + ".")}
    if dtype is not None:
        states = {
            part: {k: v.to(dtype) if v.is_floating_point() else v for k, v in s.items()}
            for part, s in states.items()
        }
    tmp = out.with_name(f".{out.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    write_pretrained(tmp, model.configs, model.processor_files, states)
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    barrier(world)
    return out
