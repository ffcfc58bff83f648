"""LAION's heads on CLIP image embeddings, in their published PyTorch formats.

- Improved aesthetic predictor (``sac+logos+ava1-l14-linearMSE.pth``): a linear stack
  768-1024-128-64-16-1 with dropout and no activations, keys ``layers.0/2/4/6/7``.
- The older linear aesthetic head (``sa_0_4_vit_l_14_linear.pth``): one ``nn.Linear(768, 1)``.
- The CLIP-based NSFW detector ported to PyTorch (``clip_ViT-L-14_openai_binary_nsfw_head.pth``):
  Keras-style normalisation (``norm.mean``, ``norm.variance``), then ``linear_1..4``
  768-64-512-256-1 with ReLU and a sigmoid.

All take the L2-normalised image embedding; 768 is ViT-L/14's width, other widths follow the file.
"""

from __future__ import annotations

import torch
from torch import nn

from synth.models import ModelSetupError
from synth.models.weights import load_into, load_state_dict, require_file

AESTHETIC_MLP = "the LAION improved aesthetic MLP (layers.0/2/4/6/7: D-1024-128-64-16-1)"
AESTHETIC_LINEAR = "the LAION linear aesthetic head (nn.Linear(D, 1): weight, bias)"
NSFW_HEAD = "the LAION CLIP NSFW head (norm.mean/variance, linear_1..4: D-64-512-256-1)"


class AestheticMLP(nn.Module):
    def __init__(self, dim: int = 768):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(dim, 1024),
            nn.Dropout(0.2),
            nn.Linear(1024, 128),
            nn.Dropout(0.2),
            nn.Linear(128, 64),
            nn.Dropout(0.1),
            nn.Linear(64, 16),
            nn.Linear(16, 1),
        )

    def forward(self, emb: torch.Tensor) -> torch.Tensor:  # (N, D) -> (N,)
        return self.layers(emb).squeeze(-1)


class LinearAesthetic(nn.Linear):
    def __init__(self, dim: int = 768):
        super().__init__(dim, 1)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:  # (N, D) -> (N,)
        return super().forward(emb).squeeze(-1)


class Normalization(nn.Module):
    """Keras ``Normalization``: (x - mean) / max(sqrt(variance), epsilon)."""

    def __init__(self, dim: int, eps: float = 1e-7):
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("variance", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / torch.sqrt(self.variance).clamp_min(self.eps)


class NsfwHead(nn.Module):
    def __init__(self, dim: int = 768):
        super().__init__()
        self.norm = Normalization(dim)
        self.linear_1 = nn.Linear(dim, 64)
        self.linear_2 = nn.Linear(64, 512)
        self.linear_3 = nn.Linear(512, 256)
        self.linear_4 = nn.Linear(256, 1)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:  # (N, D) -> (N,) probability of NSFW
        x = self.norm(emb)
        x = torch.relu(self.linear_1(x))
        x = torch.relu(self.linear_2(x))
        x = torch.relu(self.linear_3(x))
        return torch.sigmoid(self.linear_4(x)).squeeze(-1)


def load_aesthetic_head(path: str, dim: int) -> nn.Module:
    """Either published aesthetic format, told apart by its keys."""
    what = "filters.aesthetic.head"
    require_file(path, what, "Give sac+logos+ava1-l14-linearMSE.pth (or sa_0_4_vit_l_14_linear.pth).")
    state = load_state_dict(path, what)
    if any(k.startswith("layers.") for k in state):
        return load_into(AestheticMLP(dim), state, what, path, AESTHETIC_MLP + f" with D={dim}")
    if set(state) == {"weight", "bias"}:
        return load_into(LinearAesthetic(dim), state, what, path, AESTHETIC_LINEAR + f" with D={dim}")
    raise ModelSetupError(
        f"{what}: {path} has keys {sorted(state)[:6]}; expected {AESTHETIC_MLP} or {AESTHETIC_LINEAR}"
    )


def load_nsfw_head(path: str, dim: int) -> nn.Module:
    what = "filters.nsfw.head"
    require_file(
        path, what, "Give clip_ViT-L-14_openai_binary_nsfw_head.pth (LAION's NSFW head for ViT-L/14)."
    )
    state = load_state_dict(path, what)
    state = {k: v.reshape(-1) if k.startswith("norm.") else v for k, v in state.items() if k != "norm.count"}
    return load_into(NsfwHead(dim), state, what, path, NSFW_HEAD + f" with D={dim}")
