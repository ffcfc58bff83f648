"""Processes, devices and sharding: one process (CPU or GPU), ``torchrun`` (FSDP2, one process a
GPU, or gloo processes on a CPU) and Ray Train (its ``TorchTrainer`` starts the processes and the
process group; the training function is the same)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def setup() -> World:
    """The world this process is in: a process group already made (Ray Train makes one), the
    ``torchrun`` environment (a group is made: NCCL on GPUs, gloo on CPUs), or one process."""
    cuda = torch.cuda.is_available()
    if dist.is_available() and dist.is_initialized():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        try:
            import ray.train

            local = ray.train.get_context().get_local_rank()
        except (ImportError, RuntimeError, AttributeError, ValueError):
            pass
        device = torch.device("cuda", local) if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
        return World(dist.get_rank(), dist.get_world_size(), local, device)
    size = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if size > 1:
        dist.init_process_group("nccl" if cuda else "gloo", device_id=device if cuda else None)
        return World(dist.get_rank(), size, local, device)
    return World(0, 1, 0, device)


def teardown(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(world: World, values: list[float]) -> list[float]:
    """Sums over ranks (float64 on the CPU-side group's device)."""
    if not world.distributed:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=world.device)
    dist.all_reduce(t)
    return t.tolist()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def blocks(module: nn.Module) -> list[nn.Module]:
    """The repeated transformer blocks (activation checkpointing's units)."""
    from synth.internvlu.transformer import TransformerBlock
    from synth.internvlu.vision import EncoderLayer

    # the language model's layers are transformers' ``*DecoderLayer`` classes (Qwen3, Qwen2, ...)
    return [
        m
        for m in module.modules()
        if isinstance(m, TransformerBlock | EncoderLayer) or type(m).__name__.endswith("DecoderLayer")
    ]


def shard_units(module: nn.Module) -> list[nn.Module]:
    """FSDP2's own units: the head's and the language model's blocks, which every micro-batch runs
    (the loop gives a micro-batch without a generating row a filler). The ViT's layers stay in
    the root's unit: a micro-batch without images skips them, and a sharded block that one rank
    skips would leave the ranks' collectives unmatched."""
    return [b for b in blocks(module) if not isinstance(b, _vit_layer())]


def _vit_layer() -> type:
    from synth.internvlu.vision import EncoderLayer

    return EncoderLayer


def shard(module: nn.Module, world: World) -> nn.Module:
    """FSDP2 over ``module``: each block whose parameters all train is its own unit, the rest of
    the trainable parameters are the root's; frozen parameters stay whole on every rank (ignored:
    they hold no gradient and no optimizer state to shard)."""
    from torch.distributed.fsdp import fully_shard

    if not world.distributed:
        return module
    sharded: set[int] = set()
    for block in shard_units(module):
        params = list(block.parameters())
        if params and all(p.requires_grad for p in params):
            fully_shard(block)
            sharded.update(id(p) for p in params)
    frozen = {p for p in module.parameters() if not p.requires_grad and id(p) not in sharded}
    fully_shard(module, ignored_params=frozen or None)
    return module


def checkpoint_activations(module: nn.Module) -> None:
    """Recompute each block's activations in the backward pass instead of keeping them.
    transformers' language model through its own switch (its layers take the recompute flag in
    ``__call__``); our blocks (head, ViT) by wrapping their ``forward`` in place, so parameter
    names stay the official ones. Under FSDP2 a block's pre-backward hook has its parameters
    whole for the recompute."""
    import functools

    from torch.utils.checkpoint import checkpoint

    for m in module.modules():
        if hasattr(m, "gradient_checkpointing_enable") and hasattr(m, "config"):
            m.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    for block in blocks(module):
        if not type(block).__name__.endswith("DecoderLayer"):
            block.forward = functools.partial(checkpoint, block.forward, use_reentrant=False)
