"""Reading weight files: plain state dicts only (``weights_only=True``) or safetensors, with errors
that name the file and the format that was expected."""

from __future__ import annotations

import os
import pickle
from typing import Any

import torch
from torch import nn

from synth.models import ModelSetupError


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when this worker sees a GPU, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def require_file(path: str | None, what: str, hint: str) -> str:
    if not path:
        raise ModelSetupError(f"{what}: no weights file is set. {hint}")
    if not os.path.isfile(path):
        raise ModelSetupError(f"{what}: no file at {path!r}. {hint}")
    return path


def load_state_dict(path: str, what: str) -> dict[str, torch.Tensor]:
    """A tensor dict from ``.safetensors`` or a torch file holding a state dict (or ``{"state_dict": ...}``).
    Pickled modules and code are refused: ``torch.load(weights_only=True)``."""
    try:
        if path.endswith(".safetensors"):
            from safetensors.torch import load_file

            state: Any = load_file(path, device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, ValueError, EOFError) as e:
        raise ModelSetupError(
            f"{what}: cannot read {path} as a state dict ({type(e).__name__}: {str(e)[:200]}). "
            "Only plain state dicts (torch.save(model.state_dict())) and .safetensors files are loaded; "
            "a pickled whole model must be re-saved as its state_dict."
        ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelSetupError(f"{what}: {path} does not hold a dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_into(
    module: nn.Module, state: dict[str, torch.Tensor], what: str, path: str, arch: str
) -> nn.Module:
    """Load ``state`` strictly; on any missing, unexpected or mis-shaped key, say which architecture
    the file should hold."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f"{k}: file {tuple(state[k].shape)}, expected {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        problems = []
        if missing:
            problems.append(f"missing keys {missing[:6]}")
        if unexpected:
            problems.append(f"unexpected keys {unexpected[:6]}")
        if shapes:
            problems.append("wrong shapes " + "; ".join(shapes[:4]))
        raise ModelSetupError(f"{what}: {path} does not match {arch}: {', '.join(problems)}")
    module.load_state_dict(state, strict=True)
    return module.eval()
