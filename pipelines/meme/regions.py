"""The named regions of a template that a plan may place captions on or keep clear: the top and
bottom bands, the salient subject, and the places where the input meme had label captions.

The subject comes from spectral-residual saliency (Hou and Zhang, CVPR 2007): a few FFTs on a
64-pixel thumbnail, no model. It is a coarse box, enough to keep a caption off the main object or
to put a label on it.
"""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[float, float, float, float]


def saliency(image: np.ndarray, side: int = 64) -> np.ndarray:
    """Spectral-residual saliency of ``image`` on a thumbnail ``side`` pixels wide, in [0, 1]."""
    h, w = image.shape[:2]
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    small = cv2.resize(gray, (side, max(8, round(side * h / w))), interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small)
    log_amp, phase = np.log(np.abs(spectrum) + 1e-6), np.angle(spectrum)
    residual = log_amp - cv2.blur(log_amp, (3, 3))
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), 2.5)
    return sal / max(float(sal.max()), 1e-12)


def subject_box(image: np.ndarray, min_share: float = 0.04, max_share: float = 0.7) -> Box | None:
    """The box of the most salient blob (pixels above twice the mean saliency, closed, the largest
    connected part), in image pixels; None when it is too small or covers most of the image."""
    h, w = image.shape[:2]
    sal = saliency(image)
    mask = cv2.morphologyEx(
        (sal > 2 * sal.mean()).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)
    )
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 2:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, bw, bh = (int(v) for v in stats[k, :4])
    sy, sx = h / sal.shape[0], w / sal.shape[1]
    box = (x * sx, y * sy, (x + bw) * sx, (y + bh) * sy)
    share = (box[2] - box[0]) * (box[3] - box[1]) / (w * h)
    return box if min_share <= share <= max_share else None


def regions(image: np.ndarray, labels: list[Box], band: float) -> dict[str, Box]:
    """Every region of a template by name: ``top`` and ``bottom`` (bands of ``band`` x height),
    ``subject`` (when saliency finds one), ``label_1``... (where the input had label captions)."""
    h, w = image.shape[:2]
    out: dict[str, Box] = {
        "top": (0.0, 0.0, float(w), h * band),
        "bottom": (0.0, h * (1 - band), float(w), float(h)),
    }
    subject = subject_box(image)
    if subject is not None:
        out["subject"] = subject
    for i, box in enumerate(labels, 1):
        out[f"label_{i}"] = tuple(float(v) for v in box)  # type: ignore[assignment]
    return out


def overlap(a: Box, b: Box) -> float:
    """Share of box ``b`` that box ``a`` covers."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = max(1e-9, (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / area


def contains(outer: Box, inner: Box, slack: float = 1.0) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )
