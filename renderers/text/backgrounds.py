"""Backgrounds as pure functions of their spec: solid, gradient, procedural texture, and photos.

Photos come in as pixels (the renderer does no I/O); ``smooth_regions`` finds where text can sit.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from renderers.text.color import parse_hex


def _value_noise(rng: np.random.Generator, h: int, w: int, octaves: int = 4) -> np.ndarray:
    """Smooth noise in [0, 1]: random grids of growing resolution, bicubically upscaled and summed."""
    total = np.zeros((h, w), np.float64)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        cells = 2 ** (o + 2)
        grid = rng.random((cells + 1, cells + 1))
        total += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        norm += amp
        amp /= 2
    total /= norm
    return (total - total.min()) / max(total.max() - total.min(), 1e-9)


def _mix(c0: np.ndarray, c1: np.ndarray, t: np.ndarray) -> np.ndarray:
    return c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]


def render_background(
    spec: dict[str, Any], width: int, height: int, photo: np.ndarray | None = None
) -> np.ndarray:
    """(H, W, 3) uint8 background for ``spec['kind']`` in solid, gradient, texture, photo."""
    kind = spec["kind"]
    if kind == "photo":
        if photo is None:
            raise ValueError("a photo background needs the photo pixels")
        return fit_photo(photo, width, height, spec.get("crop"))
    c0 = np.array(parse_hex(spec["colors"][0]), np.float64)
    c1 = np.array(parse_hex(spec["colors"][-1]), np.float64)
    if kind == "solid":
        return np.broadcast_to(c0.astype(np.uint8), (height, width, 3)).copy()
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    if kind == "gradient":
        if spec.get("style") == "radial":
            d = np.hypot(xs - width / 2, ys - height / 2)
            t = d / d.max()
        else:
            a = np.deg2rad(spec.get("angle", 90.0))
            proj = xs * np.cos(a) + ys * np.sin(a)
            t = (proj - proj.min()) / max(proj.max() - proj.min(), 1e-9)
        return np.clip(_mix(c0, c1, t), 0, 255).astype(np.uint8)
    if kind == "texture":
        rng = np.random.default_rng(spec["seed"])
        pattern = spec.get("pattern", "noise")
        if pattern == "noise":
            t = _value_noise(rng, height, width)
        elif pattern == "paper":
            t = 0.7 * _value_noise(rng, height, width, 2) + 0.3 * rng.random((height, width))
        elif pattern == "stripes":
            period = spec.get("period", 24)
            t = 0.5 + 0.5 * np.sin(2 * np.pi * (xs + ys) / period)
        elif pattern == "dots":
            period = spec.get("period", 28)
            d = np.hypot((xs % period) - period / 2, (ys % period) - period / 2)
            t = (d < period / 5).astype(np.float64)
        else:
            raise ValueError(f"unknown texture pattern {pattern!r}")
        return np.clip(_mix(c0, c1, t), 0, 255).astype(np.uint8)
    raise ValueError(f"unknown background kind {kind!r}")


def fit_photo(photo: np.ndarray, width: int, height: int, crop: list[float] | None = None) -> np.ndarray:
    """Cover-crop a photo to the canvas; ``crop`` = [x, y] offset of the window as fractions of the slack."""
    ph, pw = photo.shape[:2]
    scale = max(width / pw, height / ph)
    nw, nh = max(width, round(pw * scale)), max(height, round(ph * scale))
    resized = cv2.resize(photo, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    fx, fy = crop or (0.5, 0.5)
    x0, y0 = int((nw - width) * fx), int((nh - height) * fy)
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width, :3])


def edge_density(image: np.ndarray) -> np.ndarray:
    """Per-pixel edge strength in [0, 1] (Sobel magnitude of luminance, lightly blurred)."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    mag = cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), 3)
    return np.clip(mag / 255.0, 0, 1)


def smooth_region(
    edges: np.ndarray, box_w: int, box_h: int, anchor: tuple[float, float], taken: list[list[float]]
) -> tuple[list[int], float]:
    """The ``box_w x box_h`` window with the least edge energy (near ``anchor``, a point in [0,1]^2),
    not overlapping boxes already ``taken``. Returns the box and its mean edge density."""
    h, w = edges.shape
    integral = cv2.integral(edges.astype(np.float64))
    step = max(4, min(box_w, box_h) // 4)
    best, best_score, best_density = None, np.inf, 1.0
    ax, ay = anchor
    m = int(0.03 * min(w, h))  # keep text (and its outline or warp) off the border
    for y in range(m, max(m + 1, h - box_h - m + 1), step):
        for x in range(m, max(m + 1, w - box_w - m + 1), step):
            box = [x, y, x + box_w, y + box_h]
            if any(_overlap(box, t) for t in taken):
                continue
            s = (
                integral[y + box_h, x + box_w]
                - integral[y, x + box_w]
                - integral[y + box_h, x]
                + integral[y, x]
            )
            density = s / (box_w * box_h)
            dist = np.hypot((x + box_w / 2) / w - ax, (y + box_h / 2) / h - ay)
            score = density + 0.05 * dist
            if score < best_score:
                best, best_score, best_density = box, score, density
    if best is None:
        raise ValueError("no free region for a text block of this size")
    return best, float(best_density)


def _overlap(a: list[float], b: list[float], margin: float = 8) -> bool:
    return not (
        a[2] + margin <= b[0] or b[2] + margin <= a[0] or a[3] + margin <= b[1] or b[3] + margin <= a[1]
    )
