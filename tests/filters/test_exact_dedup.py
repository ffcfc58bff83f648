from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from filters.exact_dedup import pixel_digest
from synth.imageio import decode_image


def test_reencoded_image_has_the_same_digest_and_a_changed_pixel_does_not():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (32, 48, 3), dtype=np.uint8)
    png, webp = io.BytesIO(), io.BytesIO()
    Image.fromarray(image).save(png, format="PNG")
    Image.fromarray(image).save(webp, format="WEBP", lossless=True)
    assert png.getvalue() != webp.getvalue()
    assert pixel_digest(decode_image(png.getvalue())) == pixel_digest(decode_image(webp.getvalue()))
    changed = image.copy()
    changed[0, 0, 0] ^= 1
    assert pixel_digest(changed) != pixel_digest(image)
    assert pixel_digest(image.reshape(48, 32, 3)) != pixel_digest(image)  # same bytes, other shape


def test_digest_of_a_pil_image_equals_the_digest_of_its_array():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (31, 17, 3), dtype=np.uint8)
    assert pixel_digest(Image.fromarray(image)) == pixel_digest(image)
    flipped = image[:, ::-1]  # a strided view hashes its values, not its memory
    assert pixel_digest(flipped) == pixel_digest(np.ascontiguousarray(flipped))
    with pytest.raises(ValueError, match="RGB"):
        pixel_digest(Image.fromarray(image).convert("L"))


@pytest.mark.parametrize("size", [(700, 400), (70_000, 2), (1, 1)])
def test_a_pil_image_hashed_piece_by_piece_has_the_digest_of_its_whole_bytes(size):
    """Larger than one piece of the raw encoder, a row wider than a piece, one pixel: the same
    digest as the shape and ``tobytes()`` hashed at once."""
    import hashlib

    w, h = size
    image = Image.fromarray(np.random.default_rng(w).integers(0, 256, (h, w, 3), dtype=np.uint8))
    whole = hashlib.sha256(np.asarray((h, w, 3), np.int64).tobytes())
    whole.update(image.tobytes())
    assert pixel_digest(image) == whole.hexdigest() == pixel_digest(np.asarray(image))
