"""Where each token of the head's sequence sits, and the rotation that says so (3-axis RoPE).

Positions are (frame, h, w): the target latent's grid centred, references as later frames of it,
the VLM condition's text counting on from one past the largest position so far on all three axes,
and the VLM's image-token runs at their own grid positions. Rotations act on adjacent channel pairs
as complex numbers, ``axes_dims_rope`` channels an axis.
"""

from __future__ import annotations

import torch
from torch import nn


def apply_rope(x: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent channel pairs of ``x`` [B, S, H, Dh] by the complex ``freqs`` [B, S, Dh/2]."""
    xc = torch.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))  # [B, S, H, Dh/2]
    return torch.view_as_real(xc * freqs.unsqueeze(-2)).flatten(3).type_as(x)


def grid_positions(frames: int, h: int, w: int, first_frame: int, scale: float) -> torch.Tensor:
    """(frame, h, w) positions [frames*h*w, 3] of one latent grid, row-major; h and w centred
    (h in [-(H - H//2), H//2 - 1]) and, for ``scale`` != 1, remapped onto the scaled range."""

    def axis(n: int) -> torch.Tensor:
        neg, pos = n - n // 2, n // 2
        idx = torch.arange(-neg, pos, dtype=torch.float32)
        if scale != 1.0 and n > 1:
            lo, hi = -int(neg / scale), int(pos / scale) - 1
            idx = lo + (idx + neg) * (hi - lo) / (pos - 1 + neg)
        return idx

    f = torch.arange(first_frame, first_frame + frames, dtype=torch.float32)
    fg, hg, wg = torch.meshgrid(f, axis(h), axis(w), indexing="ij")
    return torch.stack([fg.flatten(), hg.flatten(), wg.flatten()], dim=1)


def sample_positions(
    image_grids: list[tuple[int, int, int]],
    text_image_mask: torch.Tensor,
    text_image_grids: list[tuple[int, int, int]],
    image_scale: float,
    text_image_scale: float,
) -> torch.Tensor:
    """Positions [S, 3] of one sample's sequence ``[image grids ; text]``.

    ``image_grids``: the target's (1, h, w) then each reference's, frames counted on from the
    target's; ``text_image_mask`` [L] marks the text tokens that are VLM image tokens, each run
    of them one grid of ``text_image_grids``. Text runs count on from one past the largest
    position so far (on all three axes); an image run's frames start there, its h, w stay centred.
    """
    blocks, frame = [], 0
    for f, h, w in image_grids:
        blocks.append(grid_positions(f, h, w, frame, image_scale))
        frame += f
    pos = [torch.cat(blocks)]
    nxt = int(pos[0].max().item()) + 1
    mask = text_image_mask.bool().tolist()
    grids = iter(text_image_grids)
    i = 0
    while i < len(mask):
        j = i
        while j < len(mask) and mask[j] == mask[i]:
            j += 1
        if mask[i]:
            f, h, w = next(grids)
            if f * h * w == j - i:
                block = grid_positions(f, h, w, 0, text_image_scale)
                block[:, 0] += nxt
                pos.append(block)
                nxt = int(block.max().item()) + 1
                i = j
                continue
        run = torch.arange(nxt, nxt + j - i, dtype=torch.float32)
        pos.append(run[:, None].expand(-1, 3))
        nxt += j - i
        i = j
    return torch.cat(pos)


class RopeFreqs(nn.Module):
    """Complex rotation per token from its (frame, h, w) position, axes ``axes_dims_rope``."""

    def __init__(self, axes_dims: tuple[int, int, int], theta: float = 10000.0):
        super().__init__()
        self.axes_dims = axes_dims
        self.theta = theta

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        # positions [S, 3] -> [S, sum(axes)/2] complex64
        parts = []
        for axis, dim in enumerate(self.axes_dims):
            inv = 1.0 / torch.pow(self.theta, torch.arange(0, dim, 2, dtype=torch.float32) / dim)
            angles = torch.outer(positions[:, axis].float(), inv.to(positions.device))
            parts.append(torch.polar(torch.ones_like(angles), angles))
        return torch.cat(parts, dim=-1)
