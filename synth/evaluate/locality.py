"""Edit locality: an edit may change pixels inside its mask and nowhere else.

Shared by every edit domain (text editing, diagrams, physics figures) and by the evaluators.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

PSNR_CAP = 100.0  # dB reported for identical pixels (a finite number keeps JSON and Parquet plain)


def psnr_outside(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB) of target against source where ``mask`` is 0; capped at :data:`PSNR_CAP`."""
    if source.shape != target.shape:
        return 0.0
    keep = mask == 0
    if not keep.any():
        return PSNR_CAP
    diff = source[keep].astype(np.float64) - target[keep].astype(np.float64)
    mse = float(np.mean(diff * diff))
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10 * math.log10(255.0**2 / mse))


def edit_mask(
    shape: tuple[int, int], polygons: list[list[float]], alpha: np.ndarray | None, dilate: int
) -> np.ndarray:
    """White (255) where the edit may change pixels: the given polygons and any non-zero ``alpha``
    (a drawn layer's coverage), dilated by ``dilate`` pixels."""
    mask = np.zeros(shape, np.uint8)
    for poly in polygons:
        pts = np.round(np.asarray(poly, np.float64).reshape(-1, 2)).astype(np.int32)
        cv2.fillPoly(mask, [pts], 255)
    if alpha is not None:
        mask[alpha > 0] = 255
    if dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        mask = cv2.dilate(mask, kernel)
    return mask


def changed_outside(source: np.ndarray, target: np.ndarray, mask: np.ndarray, tolerance: int = 0) -> int:
    """Pixels outside ``mask`` where source and target differ by more than ``tolerance`` in any
    channel; -1 when the images differ in size."""
    if source.shape != target.shape:
        return -1
    diff = np.abs(source.astype(np.int16) - target.astype(np.int16))
    if diff.ndim == 3:
        diff = diff.max(axis=2)
    return int(((diff > tolerance) & (mask == 0)).sum())


def boxes_mask(shape: tuple[int, int], boxes: list[list[float]], dilate: int) -> np.ndarray:
    """White where the edit may change pixels: the boxes (``[x0, y0, x1, y1]``), grown by ``dilate``."""
    polygons = [[x0, y0, x1, y0, x1, y1, x0, y1] for x0, y0, x1, y1 in boxes]
    return edit_mask(shape, polygons, None, dilate)
