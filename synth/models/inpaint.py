"""LaMa inpainting from a local TorchScript file, in the format IOPaint and lama-cleaner distribute
(``big-lama.pt``, traced from the LaMa repository's JIT wrapper).

Calling convention of that file: ``model(image, mask)`` with ``image`` float32 ``(1, 3, H, W)`` RGB in
[0, 1] and ``mask`` float32 ``(1, 1, H, W)``, 1 where pixels are to be filled; H and W multiples of
8 (padded at the bottom and right by reflection); the output is ``(1, 3, H, W)`` RGB in [0, 1],
already equal to the input outside the mask. Only a window around the mask is run (the hole plus a
margin), as IOPaint's crop strategy does, and only masked pixels are pasted back.

A TorchScript file is a program, not just weights: load only files you trust (the path comes from
your config, never from the data).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from synth.models import ModelSetupError
from synth.models.weights import require_file, resolve_device

HINT = (
    "Set real.inpaint_weights to LaMa's TorchScript file (big-lama.pt, as IOPaint distributes it), "
    "or real.inpaint=opencv."
)
MARGIN = 128  # context pixels around the hole given to the model


class LamaInpainter:
    def __init__(self, path: str | None, device: str = "auto", hint: str = HINT):
        path = require_file(path, "LaMa inpainting", hint)
        self.device = resolve_device(device)
        try:
            with (
                warnings.catch_warnings()
            ):  # TorchScript is the published format; its deprecation is not ours to fix
                warnings.simplefilter("ignore", FutureWarning)
                self.model = torch.jit.load(path, map_location="cpu").to(self.device).eval()
        except (RuntimeError, ValueError) as e:
            raise ModelSetupError(
                f"LaMa inpainting: {path} is not a TorchScript file ({str(e)[:160]}). {hint}"
            ) from None

    @torch.inference_mode()
    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Fill the non-zero pixels of ``mask`` (H, W) in ``image`` (H, W, 3) uint8."""
        ys, xs = np.nonzero(mask)
        if not len(ys):
            return image.copy()
        h, w = mask.shape
        y0, y1 = max(0, ys.min() - MARGIN), min(h, ys.max() + 1 + MARGIN)
        x0, x1 = max(0, xs.min() - MARGIN), min(w, xs.max() + 1 + MARGIN)
        crop, hole = image[y0:y1, x0:x1], (mask[y0:y1, x0:x1] > 0)
        ch, cw = hole.shape
        ph, pw = -ch % 8, -cw % 8
        padded = np.pad(crop, ((0, ph), (0, pw), (0, 0)), mode="symmetric")
        padded_hole = np.pad(hole, ((0, ph), (0, pw)), mode="symmetric")
        x = torch.from_numpy(padded).permute(2, 0, 1)[None].float().div(255).to(self.device)  # (1, 3, H8, W8)
        m = torch.from_numpy(padded_hole)[None, None].float().to(self.device)  # (1, 1, H8, W8)
        out = self.model(x, m)[0].permute(1, 2, 0).clamp(0, 1).mul(255).round().byte().cpu().numpy()
        result = image.copy()
        window = result[y0:y1, x0:x1]
        window[hole] = out[:ch, :cw][hole]
        return result
