"""Text rendering in two pure steps: ``layout(spec)`` resolves a scene into a drawing plan (fonts,
sizes, line positions, final colours, warps), and ``draw(plan)`` paints it. The plan is the row's
``program``: drawing it again reproduces the image byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from renderers.text.backgrounds import edge_density, render_background, smooth_region
from renderers.text.color import (
    contrast,
    ensure_contrast,
    hex_color,
    luminance,
    parse_hex,
    region_luminance_range,
)
from renderers.text.layout import fit, line_height, load_font, wrap_text

PLAN_VERSION = "text-plan/1"
BULLET_INDENT = 0.07  # of the box width, left free for list bullets


class RenderError(ValueError):
    """The spec cannot be drawn (text does not fit, no free region): a rejected row, not a crash."""


@dataclass
class Rendered:
    image: np.ndarray  # (H, W, 3) uint8
    texts: list[dict[str, Any]]  # one instance per drawn line, in the schema's ``texts`` layout
    plan: dict[str, Any]
    min_contrast: float
    block_boxes: list[list[float]]  # union of each block's line boxes, in spec order
    placed: list[list[int]] = field(default_factory=list)  # each block's layout box, in spec order
    edge_density: dict[int, float] = field(default_factory=dict)  # photo blocks: edges under the box
    background: np.ndarray | None = None  # the pixels the text was drawn over


def render(spec: dict[str, Any], photo: np.ndarray | None = None) -> Rendered:
    background = render_background(spec["background"], spec["width"], spec["height"], photo)
    plan, texts, worst, densities, placed = layout(spec, background)
    boxes, start = [], 0
    for block in plan["blocks"]:
        mine = texts[start : start + len(block["lines"])]
        start += len(block["lines"])
        boxes.append(
            [min(t["bbox"][i] for t in mine) if i < 2 else max(t["bbox"][i] for t in mine) for i in range(4)]
        )
    return Rendered(draw(plan, background), texts, plan, worst, boxes, placed, densities, background)


def _place(
    block: dict, background: np.ndarray, edges: np.ndarray | None, taken: list
) -> tuple[list[int], float]:
    if "box" in block:
        return [int(v) for v in block["box"]], 0.0
    h, w = background.shape[:2]
    fw, fh = block["place"]["size"]
    if edges is None:
        raise RenderError("a block without a box needs a photo background to place it on")
    return smooth_region(edges, int(fw * w), int(fh * h), tuple(block["place"]["anchor"]), taken)


def layout(spec: dict[str, Any], background: np.ndarray):
    """Resolve every block: place, fit, align, pick a colour with enough contrast, warp."""
    h, w = background.shape[:2]
    edges = edge_density(background) if spec["background"]["kind"] == "photo" else None
    minimum = spec.get("min_contrast", 4.5)
    plan_blocks, texts, taken, densities = [], [], [], {}  # taken: each block's box, in order
    worst = np.inf
    for bi, block in enumerate(spec["blocks"]):
        box, density = _place(block, background, edges, taken)
        if edges is not None:
            densities[bi] = density
        taken.append(box)
        bullet = block.get("bullet") == "dot"
        indent = int((box[2] - box[0]) * BULLET_INDENT) if bullet else 0
        font_ref = block["font"]
        fitted = fit(
            block["text"],
            font_ref["path"],
            font_ref["index"],
            (box[2] - box[0] - indent, box[3] - box[1]),
            tuple(block.get("sizes", (12, 160))),
            block.get("spacing", 1.15),
            block.get("max_lines"),
        )
        if fitted is None:
            raise RenderError(f"block {bi} ({block['role']}) does not fit its box {box}")
        size, _ = fitted
        font = load_font(font_ref["path"], font_ref["index"], size)
        lh = line_height(font, block.get("spacing", 1.15))
        items = [wrap_text(item, font, box[2] - box[0] - indent) for item in block["text"].split("\n")]
        n_lines = sum(len(i) for i in items)
        top = box[1] + ((box[3] - box[1]) - n_lines * lh) / 2 if block.get("valign") == "center" else box[1]

        lines, bullets, y = [], [], top
        for item in items:
            for k, text in enumerate(item):
                width = font.getlength(text)
                left, right = box[0] + indent, box[2]
                x = {"left": left, "right": right - width}.get(
                    block.get("align", "left"), (left + right - width) / 2
                )
                if bullet and k == 0:
                    ascent = font.getmetrics()[0]
                    bullets.append([box[0] + indent * 0.45, y + ascent * 0.62, max(2.0, size * 0.16)])
                lines.append({"text": text, "xy": [round(float(x), 2), round(float(y), 2)]})
                y += lh
        ink = [_ink_box(font, ln) for ln in lines]
        union = [
            min(b[0] for b in ink),
            min(b[1] for b in ink),
            max(b[2] for b in ink),
            max(b[3] for b in ink),
        ]
        region = background[
            max(0, int(union[1])) : min(h, int(np.ceil(union[3])) + 1),
            max(0, int(union[0])) : min(w, int(np.ceil(union[2])) + 1),
        ]
        lum_range = region_luminance_range(region)
        color, ratio = ensure_contrast(parse_hex(block["color"]), lum_range, minimum)
        outline = None
        if block.get("outline") or ratio < minimum:
            stroke = (0, 0, 0) if luminance(color) > 0.18 else (255, 255, 255)
            outline = {"color": hex_color(stroke), "width": max(1, size // 16)}
            ratio = max(ratio, contrast(luminance(color), luminance(stroke)))
        worst = min(worst, ratio)

        polys, matrix = _warp(block, box, ink, w, h)
        for ln, poly in zip(lines, polys, strict=True):
            texts.append(
                {
                    "text": ln["text"],
                    "role": block["role"],
                    "bbox": [
                        float(poly[:, 0].min()),
                        float(poly[:, 1].min()),
                        float(poly[:, 0].max()),
                        float(poly[:, 1].max()),
                    ],
                    "polygon": [float(v) for v in poly.reshape(-1)],
                    "font": font_ref["name"],
                    "color": hex_color(color),
                    "language": block["language"],
                }
            )
        plan_blocks.append(
            {
                "font": font_ref,
                "size": size,
                "color": hex_color(color),
                "outline": outline,
                "shadow": bool(block.get("shadow")),
                "matrix": None if matrix is None else [float(v) for v in matrix.reshape(-1)],
                "lines": lines,
                "bullets": bullets,
            }
        )
    plan = {
        "version": PLAN_VERSION,
        "width": w,
        "height": h,
        "background": spec["background"],
        "blocks": plan_blocks,
    }
    return plan, texts, float(worst), densities, taken


def _warp(block: dict, box: list[int], ink: list[list[float]], w: int, h: int):
    """Line polygons after the block's perspective jitter, and its matrix. The jitter is halved
    until every line stays inside the canvas (None when even a quarter would leave it)."""
    rects = [np.float32([[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]]) for b in ink]
    if block.get("warp"):
        src = np.float32([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
        offsets = np.float32(block["warp"]).reshape(4, 2) * np.float32([box[2] - box[0], box[3] - box[1]])
        for scale in (1.0, 0.5, 0.25):
            matrix = cv2.getPerspectiveTransform(src, src + offsets * scale)
            polys = [cv2.perspectiveTransform(r[None], matrix)[0] for r in rects]
            if all(
                p[:, 0].min() >= 0 and p[:, 1].min() >= 0 and p[:, 0].max() <= w and p[:, 1].max() <= h
                for p in polys
            ):
                return polys, matrix
    return rects, None


def _ink_box(font, line: dict) -> list[float]:
    x, y = line["xy"]
    x0, y0, x1, y1 = font.getbbox(line["text"], anchor="la")
    return [x + x0, y + y0, x + x1, y + y1]


def draw(plan: dict[str, Any], background: np.ndarray) -> np.ndarray:
    """Paint a plan over its background; pure and deterministic."""
    canvas = Image.fromarray(background).convert("RGBA")
    size = (plan["width"], plan["height"])
    for block in plan["blocks"]:
        canvas = Image.alpha_composite(canvas, block_layer(block, size))
    return np.asarray(canvas.convert("RGB"))


def block_layer(block: dict[str, Any], size: tuple[int, int]) -> Image.Image:
    """One plan block drawn alone on a transparent RGBA layer (shadow, outline and warp included):
    its alpha is exactly where the block can touch the picture."""
    font = load_font(block["font"]["path"], block["font"]["index"], block["size"])
    fill = parse_hex(block["color"])
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    if block["shadow"]:
        shadow = Image.new("RGBA", size, (0, 0, 0, 0))
        sd, off = ImageDraw.Draw(shadow), max(1, block["size"] // 18)
        for ln in block["lines"]:
            sd.text(
                (ln["xy"][0] + off, ln["xy"][1] + off),
                ln["text"],
                font=font,
                fill=(0, 0, 0, 150),
                anchor="la",
            )
        layer = Image.alpha_composite(layer, shadow.filter(ImageFilter.GaussianBlur(off)))
    d = ImageDraw.Draw(layer)
    stroke = block["outline"]
    for cx, cy, r in block["bullets"]:
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(*fill, 255))
    for ln in block["lines"]:
        d.text(
            tuple(ln["xy"]),
            ln["text"],
            font=font,
            fill=(*fill, 255),
            anchor="la",
            stroke_width=stroke["width"] if stroke else 0,
            stroke_fill=(*parse_hex(stroke["color"]), 255) if stroke else None,
        )
    if block["matrix"] is not None:
        m = np.array(block["matrix"], np.float64).reshape(3, 3)
        warped = cv2.warpPerspective(np.asarray(layer), m, size, flags=cv2.INTER_LINEAR)
        layer = Image.fromarray(warped, "RGBA")
    return layer
