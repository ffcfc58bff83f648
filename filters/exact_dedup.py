"""Exact duplicates by a digest of the decoded pixels (and their shape), so re-encodings of the
same image (PNG vs lossless WebP, stripped metadata) are caught where file digests would differ."""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from synth.config import Strict


class ExactDedupConfig(Strict):
    enabled: bool = True


def pixel_digest(image: np.ndarray | Image.Image) -> str:
    """sha256 over the (H, W, C) shape and the RGB bytes, of (H, W, 3) uint8 pixels or of an RGB
    PIL image (the same digest: PIL packs RGB rows as numpy lays them out)."""
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            raise ValueError(f"pixel_digest of a PIL image takes RGB, got {image.mode}")
        shape, data = (image.height, image.width, 3), image.tobytes()
    else:
        shape, data = image.shape, np.ascontiguousarray(image, np.uint8).data
    h = hashlib.sha256(np.asarray(shape, np.int64).tobytes())
    h.update(data)
    return h.hexdigest()
