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


def stored_time_features(name: str = "oracle_sample.npz") -> dict[float, torch.Tensor]:
    with np.load(DATA / name) as f:
        return {float(t): torch.from_numpy(v) for t, v in zip(f["time.t"], f["time.features"], strict=True)}


@pytest.fixture
def official_time(monkeypatch):
    """Our head with the official time features of the machine that made the stored tensors."""
    return patch_time(monkeypatch, stored_time_features())


def patch_time(monkeypatch, table: dict[float, torch.Tensor]) -> dict[float, torch.Tensor]:
    """Make the head's time features come from ``table`` (stored official ones)."""
    from synth.internvlu import transformer

    def features(t: torch.Tensor, dim: int = 256, scale: float = 1000.0) -> torch.Tensor:
        missing = sorted({float(x) for x in t.tolist()} - set(table))
        if missing:
            raise KeyError(f"no stored official time features for t={missing}; rerun dump_sample.py")
        return torch.stack([table[float(x)] for x in t.tolist()]).to(t.device)

    monkeypatch.setattr(transformer, "timestep_features", features)
    return table


# --- the trainer's inputs (test_train_data.py, test_train.py) ----------------------------------


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> Path:
    """``synth model tiny``'s checkpoint, made once a session."""
    from synth.internvlu.presets import make_tiny

    return make_tiny(tmp_path_factory.mktemp("ckpt") / "tiny")


@pytest.fixture(scope="session")
def runs(tmp_path_factory, ray_session) -> dict[str, Path]:
    """Small real runs through the CLI (t2i, edit and und rows), a cot run made of their
    generation rows, and broken rows; shared by the loader's and the trainer's tests."""
    from synth.schema import image_value
    from tests.cli_runner import invoke
    from tests.internvlu.train_inputs import rows_of, write_run

    root = tmp_path_factory.mktemp("runs")
    commands = {
        "text": ["text-render", "--num", "8", "--set", "render.sizes=[[256,256],[320,240]]"],
        "edit": ["text-edit", "--num", "4", "--set", "render.sizes=[[256,256]]"],
        "physics": ["physics", "--num", "4"],
        "cs": ["cs-diagram", "--num", "6", "--set", "tasks={t2i: 1, edit: 1, und: 2}",
               "--set", "render.max_side=512", "--set", "render.min_side=256"],
    }  # fmt: skip
    out = {}
    for name, args in commands.items():
        result = invoke(*args, "--out", str(root / name), "--quiet")
        assert result.exit_code == 0, result.output
        out[name] = root / name
    gen = rows_of(out["text"])[:3] + rows_of(out["edit"])[:2]
    cot = [{**r, "cot": f"1. Lay out the scene of row {i}. 2. Draw the text.", "sample_id": f"cot{i}"} for i, r in enumerate(gen)]  # fmt: skip
    out["cot"] = write_run(root / "cot", cot)
    good = rows_of(out["text"])[0]
    bad = [
        {**good, "sample_id": "fine"},
        {**good, "sample_id": "undecodable", "target_image": image_value(b"not an image at all")},
        {**good, "sample_id": "no_target", "target_image": None},
        {**good, "sample_id": "long", "instruction": "draw " * 2000, "instructions": None},
        {**good, "sample_id": "curated", "task": "image"},
        {**good, "sample_id": "rejected", "status": "rejected", "reason": "ocr_mismatch"},
    ]
    out["bad"] = write_run(root / "bad", bad)
    return out
