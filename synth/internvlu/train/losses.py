"""The two training objectives and the per-sample noise they draw.

Flow matching, as the released head was trained and is sampled: for clean latents x0 and noise
eps, ``x_t = (1 - s) x0 + s eps`` and the head predicts ``eps - x0`` (the ``flow_prediction``
the sampler's DPM-Solver integrates). ``s`` is logit-normal (``sigmoid(N(mean, std))``, the
checkpoint's ``weighting_scheme: logit_normal``) then shifted as the sampling schedule is
(``flow_shift``: ``k s / (1 + (k - 1) s)``), and the head is given ``1000 s``, the timestep scale
of the sampler's scheduler. Next-token prediction is cross-entropy on the labelled tokens.
"""

from __future__ import annotations

import hashlib

import torch
import torch.nn.functional as F

from synth.internvlu.train.batch import IGNORE


def noise_generator(seed: int, step: int, sample_id: str, occurrence: int = 0) -> torch.Generator:
    """A CPU generator for one sample at one step: the same draw on any rank, worker or world
    size, and after a resume (nothing to carry in the checkpoint)."""
    key = hashlib.sha256(f"{seed}:{step}:{sample_id}:{occurrence}".encode()).digest()
    return torch.Generator("cpu").manual_seed(int.from_bytes(key[:8], "little") & (2**63 - 1))


def shifted(s: torch.Tensor, shift: float) -> torch.Tensor:
    return shift * s / (1 + (shift - 1) * s)


def draw(
    generator: torch.Generator, shape: tuple[int, ...], mean: float, std: float, shift: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(sigma [1], noise ``shape``) for one sample, float32 on the CPU."""
    s = torch.sigmoid(mean + std * torch.randn(1, generator=generator))
    return shifted(s, shift), torch.randn(shape, generator=generator)


def flow_matching(
    velocity: list[torch.Tensor], x0: list[torch.Tensor], noise: list[torch.Tensor]
) -> torch.Tensor:
    """Per-sample mean squared error of the predicted velocity against ``noise - x0``: [B].
    A head that also predicts a variance (2z channels) is scored on its first z, the mean."""
    out = []
    for v, x, e in zip(velocity, x0, noise, strict=True):
        v = v[: x.shape[0]].float()
        out.append(F.mse_loss(v, (e - x).float(), reduction="mean"))
    return torch.stack(out)


def next_token_sum(hidden: torch.Tensor, labels: torch.Tensor, lm_head: torch.nn.Module) -> torch.Tensor:
    """Summed cross-entropy of the labelled tokens, each predicted from the position before it.
    Only those positions go through ``lm_head`` (a vocabulary of 150k times every position is
    most of the memory otherwise). ``hidden`` [B, N, D] (after the final norm), ``labels`` [B, N]."""
    targets = labels[:, 1:]
    where = targets != IGNORE
    if not bool(where.any()):
        return hidden.sum() * 0.0
    logits = lm_head(hidden[:, :-1][where]).float()  # [T, V]
    return F.cross_entropy(logits, targets[where], reduction="sum")
