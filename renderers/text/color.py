"""Colours: WCAG contrast, contrast-preserving adjustment, and names for prompts (English, Chinese)."""

from __future__ import annotations

import numpy as np

RGB = tuple[int, int, int]

# name (en), name (zh), rgb: the vocabulary prompts use to describe a colour.
NAMED: list[tuple[str, str, RGB]] = [
    ("black", "黑色", (0, 0, 0)),
    ("white", "白色", (255, 255, 255)),
    ("dark gray", "深灰色", (64, 64, 64)),
    ("gray", "灰色", (128, 128, 128)),
    ("light gray", "浅灰色", (200, 200, 200)),
    ("red", "红色", (220, 30, 30)),
    ("dark red", "深红色", (128, 0, 0)),
    ("orange", "橙色", (245, 130, 20)),
    ("yellow", "黄色", (250, 220, 40)),
    ("gold", "金色", (200, 160, 40)),
    ("green", "绿色", (40, 160, 60)),
    ("dark green", "深绿色", (0, 90, 40)),
    ("teal", "青色", (0, 128, 128)),
    ("light blue", "浅蓝色", (150, 200, 240)),
    ("blue", "蓝色", (30, 90, 220)),
    ("navy", "藏青色", (20, 30, 90)),
    ("purple", "紫色", (120, 50, 170)),
    ("pink", "粉色", (240, 150, 190)),
    ("brown", "棕色", (120, 70, 30)),
    ("beige", "米色", (235, 220, 190)),
    ("cream", "奶油色", (255, 250, 225)),
]


def hex_color(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def parse_hex(value: str) -> RGB:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luminance(rgb: np.ndarray | RGB) -> np.ndarray | float:
    """WCAG relative luminance of sRGB values in 0..255 (last axis = channels)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lum = lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722
    return float(lum) if np.ndim(lum) == 0 else lum


def contrast(l1: float, l2: float) -> float:
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def region_luminance_range(pixels: np.ndarray) -> tuple[float, float]:
    """Dark and light ends (5th and 95th percentiles) of the luminance under a text box."""
    lum = luminance(pixels.reshape(-1, 3))
    return float(np.percentile(lum, 5)), float(np.percentile(lum, 95))


def worst_contrast(rgb: RGB, lum_range: tuple[float, float]) -> float:
    text = luminance(rgb)
    return min(contrast(text, lum_range[0]), contrast(text, lum_range[1]))


def ensure_contrast(rgb: RGB, lum_range: tuple[float, float], minimum: float) -> tuple[RGB, float]:
    """Keep the colour if it reaches ``minimum`` against the whole range, else darken or lighten it
    step by step (towards the end that gains contrast) until it does; returns the colour and ratio."""
    best = (rgb, worst_contrast(rgb, lum_range))
    if best[1] >= minimum:
        return best
    target = np.array([0, 0, 0] if sum(lum_range) / 2 > 0.18 else [255, 255, 255], dtype=np.float64)
    base = np.array(rgb, dtype=np.float64)
    for t in np.linspace(0.1, 1.0, 10):
        cand = tuple(int(round(v)) for v in base * (1 - t) + target * t)
        ratio = worst_contrast(cand, lum_range)
        if ratio > best[1]:
            best = (cand, ratio)
        if ratio >= minimum:
            break
    return best


def color_name(rgb: RGB, language: str = "en") -> str:
    """Nearest named colour (in a rough perceptual space) in English or Chinese."""
    arr = np.array(rgb, dtype=np.float64)
    weights = np.array([0.3, 0.59, 0.11])
    best = min(NAMED, key=lambda n: float((((np.array(n[2]) - arr) ** 2) * weights).sum()))
    return best[0] if language == "en" else best[1]
