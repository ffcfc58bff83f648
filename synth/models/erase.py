"""How a pipeline fills the holes left by erased text: OpenCV's Telea inpainting (the default, no
model, no torch import) or LaMa from a local TorchScript file (``synth.models.inpaint``). One place
for both the text-edit real scenes and the meme templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from synth.identity import file_digest

Eraser = Callable[[np.ndarray, np.ndarray], np.ndarray]


def telea(image: np.ndarray, mask: np.ndarray, radius: int) -> np.ndarray:
    """OpenCV inpainting (Telea) of the white pixels of ``mask``."""
    return cv2.inpaint(image, mask, radius, cv2.INPAINT_TELEA)


def eraser(
    method: str, weights: str | None, device: str, radius: int, section: str
) -> tuple[Eraser, dict[str, Any]]:
    """(what fills a hole: ``erase(image, mask)``, what the row's spec records of it). ``section``
    is the config section holding these keys (``real``, ``remove``), named when LaMa's file is missing."""
    if method == "lama":
        from synth.models.inpaint import LamaInpainter

        hint = f"Set {section}.inpaint_weights to LaMa's TorchScript file (big-lama.pt, as IOPaint distributes it), or {section}.inpaint=opencv."
        return LamaInpainter(weights, device, hint), {"method": "lama", "weights": file_digest(weights)}
    return (lambda image, mask: telea(image, mask, radius)), {"method": "opencv-telea", "radius": radius}
