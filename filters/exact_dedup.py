"""Exact duplicates by a digest of the decoded pixels (and their shape), so re-encodings of the
same image (PNG vs lossless WebP, stripped metadata) are caught where file digests would differ."""

from __future__ import annotations

import hashlib

import numpy as np

from synth.config import Strict


class ExactDedupConfig(Strict):
    enabled: bool = True


def pixel_digest(image: np.ndarray) -> str:
    """sha256 over the (H, W, C) shape and the RGB bytes."""
    h = hashlib.sha256(np.asarray(image.shape, np.int64).tobytes())
    h.update(np.ascontiguousarray(image, np.uint8).tobytes())
    return h.hexdigest()
