"""Text already in a photo: its quad, rectified size, homography and colour.

Shared by the domains that find text by OCR and measure or remove it (real-scene text editing,
memes): an OCR polygon becomes a quad, the quad is rectified to an upright ``w x h`` crop, and the
text colour is read from that crop by two-means clustering.
"""

from __future__ import annotations

import cv2
import numpy as np


def bbox_of(polygon: list[float]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1): the axis-aligned box around a flat ``[x, y, x, y, ...]`` polygon."""
    return min(polygon[0::2]), min(polygon[1::2]), max(polygon[0::2]), max(polygon[1::2])


def quad(polygon: list[float]) -> np.ndarray:
    """The polygon as 4 float32 corners (top-left, top-right, bottom-right, bottom-left)."""
    pts = np.asarray(polygon, np.float32).reshape(-1, 2)
    if len(pts) != 4:
        rect = cv2.minAreaRect(pts)
        pts = cv2.boxPoints(rect).astype(np.float32)
    s, d = pts.sum(1), np.diff(pts, axis=1).ravel()
    return np.float32([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])


def rectified_size(q: np.ndarray) -> tuple[float, float]:
    """(width, height) of the quad: mean lengths of its opposite sides."""
    w = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    h = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    return float(w), float(h)


def homography(q: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Matrix from the upright ``w x h`` rectangle onto the quad, and ``w``, ``h``."""
    w, h = rectified_size(q)
    w, h = max(2, int(round(w))), max(2, int(round(h)))
    rect = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    return cv2.getPerspectiveTransform(rect, q), w, h


def grow_quad(q: np.ndarray, margin: float) -> np.ndarray:
    """The quad grown by ``margin`` pixels on every side of its rectified frame (shrunk when
    negative), as 4 float32 corners: the same slant and perspective, a wider border."""
    m, w, h = homography(q)
    rect = np.float32(
        [[-margin, -margin], [w + margin, -margin], [w + margin, h + margin], [-margin, h + margin]]
    )
    return cv2.perspectiveTransform(rect[None], m)[0].astype(np.float32)


def rectify(image: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The quad's pixels warped to an upright ``w x h`` crop (see :func:`homography`)."""
    m, w, h = homography(q)
    return cv2.warpPerspective(image, np.linalg.inv(m), (w, h), flags=cv2.INTER_LINEAR)


def text_color(image: np.ndarray, q: np.ndarray) -> tuple[tuple[int, int, int], np.ndarray]:
    """(text colour, text pixels of the rectified crop as a boolean mask), by two-means clustering
    inside the quad. OCR boxes keep a margin of background around the glyphs, so the text is the
    cluster that covers less of the crop's outer frame."""
    crop = rectify(image, q)
    h, w = crop.shape[:2]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    pixels = crop.reshape(-1, 3).astype(np.float32)
    _, labels, centres = cv2.kmeans(pixels, 2, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    labels = labels.reshape(h, w)
    frame = np.ones((h, w), bool)
    my, mx = max(1, h // 7), max(1, w // 40)
    frame[my:-my, mx:-mx] = False
    text = int(np.argmin([(labels[frame] == k).mean() for k in (0, 1)]))
    return tuple(int(round(c)) for c in centres[text]), labels == text
