"""Captions erased from a meme, leaving its template, and the check that they are gone.

The mask follows each line, not the caption's box: a two-line caption over a face leaves the
face between and beside its lines alone. Pixels outside the mask are copied back from the input
after inpainting, so the template differs from the meme only where text was, whatever the
inpainter does elsewhere (LaMa works at its own resolution and touches every pixel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from pipelines.meme.detect import FoundCaption
from renderers.text.photo import bbox_of, grow_quad, quad, rectified_size
from synth.evaluate.text import normalize_text
from synth.ocr import OcrBackend

#: A detection this share of whose box lies on a caption's erased pixels is read as its residue.
RESIDUE_OVERLAP = 0.3

Eraser = Callable[[np.ndarray, np.ndarray], np.ndarray]


def caption_mask(shape: tuple[int, ...], captions: list[FoundCaption], pad: float) -> np.ndarray:
    """uint8 (H, W), 255 where text is erased: each line's quad grown by ``pad`` times its height
    and by its caption's outline width (OCR boxes hug the glyphs, outline included or not)."""
    mask = np.zeros(shape[:2], np.uint8)
    for caption in captions:
        for line in caption.lines:
            q = quad(line.polygon)
            margin = pad * rectified_size(q)[1] + caption.stroke
            pts = np.round(grow_quad(q, margin)).astype(np.int32)
            cv2.fillPoly(mask, [pts], 255)
    return mask


def remove_captions(
    image: np.ndarray, captions: list[FoundCaption], erase_fn: Eraser, pad: float
) -> tuple[np.ndarray, np.ndarray]:
    """(template, mask): ``erase_fn(image, mask)`` (OpenCV Telea, LaMa, ...) over
    :func:`caption_mask`, with every pixel outside the mask the input's."""
    mask = caption_mask(image.shape, captions, pad)
    if not mask.any():
        return image.copy(), mask
    erased = np.asarray(erase_fn(image, mask), dtype=image.dtype)
    return np.where(mask[..., None] > 0, erased, image), mask


@dataclass(frozen=True)
class RemovalCheck:
    clean: list[bool]  # per caption: no text found by OCR over its region afterwards
    residue: list[str]  # texts found there (for the row's detail)
    outside_changed: float  # share of the pixels outside the mask that differ from the input (expect 0.0)


def _regions(mask: np.ndarray, captions: list[FoundCaption]) -> list[np.ndarray]:
    """Each caption's erased pixels: the connected parts of ``mask`` that its lines' quads touch."""
    _, labels = cv2.connectedComponents((mask > 0).astype(np.uint8), connectivity=8)
    regions = []
    for caption in captions:
        quads = np.zeros(mask.shape, np.uint8)
        for line in caption.lines:
            cv2.fillPoly(quads, [np.round(quad(line.polygon)).astype(np.int32)], 255)
        touched = np.unique(labels[(quads > 0) & (mask > 0)])
        regions.append(np.isin(labels, touched[touched > 0]))
    return regions


def check_removal(
    template: np.ndarray,
    image: np.ndarray,
    mask: np.ndarray,
    captions: list[FoundCaption],
    ocr: OcrBackend,
    *,
    min_confidence: float = 0.5,
) -> RemovalCheck:
    """One OCR detection pass over the template. A detection of at least ``min_confidence`` and
    2 characters with :data:`RESIDUE_OVERLAP` of its box on a caption's erased pixels makes that
    caption not clean; ``outside_changed`` checks the copy-back of :func:`remove_captions`."""
    h, w = mask.shape[:2]
    regions = _regions(mask, captions)
    clean, residue = [True] * len(captions), []
    for found in ocr.detect(template):
        if found.confidence < min_confidence or len(normalize_text(found.text)) < 2:
            continue
        x0, y0, x1, y1 = bbox_of(found.polygon)
        x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        x1, y1 = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
        area = (x1 - x0) * (y1 - y0)
        if area <= 0:
            continue
        hit = False
        for i, region in enumerate(regions):
            if region[y0:y1, x0:x1].sum() >= RESIDUE_OVERLAP * area:
                clean[i], hit = False, True
        if hit:
            residue.append(found.text)
    outside = mask == 0
    changed = np.any(template != image, axis=-1) if image.ndim == 3 else template != image
    share = float((changed & outside).sum() / outside.sum()) if outside.any() else 0.0
    return RemovalCheck(clean, residue, share)
