"""Captions already in a meme: OCR lines grouped into captions (top, bottom, label), and the style
of each measured (fill colour, outline width, size, font class), so that the captions can be erased
to a template and new ones drawn in the same style.

A caption is a stack of lines set in one face at one size: OCR gives one box per line, and lines
are joined when they sit one above the other (close compared with their height, overlapping or
centred horizontally) or side by side on one row (a line that OCR cut in two).

The classic meme caption is white Impact-like capitals with a black outline. Its fill is read by
two-means clustering inside the line (:func:`renderers.text.photo.text_color`); where that cluster
is the outline instead (a light photo joins the white fill in the other cluster), the fill is what
the outline encloses. The outline is counted ring by ring outside the fill.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from renderers.text.photo import bbox_of, homography, quad, rectified_size, text_color
from synth.evaluate.text import normalize_text
from synth.ocr import OcrBackend, OcrText

#: Lines of one caption: vertical gap below this share of the smaller line's height ...
LINE_GAP = 0.8
#: ... centres closer than this share of it (when they do not overlap horizontally) ...
CENTRE_GAP = 1.0
#: ... and heights within this ratio (a caption is set at one size).
MAX_HEIGHT_RATIO = 1.6
#: Two boxes on one row (overlapping vertically by half the smaller height) join when the
#: horizontal gap is below this share of the height: OCR sometimes cuts a line in two.
ROW_GAP = 1.0
#: RGB distance beyond which two colours are told apart (outline vs fill, fill vs photo).
FAR = 100.0
#: RGB distance within which pixels count as one consistent colour.
NEAR = 60.0
#: The text cluster is the outline when its border with what it encloses is at least this share
#: of its border with the outside (see :func:`_fill`).
OUTLINE_RATIO = 0.8
#: Font class "impact": glyphs at most this wide for their height (median over the glyphs) ...
IMPACT_ASPECT = 0.62
#: ... and fill covering at least this share of the line's rectified box.
IMPACT_INK = 0.22


@dataclass(frozen=True)
class FoundCaption:
    text: str  # its lines' texts joined by " " in reading order (top to bottom, left to right)
    placement: str  # "top" | "bottom" | "label"
    polygon: list[float]  # 8 floats clockwise from top-left: the axis-aligned box around its lines
    lines: tuple[OcrText, ...]
    confidence: float  # min over its lines
    color: str = ""  # "#rrggbb" fill colour (that of its tallest line)
    stroke: int = 0  # outline width in px, 0 when none
    size: float = 0.0  # mean rectified line height, px
    font_class: str = ""  # "impact" (bold condensed capitals, the classic meme face) or "other"


# ---------------------------------------------------------------------------------------------
# grouping


@dataclass(frozen=True)
class _Line:
    ocr: OcrText
    box: tuple[float, float, float, float]
    height: float


def _joined(a: _Line, b: _Line) -> bool:
    """Whether two lines belong to one caption (see the module docstring)."""
    h = min(a.height, b.height)
    if max(a.height, b.height) > MAX_HEIGHT_RATIO * h:
        return False
    v_overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])  # negative: the gap
    h_overlap = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    if v_overlap >= 0.5 * h:
        return -h_overlap < ROW_GAP * h
    centred = abs(a.box[0] + a.box[2] - b.box[0] - b.box[2]) / 2 < CENTRE_GAP * h
    return -v_overlap < LINE_GAP * h and (h_overlap > 0 or centred)


def _components(lines: list[_Line]) -> list[list[_Line]]:
    """Connected groups of :func:`_joined` lines (union-find)."""
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            if _joined(lines[i], lines[j]):
                parent[root(i)] = root(j)
    groups: dict[int, list[_Line]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(root(i), []).append(line)
    return list(groups.values())


def _reading_order(lines: list[_Line]) -> list[_Line]:
    """Rows top to bottom (a row: centres within half a line height), each left to right."""
    rows: list[list[_Line]] = []
    for line in sorted(lines, key=lambda ln: ln.box[1] + ln.box[3]):
        if rows:
            first = rows[-1][0]
            gap = abs(line.box[1] + line.box[3] - first.box[1] - first.box[3]) / 2
            if gap < 0.5 * min(line.height, first.height):
                rows[-1].append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda ln: ln.box[0])]


def group_captions(
    found: list[OcrText],
    shape: tuple[int, ...],
    *,
    min_confidence: float = 0.5,
    band: float = 1 / 3,
    min_chars: int = 2,
) -> list[FoundCaption]:
    """OCR lines grouped into captions, top to bottom. Lines below ``min_confidence`` or with no
    character are dropped, and so are captions of fewer than ``min_chars`` characters (stray
    single-glyph reads of photo texture). A caption whose box centre lies in the top ``band`` of
    the image height is "top", in the bottom ``band`` "bottom", elsewhere "label"."""
    lines = [
        _Line(f, bbox_of(f.polygon), rectified_size(quad(f.polygon))[1])
        for f in found
        if f.confidence >= min_confidence and normalize_text(f.text)
    ]
    height = shape[0]
    captions = []
    for group in _components(lines):
        ordered = _reading_order(group)
        text = " ".join(line.ocr.text.strip() for line in ordered)
        if len(normalize_text(text)) < min_chars:
            continue
        x0 = min(line.box[0] for line in ordered)
        y0 = min(line.box[1] for line in ordered)
        x1 = max(line.box[2] for line in ordered)
        y1 = max(line.box[3] for line in ordered)
        cy = (y0 + y1) / 2
        placement = "top" if cy < band * height else "bottom" if cy > (1 - band) * height else "label"
        captions.append(
            FoundCaption(
                text=text,
                placement=placement,
                polygon=[x0, y0, x1, y0, x1, y1, x0, y1],
                lines=tuple(line.ocr for line in ordered),
                confidence=min(line.ocr.confidence for line in ordered),
            )
        )
    return sorted(captions, key=lambda c: (c.polygon[1], c.polygon[0]))


# ---------------------------------------------------------------------------------------------
# style


@dataclass(frozen=True)
class LineStyle:
    """What :func:`line_style` measures of one line, in its rectified crop grown by ``margin``."""

    color: tuple[int, int, int]
    fill: np.ndarray  # bool (h + 2 margin, w + 2 margin): the fill's pixels
    stroke: int
    height: float
    margin: int


def _crop(image: np.ndarray, q: np.ndarray, margin: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(crop, valid, w, h): the quad rectified to ``w x h`` with ``margin`` pixels of the photo
    around it, pixel-aligned with :func:`text_color`'s crop; ``valid`` is False outside the photo."""
    m, w, h = homography(q)
    shift = np.array([[1, 0, margin], [0, 1, margin], [0, 0, 1]], np.float64)
    warp = shift @ np.linalg.inv(m)
    size = (w + 2 * margin, h + 2 * margin)
    crop = cv2.warpPerspective(image, warp, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ones = np.full(image.shape[:2], 255, np.uint8)
    valid = cv2.warpPerspective(ones, warp, size, flags=cv2.INTER_NEAREST) > 0
    return crop, valid, w, h


def _median(pixels: np.ndarray) -> np.ndarray:
    return np.median(pixels.reshape(-1, 3).astype(np.float32), axis=0) if pixels.size else np.zeros(3)


def _dist(pixels: np.ndarray, color: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pixels.astype(np.float32) - color, axis=-1)


def _fill(crop: np.ndarray, color, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fill colour, fill mask). ``mask`` is the text cluster; when it was the outline instead, the
    fill is what it encloses: an outline borders its fill on the inside about as much as the photo
    on the outside (border ratio >= :data:`OUTLINE_RATIO`), while plain text borders only its
    counters on the inside (ratios up to about 0.55 measured); the enclosed colour must also be
    one colour, far from the cluster's."""
    color = np.float32(color)
    free = (~mask).astype(np.uint8)
    _, labels = cv2.connectedComponents(free, connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outside = np.isin(labels, edge) & (free > 0)
    holes = (free > 0) & ~outside
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    inner_border = (cv2.dilate(holes.astype(np.uint8), kernel) > 0) & mask
    outer_border = (cv2.dilate(outside.astype(np.uint8), kernel) > 0) & mask
    if inner_border.sum() < OUTLINE_RATIO * max(1, outer_border.sum()):
        return color, mask
    inner = _median(crop[holes])
    if np.linalg.norm(inner - color) < FAR or (_dist(crop[holes], inner) < NEAR).mean() < 0.5:
        return color, mask
    return inner, holes & (_dist(crop, inner) < _dist(crop, color))


def _stroke(crop: np.ndarray, valid: np.ndarray, color: np.ndarray, fill: np.ndarray, reach: int) -> int:
    """Outline width: rings of 1 px grown out of the fill, counted while most of a ring's pixels
    are nearer the outline colour than the fill and (past the first ring, the anti-aliased edge,
    a blend of fill and outline) than the photo. The outline colour is the median of the second
    ring; 0 when it is near the fill, is not one colour, or looks like the photo beyond ``reach``
    (plain text on a flat background)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    grown = fill.astype(np.uint8)
    rings = []
    for _ in range(reach + 2):
        wider = cv2.dilate(grown, kernel)
        rings.append(crop[(wider > 0) & (grown == 0) & valid])
        grown = wider
    beyond = crop[(grown == 0) & valid]
    if len(rings[1]) == 0 or len(beyond) == 0:
        return 0
    outline, photo = _median(rings[1]), _median(beyond)
    if np.linalg.norm(outline - color) < FAR or np.linalg.norm(outline - photo) < NEAR / 2:
        return 0
    if (_dist(rings[1], outline) < NEAR).mean() < 0.5:
        return 0
    width = 0
    for k, ring in enumerate(rings[:reach]):
        d_outline = _dist(ring, outline)
        nearer = d_outline < _dist(ring, color)
        if k:  # past the edge, an outline pixel must also be nearer the outline than the photo
            nearer &= d_outline < _dist(ring, photo)
        if nearer.mean() < 0.5:
            break
        width += 1
    return width


def line_style(image: np.ndarray, line: OcrText) -> LineStyle:
    """Fill colour and pixels, outline width and rectified height of one OCR line."""
    q = quad(line.polygon)
    _, _, h = homography(q)
    margin = max(3, round(h / 3))
    crop, valid, w, h = _crop(image, q, margin)
    color, cluster = text_color(image, q)
    mask = np.zeros(crop.shape[:2], bool)
    mask[margin : margin + h, margin : margin + w] = cluster
    fill_color, fill = _fill(crop, color, mask)
    stroke = _stroke(crop, valid, fill_color, fill, reach=max(2, round(h / 4)))
    rgb = tuple(int(round(float(c))) for c in fill_color)
    return LineStyle(rgb, fill, stroke, rectified_size(q)[1], margin)


def glyph_shape(style: LineStyle) -> tuple[float, float]:
    """(ink, aspect) of a line's fill: the share of its rectified box that is fill, and the median
    width over height of its glyphs (connected components; specks under a tenth of the line
    height dropped; the median, as a patch of photo that joined the fill is one outlier)."""
    m = style.margin
    ink = float(style.fill[m:-m, m:-m].mean())
    _, _, stats, _ = cv2.connectedComponentsWithStats(style.fill.astype(np.uint8), connectivity=8)
    boxes = stats[1:]
    boxes = boxes[boxes[:, cv2.CC_STAT_HEIGHT] >= 0.1 * style.height]
    if not len(boxes):
        return ink, 0.0
    return ink, float(np.median(boxes[:, cv2.CC_STAT_WIDTH] / boxes[:, cv2.CC_STAT_HEIGHT]))


def font_class(text: str, styles: list[LineStyle]) -> str:
    """ "impact" for heavy condensed capitals: no lowercase letter, glyphs narrow (median width
    over height at most :data:`IMPACT_ASPECT`; Bebas Neue measures 0.42-0.52, Liberation Sans
    Narrow Bold 0.67-0.73, regular faces 0.75 and more) and heavy (fill covering at least
    :data:`IMPACT_INK` of the line's box; Bebas Neue Bold 0.24-0.5, its Book and Light cuts
    mostly under 0.17); "other" otherwise. Means over the caption's lines."""
    if any(c.islower() for c in text) or not styles:
        return "other"
    shapes = [glyph_shape(s) for s in styles]
    ink = float(np.mean([i for i, _ in shapes]))
    aspect = float(np.mean([a for _, a in shapes]))
    return "impact" if ink >= IMPACT_INK and 0 < aspect <= IMPACT_ASPECT else "other"


def caption_style(image: np.ndarray, caption: FoundCaption) -> FoundCaption:
    """The caption with ``color``, ``stroke``, ``size`` and ``font_class`` filled in: colour of its
    tallest line, median outline width over its lines, mean line height."""
    styles = [line_style(image, line) for line in caption.lines]
    tallest = max(styles, key=lambda s: s.height)
    return dataclasses.replace(
        caption,
        color="#{:02x}{:02x}{:02x}".format(*tallest.color),
        stroke=int(np.median([s.stroke for s in styles])),
        size=float(np.mean([s.height for s in styles])),
        font_class=font_class(caption.text, styles),
    )


def detect_captions(
    image: np.ndarray, ocr: OcrBackend, *, min_confidence: float = 0.5, band: float = 1 / 3
) -> list[FoundCaption]:
    """The captions of an RGB photo, styled: one OCR detection pass, then :func:`group_captions`
    and :func:`caption_style`."""
    found = group_captions(ocr.detect(image), image.shape, min_confidence=min_confidence, band=band)
    return [caption_style(image, c) for c in found]
