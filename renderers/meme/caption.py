"""Meme captions drawn onto a template photo: classic (white capitals with a black outline, top and
bottom) or modern (black text in a white band above the picture, as on Twitter/Reddit).

Every line is placed at integer pixels and its ink box comes from the same font Pillow draws with,
so the recorded boxes hold all of the text and nothing outside them is touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from renderers.text.layout import NO_LINE_START, load_font, tokenize
from synth.fonts import FontFace, draws

PLACEMENTS = ("top", "bottom", "label")
STYLES = ("classic", "modern")
_HAN = re.compile("[\u4e00-\u9fff]")
_REF = "HÉg"  # tall accent and a descender: one line height for every line of a caption
_PITCH = 1.05
_BLOCK_SHARE = 0.45  # a classic top or bottom block takes at most this share of the image height
_WHITE, _BLACK = "#ffffff", "#000000"
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Caption:
    text: str  # as the plan wrote it; classic style draws it in capitals where the script has case
    placement: str  # "top" | "bottom" | "label"
    region: Box | None = None  # label only: (x0, y0, x1, y1) in template pixels

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(f"placement {self.placement!r} is not one of {PLACEMENTS}")
        if (self.placement == "label") != (self.region is not None):
            raise ValueError("a region is given for, and only for, a 'label' caption")


@dataclass(frozen=True)
class MemeFonts:
    latin: FontFace  # for captions without Han characters
    cjk: FontFace  # for captions with any Han character


@dataclass(frozen=True)
class DrawnLine:
    caption: int  # index into the captions list
    text: str  # exactly the string drawn on this line
    polygon: list[float]  # 8 floats, clockwise from top-left: the ink box incl. stroke
    bbox: list[float]  # [x0, y0, x1, y1] of the same
    font: str
    color: str
    size: int
    stroke: int


@dataclass(frozen=True)
class Meme:
    image: np.ndarray  # (H', W, 3) uint8
    lines: list[DrawnLine]
    offset: int  # y of the template's top row in `image`
    areas: list[Box]  # per caption, the union of its line boxes; (0, 0, 0, 0) when skipped


class CaptionFitError(ValueError):
    """A caption that does not fit its place within max_lines at the smallest size."""


def _tokens(text: str) -> list[str]:
    """Words, single CJK characters and spaces; closing punctuation glued to what it closes."""
    out: list[str] = []
    for tok in tokenize(text):
        if tok in NO_LINE_START and out and not out[-1].isspace():
            out[-1] += tok
        else:
            out.append(tok)
    return out


def _ink_width(font: ImageFont.FreeTypeFont, text: str) -> int:
    x0, _, x1, _ = font.getbbox(text, anchor="ls")
    return x1 - x0


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str] | None:
    """Greedy wrap by ink width: Latin between words, Han text between any two characters (ASCII
    words kept whole). None when it needs more than ``max_lines`` lines or one word is too wide."""
    lines: list[str] = []
    current = ""
    for tok in _tokens(text.strip()):
        if tok.isspace():
            current += " " if current else ""
            continue
        if _ink_width(font, tok) > width:
            return None
        candidate = current + tok
        if current and _ink_width(font, candidate) > width:
            lines.append(current.rstrip())
            candidate = tok
        current = candidate
    if current.strip():
        lines.append(current.rstrip())
    return lines if len(lines) <= max_lines else None


def _stroke(size: int, stroke_ratio: float) -> int:
    return max(1, round(size * stroke_ratio)) if stroke_ratio > 0 else 0


def _metrics(font: ImageFont.FreeTypeFont, lines: list[str], stroke: int) -> tuple[int, int, int]:
    """(top, height, pitch) of one line slot: top is the slot's top relative to the baseline."""
    boxes = [font.getbbox(s, anchor="ls", stroke_width=stroke) for s in [_REF, *lines]]
    top, bottom = min(b[1] for b in boxes), max(b[3] for b in boxes)
    return top, bottom - top, round(_PITCH * (bottom - top))


def _block_height(font: ImageFont.FreeTypeFont, lines: list[str], stroke: int) -> int:
    _, height, pitch = _metrics(font, lines, stroke)
    return (len(lines) - 1) * pitch + height


def _sizes(start: int, smallest: int) -> list[int]:
    sizes = [start] if start >= smallest else []
    while sizes and sizes[-1] > smallest:
        sizes.append(max(smallest, min(sizes[-1] - 1, int(sizes[-1] * 0.95))))
    return sizes


def fit(
    text: str,
    face: FontFace,
    width: float,
    start_size: int,
    min_size: int,
    max_lines: int,
    stroke_ratio: float,
    height: float | None = None,
) -> tuple[int, list[str]]:
    """The largest size from ``start_size`` down to ``min_size`` (about 5% a step) at which the
    wrapped block, stroke included, fits ``width`` (and ``height`` when given), with its lines."""
    for size in _sizes(start_size, min_size):
        font = load_font(face.path, face.index, size)
        stroke = _stroke(size, stroke_ratio)
        lines = wrap(text, font, width - 2 * stroke, max_lines)
        if not lines:
            continue
        widest = max(_ink_width(font, s) + 2 * stroke for s in lines)
        if widest <= width and (height is None or _block_height(font, lines, stroke) <= height):
            return size, lines
    raise CaptionFitError(
        f"caption {text[:40]!r} does not fit {width:.0f}x{height or 0:.0f} px in {max_lines} lines "
        f"at {min_size} px with {face.name}"
    )


@dataclass(frozen=True)
class _Look:
    color: str
    stroke_ratio: float
    upper: bool
    align: str  # "center" | "left"


_CLASSIC = _Look(_WHITE, 1 / 12, True, "center")
_MODERN = _Look(_BLACK, 0.0, False, "left")


@dataclass(frozen=True)
class _Block:
    face: FontFace
    size: int
    lines: list[str]
    look: _Look

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return load_font(self.face.path, self.face.index, self.size)

    @property
    def stroke(self) -> int:
        return _stroke(self.size, self.look.stroke_ratio)

    @property
    def height(self) -> int:
        return _block_height(self.font, self.lines, self.stroke)


def _fit_block(
    text: str,
    look: _Look,
    fonts: MemeFonts,
    sizes: tuple[int, int],
    max_lines: int,
    width: float,
    height: float | None,
) -> _Block:
    text = " ".join(text.split())
    text = text.upper() if look.upper else text
    face = fonts.cjk if _HAN.search(text) else fonts.latin
    if not draws(face.path, face.index, text):  # captions may come from an LLM: never draw boxes
        raise CaptionFitError(f"{face.name} cannot draw every character of {text!r}")
    size, lines = fit(text, face, width, *sizes, max_lines, look.stroke_ratio, height)
    return _Block(face, size, lines, look)


def _band_height(block: _Block) -> int:
    """A modern band: the block with a pad of 0.6 x the font size above and below."""
    return block.height + 2 * round(0.6 * block.size)


def _place(draw: ImageDraw.ImageDraw, index: int, block: _Block, box: Box, valign: str) -> list[DrawnLine]:
    """Draw the block inside ``box``: lines centred or left-aligned, the block at the box's top,
    middle or bottom (``valign``)."""
    face, size, lines, look = block.face, block.size, block.lines, block.look
    font, stroke = block.font, block.stroke
    top, _, pitch = _metrics(font, lines, stroke)
    x0, y0, x1, y1 = box
    slack = {"top": 0.0, "middle": (y1 - y0 - block.height) / 2, "bottom": y1 - y0 - block.height}[valign]
    first = int(np.floor(y0 + slack)) - top  # baseline of the first line
    drawn = []
    for i, text in enumerate(lines):
        bx0, by0, bx1, by1 = font.getbbox(text, anchor="ls", stroke_width=stroke)
        x = round(x0 - bx0) if look.align == "left" else round((x0 + x1 - bx0 - bx1) / 2)
        y = first + i * pitch
        draw.text(
            (x, y), text, font=font, fill=look.color, anchor="ls", stroke_width=stroke, stroke_fill=_BLACK
        )
        bbox = [float(x + bx0), float(y + by0), float(x + bx1), float(y + by1)]
        polygon = [bbox[0], bbox[1], bbox[2], bbox[1], bbox[2], bbox[3], bbox[0], bbox[3]]
        drawn.append(DrawnLine(index, text, polygon, bbox, face.name, look.color, size, stroke))
    return drawn


def _union(lines: list[DrawnLine]) -> Box:
    if not lines:
        return (0.0, 0.0, 0.0, 0.0)
    return (
        min(d.bbox[0] for d in lines),
        min(d.bbox[1] for d in lines),
        max(d.bbox[2] for d in lines),
        max(d.bbox[3] for d in lines),
    )


def draw_meme(
    template: np.ndarray,
    captions: list[Caption],
    style: str,
    fonts: MemeFonts,
    *,
    max_lines: int = 3,
    size_ratio: float = 1 / 9,
    min_size_ratio: float = 1 / 40,
    margin_ratio: float = 0.03,
) -> Meme:
    """Draw ``captions`` on ``template`` (H, W, 3) uint8 in ``style``; pure and deterministic.

    Raises CaptionFitError when a caption does not fit its place; blank captions are skipped.
    """
    if template.ndim != 3 or template.shape[2] != 3 or template.dtype != np.uint8:
        raise ValueError(f"template must be (H, W, 3) uint8, got {template.shape} {template.dtype}")
    if style not in STYLES:
        raise ValueError(f"style {style!r} is not one of {STYLES}")
    h, w = template.shape[:2]
    margin = max(2, round(w * margin_ratio))
    inner = w - 2 * margin
    todo = [(i, c) for i, c in enumerate(captions) if c.text.strip()]
    for place in ("top", "bottom"):
        if sum(c.placement == place for _, c in todo) > 1:
            raise ValueError(f"more than one {place!r} caption: join them into one")

    blocks: dict[int, tuple[_Block, Box, str]] = {}  # caption -> block, box to draw it in, valign
    bands: dict[str, tuple[int, _Block]] = {}  # modern: placement -> caption, block
    if style == "modern":
        sizes = (round(w / 16), max(1, round(w * min_size_ratio)))
        for i, c in todo:
            if c.placement != "label":
                bands[c.placement] = (i, _fit_block(c.text, _MODERN, fonts, sizes, max_lines, inner, None))
    offset = _band_height(bands["top"][1]) if "top" in bands else 0
    out_h = offset + h + (_band_height(bands["bottom"][1]) if "bottom" in bands else 0)
    for place, (i, block) in bands.items():
        y0, y1 = (0, offset) if place == "top" else (offset + h, out_h)
        blocks[i] = (block, (margin, y0, w - margin, y1), "middle")

    sizes = (round(h * size_ratio), max(1, round(h * min_size_ratio)))
    share = _BLOCK_SHARE * h - margin  # a top block ends above 45% of the height, a bottom one below 55%
    for i, c in todo:
        if c.placement == "label":
            # whole pixels inside the region, so centring on integer positions cannot spill out of it
            x0, y0 = (int(np.ceil(v)) for v in c.region[:2])
            x1, y1 = (int(np.floor(v)) for v in c.region[2:])
            if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
                raise CaptionFitError(f"label region {c.region} is not inside the {w}x{h} template")
            label_sizes = (min(sizes[0], y1 - y0), sizes[1])
            block = _fit_block(c.text, _CLASSIC, fonts, label_sizes, max_lines, x1 - x0, y1 - y0)
            blocks[i] = (block, (x0, y0 + offset, x1, y1 + offset), "middle")
        elif i not in blocks:
            block = _fit_block(c.text, _CLASSIC, fonts, sizes, max_lines, inner, share)
            blocks[i] = (block, (margin, margin, w - margin, h - margin), c.placement)

    canvas = Image.new("RGB", (w, out_h), _WHITE)
    canvas.paste(Image.fromarray(template), (0, offset))
    draw = ImageDraw.Draw(canvas)
    drawn: list[DrawnLine] = []
    for i, (block, box, valign) in sorted(blocks.items()):
        drawn += _place(draw, i, block, box, valign)
    areas = [_union([d for d in drawn if d.caption == i]) for i in range(len(captions))]
    return Meme(np.asarray(canvas), drawn, offset, areas)
