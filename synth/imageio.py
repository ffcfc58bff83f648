"""The one place images are decoded and encoded.

Decoding applies EXIF orientation, converts every mode to RGB (alpha composited on white) and
refuses images above a pixel limit before decoding them, so a decompression bomb is a reason code,
not a crashed worker.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image, ImageOps

DEFAULT_MAX_PIXELS = 80_000_000


class DecodeError(ValueError):
    """The bytes are not an image we can use; ``reason`` is the row's reason code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


#: Formats and modes that every training loader reads as displayed: such bytes are kept as they are.
PORTABLE_FORMATS = ("JPEG", "PNG", "WEBP")
PORTABLE_MODES = ("RGB", "L")


@dataclass(frozen=True)
class Decoded:
    image: Image.Image  # RGB as displayed; for a stored RGB image without EXIF turn, the decoded one itself
    format: str | None  # what PIL read: JPEG, PNG, WEBP, TIFF, ...
    mode: str  # the stored mode before conversion: RGB, CMYK, P, I;16, ...
    transposed: bool  # an EXIF orientation was applied

    @cached_property
    def pixels(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB as displayed, made on first use: a caller that hashes the image
        from :attr:`image` never pays for the copy."""
        return np.asarray(self.image)

    @property
    def portable(self) -> bool:
        """The original bytes show these pixels in any reader (no EXIF turn, no mode conversion)."""
        return self.format in PORTABLE_FORMATS and self.mode in PORTABLE_MODES and not self.transposed


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Encoded bytes -> (H, W, 3) uint8 RGB as displayed."""
    return decode(data, max_pixels).pixels


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """Encoded bytes -> pixels plus what was converted; raises :class:`DecodeError` with a reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > max_pixels:
                raise DecodeError(
                    "decompression_bomb", f"{img.width}x{img.height} exceeds {max_pixels} pixels"
                )
            img.load()
    except DecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise DecodeError("decompression_bomb", str(e)) from None
    except Image.UnidentifiedImageError:  # its message holds a memory address: not deterministic
        raise DecodeError("decode_error", "not an image format PIL can identify") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise DecodeError("decode_error", f"{type(e).__name__}: {e}") from None
    fmt, mode, size, orientation = img.format, img.mode, img.size, _orientation(img)
    ImageOps.exif_transpose(img, in_place=True)  # in place: no copy of an image it leaves as it is
    return Decoded(rgb_image(img), fmt, mode, transposed=img.size != size or orientation > 1)


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block means no orientation
        return 1


def to_rgb(img: Image.Image) -> np.ndarray:
    return np.asarray(rgb_image(img))


def rgb_image(img: Image.Image) -> Image.Image:
    """Any mode as 8-bit RGB; an RGB image is returned as it is (``convert`` would copy it)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit samples: 65535 is white, so divide by 257 (not by the image's own maximum,
        # which would brighten a dark photo).
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray(np.clip(np.rint(arr / 257.0), 0, 255).astype(np.uint8))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")


def encode_png(image: np.ndarray) -> bytes:
    """Lossless and deterministic. Level 1: 3-4x faster than the default 6 on photos for about 10% more
    bytes; encoding was the largest share of drawing time."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def data_uri(data: bytes, max_side: int, fmt: str = "PNG") -> str:
    """Encoded image bytes, decoded, downscaled to ``max_side`` and re-encoded as a ``data:`` URI,
    the form VLM servers take images in: PNG (lossless, text stays legible) or JPEG (quality 90,
    smaller)."""
    import base64

    im = Image.fromarray(decode_image(data))
    im.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    im.save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()
