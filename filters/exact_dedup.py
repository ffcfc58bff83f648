"""Exact duplicates by a digest of the decoded pixels (and their shape), so re-encodings of the
same image (PNG vs lossless WebP, stripped metadata) are caught where file digests would differ."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
from PIL import Image

from synth.config import Strict


class ExactDedupConfig(Strict):
    enabled: bool = True


#: Bytes of packed RGB hashed at a time from a PIL image: a piece that stays in the core's cache
#: between packing and hashing (the whole image through ``tobytes()`` cost 0.2 ms more a photo).
CHUNK = 1 << 18


def pixel_digest(image: np.ndarray | Image.Image) -> str:
    """sha256 over the (H, W, C) shape and the RGB bytes, of (H, W, 3) uint8 pixels or of an RGB
    PIL image (the same digest: PIL packs RGB rows as numpy lays them out)."""
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            raise ValueError(f"pixel_digest of a PIL image takes RGB, got {image.mode}")
        h = hashlib.sha256(np.asarray((image.height, image.width, 3), np.int64).tobytes())
        for piece in _rgb_pieces(image):
            h.update(piece)
        return h.hexdigest()
    h = hashlib.sha256(np.asarray(image.shape, np.int64).tobytes())
    h.update(np.ascontiguousarray(image, np.uint8).data)
    return h.hexdigest()


def _rgb_pieces(image: Image.Image) -> Iterator[bytes]:
    """The bytes ``image.tobytes()`` joins, piece by piece: Pillow's raw encoder, as ``tobytes``
    runs it (a piece holds at least one row)."""
    encoder = getattr(Image, "_getencoder", None)
    if encoder is None:  # another Pillow: the whole image at once
        yield image.tobytes()
        return
    raw = encoder(image.mode, "raw", image.mode)
    try:
        raw.setimage(image.im, (0, 0, *image.size))
        size = max(CHUNK, image.width * 4)
        while True:
            _, status, data = raw.encode(size)
            yield data
            if status:
                break
    finally:
        raw.cleanup()
    if status < 0:
        raise RuntimeError(f"raw encoder error {status} while hashing pixels")
