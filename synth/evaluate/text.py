"""Text matching for OCR verification: the crop a line is read from, normalisation and normalised
edit distance (NED)."""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
from rapidfuzz.distance import Levenshtein

_SPACE = re.compile(r"\s+")


def normalize_text(text: str, *, ignore_space: bool = True, casefold: bool = True) -> str:
    """NFKC (full-width punctuation to ASCII), optional case folding, spaces removed or collapsed.

    OCR engines disagree on spaces, above all in CJK text, so by default they are not compared.
    """
    text = unicodedata.normalize("NFKC", text)
    if casefold:
        text = text.casefold()
    return _SPACE.sub("" if ignore_space else " ", text).strip()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute all cost 1)."""
    return Levenshtein.distance(a, b)


def ned(expected: str, read: str, **norm) -> float:
    """Normalised edit distance in [0, 1]: 0 is an exact read, 1 shares nothing."""
    a, b = normalize_text(expected, **norm), normalize_text(read, **norm)
    if not a and not b:
        return 0.0
    return edit_distance(a, b) / max(len(a), len(b))


def crop_box(image: np.ndarray, bbox: list[float], pad: float = 0.2) -> np.ndarray:
    """The line's box with a margin of ``pad`` times its height, clipped to the image: what OCR
    recognition reads for a line whose place is known."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = bbox
    m = (y1 - y0) * pad
    return image[
        max(0, int(y0 - m)) : min(h, int(math.ceil(y1 + m))),
        max(0, int(x0 - m)) : min(w, int(math.ceil(x1 + m))),
    ]
