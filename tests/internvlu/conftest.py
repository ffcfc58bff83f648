"""Parity with the official code across machines.

The official head embeds the timestep as sin/cos of ``1000 * t * exp(-ln(10000) k / 128)`` with
t up to 1000, in float32: a phase near 1e6 rad, where one ulp of the float32 ``exp`` (which
differs between CPUs and builds) moves the phase by ~0.015 rad and the head's output by ~4e-3
relative. Measured: the official code and ours agree to 2e-7 on one machine, and each differs
from its own result on another CPU by 4e-3. Everything after those features is well conditioned
(a 1e-7 relative perturbation of any input or weight moves the output by at most 3e-7).

So the parity tests feed the head the features the official code computed where the stored
tensors were made (``time.*`` in ``oracle_sample.npz``); ``test_time_features`` checks our
formula against them within what one ulp of ``exp`` allows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

DATA = Path(__file__).resolve().parent.parent / "data" / "ivu"


@pytest.fixture(scope="module")
def model():
    """The oracle's tiny checkpoint, loaded by our code, one thread (as the oracle ran)."""
    from synth.internvlu.model import InternVLU

    torch.set_num_threads(1)
    return InternVLU.from_pretrained(DATA / "tiny")


def stored_time_features() -> dict[float, torch.Tensor]:
    with np.load(DATA / "oracle_sample.npz") as f:
        return {float(t): torch.from_numpy(v) for t, v in zip(f["time.t"], f["time.features"], strict=True)}


@pytest.fixture
def official_time(monkeypatch):
    """Our head with the official time features of the machine that made the stored tensors."""
    from synth.internvlu import transformer

    table = stored_time_features()

    def features(t: torch.Tensor, dim: int = 256, scale: float = 1000.0) -> torch.Tensor:
        missing = sorted({float(x) for x in t.tolist()} - set(table))
        if missing:
            raise KeyError(f"no stored official time features for t={missing}; rerun dump_sample.py")
        return torch.stack([table[float(x)] for x in t.tolist()]).to(t.device)

    monkeypatch.setattr(transformer, "timestep_features", features)
    return table
