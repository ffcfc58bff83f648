"""Real scenes: text that is already in a photo, found by OCR, erased and re-rendered with new text in
the matched style. Pure functions for each step (choose, measure colour and size, match the font,
erase, draw through the polygon's homography), then the stage that chains them per image.

Style matching, step by step:
  * size: the polygon rectified by its homography to a ``w x h`` rectangle, ``h`` being the line
    height the new text is fitted to;
  * colour: two-means clustering of the pixels inside the polygon; the text is the cluster farther
    from the ring of background pixels around it;
  * font: faces of the right script draw the *old* text into the rectified box; the face whose
    binarised glyphs overlap the rectified original best (IoU) is used for the new text;
  * geometry: the new text is drawn upright in the rectified frame (centred on the old text, as
    wide as it needs) and warped into the photo by the same homography, so it follows the slant
    and perspective of the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
from PIL import Image, ImageDraw

from pipelines.text_edit.config import TextEditConfig
from pipelines.text_edit.ops import Edit, new_word, spans
from pipelines.text_render.texts import TextSource
from renderers.text.layout import load_font
from renderers.text.photo import bbox_of, homography, quad, rectified_size, text_color
from synth.evaluate.text import normalize_text
from synth.evaluate.text_edit import edit_mask
from synth.fonts import FontFace, FontRegistry
from synth.identity import sample_rng
from synth.imageio import DecodeError, decode, encode_png
from synth.inputs import read_unit
from synth.models.erase import eraser
from synth.ocr import OcrText, make_ocr
from synth.pipeline import RunIdentity, Unit
from synth.sampling import NotApplicable, choice
from synth.schema import image_value
from synth.stage import Resources, Row, Stage, mark

_HAN = "\u4e00-\u9fff"


#: What :func:`source_rows` gives each row.
SOURCE_KEYS = ("sample_id", "seed", "domain", "subdomain", "task", "generator", "meta", "_bytes", "_ref")


def source_rows(cfg: TextEditConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    """One row per input photo (the keys of :data:`SOURCE_KEYS`); its seed comes from its sample id
    (the same photo, the same edit)."""
    rows = []
    for raw in read_unit(unit, cfg.image_column, "caption", cfg.real.max_bytes):
        row: Row = {
            "sample_id": raw.sample_id,
            "seed": int(raw.sample_id[:15], 16),
            "domain": "text",
            "subdomain": "text_edit/real",
            "task": "edit",
            "generator": ident.generator,
            "meta": {"input": raw.root, "key": raw.key},
            "_bytes": raw.data,
            "_ref": raw.ref,
        }
        if raw.error:
            mark(row, *raw.error)
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# geometry and style


def _shape(mask: np.ndarray, size: tuple[int, int] = (192, 48)) -> np.ndarray:
    """The mask cropped to its ink and resized to ``size``: glyph shape without place or scale."""
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return np.zeros(size[::-1], bool)
    crop = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.uint8) * 255
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA) > 127


def draw_upright(text: str, face: FontFace, size: int, color, width: int, height: int) -> Image.Image:
    """``text`` drawn on a transparent ``width x height`` layer, centred."""
    font = load_font(face.path, face.index, size)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls")
    d = ImageDraw.Draw(layer)
    d.text(((width - (x1 - x0)) / 2 - x0, (height - (y1 - y0)) / 2 - y0), text, font=font,
           fill=(*color, 255), anchor="ls")  # fmt: skip
    return layer


def fit_size(text: str, face: FontFace, width: float, height: float) -> int:
    """The largest size whose ink fits ``height * 0.9`` and (when ``width``) ``width``."""
    lo, hi = 6, max(7, int(height * 1.6))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        x0, y0, x1, y1 = load_font(face.path, face.index, mid).getbbox(text, anchor="ls")
        if y1 - y0 <= height * 0.9 and (not width or x1 - x0 <= width):
            lo = mid
        else:
            hi = mid - 1
    return lo


def match_font(glyphs: np.ndarray, text: str, faces: list[FontFace]) -> tuple[FontFace, float]:
    """The face whose rendering of ``text`` overlaps the rectified glyph mask best (IoU of the two
    shapes, each cropped to its ink and scaled to one size)."""
    h, w = glyphs.shape
    target = _shape(glyphs)
    best, best_iou = faces[0], -1.0
    for face in faces:
        size = fit_size(text, face, w * 0.98, h)
        drawn = _shape(np.asarray(draw_upright(text, face, size, (0, 0, 0), w, h))[..., 3] > 127)
        union = (drawn | target).sum()
        iou = float((drawn & target).sum() / union) if union else 0.0
        if iou > best_iou:
            best, best_iou = face, iou
    return best, best_iou


def font_candidates(fonts: FontRegistry, old: str, new: str, script: str, n: int) -> list[FontFace]:
    """Up to ``n`` upright faces, spread over the families, that draw both the old and the new text
    as written: a caps-only face may match a sign in capitals, but never redraws it in lowercase."""
    usable = [f for f in fonts.for_text(old + new, script) if not f.italic]
    step = max(1, len(usable) // n)
    return usable[::step][:n]


def place_text(image, q, text, face, color, size: int) -> tuple[np.ndarray, list[float]]:
    """Draw ``text`` at ``size`` into the photo through the quad's homography, centred where the old
    text was and as wide as it needs; returns the new image and the new text's polygon."""
    m, w, h = homography(q)
    x0, _, x1, _ = load_font(face.path, face.index, size).getbbox(text, anchor="ls")
    new_w = int(np.ceil(x1 - x0)) + 4
    off = (w - new_w) / 2
    shift = np.array([[1, 0, off], [0, 1, 0], [0, 0, 1]], np.float64)
    layer = np.asarray(draw_upright(text, face, size, color, new_w, h))
    H, W = image.shape[:2]
    warped = cv2.warpPerspective(layer, m @ shift, (W, H), flags=cv2.INTER_LINEAR)
    alpha = warped[..., 3:4].astype(np.float32) / 255
    out = (image.astype(np.float32) * (1 - alpha) + warped[..., :3].astype(np.float32) * alpha).round()
    corners = np.float32([[0, 0], [new_w, 0], [new_w, h], [0, h]])[None]
    poly = cv2.perspectiveTransform(corners, m @ shift)[0]
    return out.astype(np.uint8), [float(v) for v in poly.reshape(-1)]


# ---------------------------------------------------------------------------------------------
# choosing what to edit


@dataclass(frozen=True)
class Choice:
    found: OcrText | None
    reason: str | None = None
    detail: str = ""


def choose_instance(found: list[OcrText], shape, cfg, rng: np.random.Generator) -> Choice:
    """A legible, large enough instance away from the border that overlaps no other; otherwise the
    reason why none qualifies (the first filter that emptied the list)."""
    if not found:
        return Choice(None, "no_text_found", "OCR found no text")
    h, w = shape[:2]
    legible = [f for f in found if f.confidence >= cfg.min_confidence and len(normalize_text(f.text)) >= 2]
    if not legible:
        return Choice(
            None,
            "no_text_found",
            f"{len(found)} text(s) found, none legible (confidence >= {cfg.min_confidence})",
        )
    large = [f for f in legible if rectified_size(quad(f.polygon))[1] >= cfg.min_height]
    if not large:
        return Choice(None, "text_too_small", f"no legible text at least {cfg.min_height} px high")
    b = cfg.border
    inside = [
        f
        for f in large
        if (lambda x: x[0] >= b and x[1] >= b and x[2] <= w - b and x[3] <= h - b)(bbox_of(f.polygon))
    ]
    if not inside:
        return Choice(None, "text_at_border", f"every usable text lies within {b} px of the border")
    boxes = [bbox_of(f.polygon) for f in found]

    def alone(f) -> bool:
        a = bbox_of(f.polygon)
        return all(o == a or o[2] <= a[0] or a[2] <= o[0] or o[3] <= a[1] or a[3] <= o[1] for o in boxes)

    free = [f for f in inside if alone(f)]
    if not free:
        return Choice(None, "no_text_found", "every usable text overlaps another")
    return Choice(free[int(rng.integers(len(free)))])


def real_edit(rng, op: str, old: str, texts: TextSource) -> tuple[str, dict[str, Any]]:
    """The new text and the instruction slots for an edit of ``old`` (a whole OCR instance)."""
    zh = any("\u4e00" <= c <= "\u9fff" for c in old)
    if op == "delete":
        return "", {"old": old, "new": ""}
    if op == "case":
        if zh or not any(c.isalpha() for c in old):
            raise NotApplicable("case needs Latin letters")
        new = old.lower() if old.isupper() else old.upper()
        return new, {"old": old, "new": new, "ref_en": f'"{old}"', "ref_zh": f"“{old}”", "quote": old,
                     "case_en": "lowercase" if old.isupper() else "uppercase",
                     "case_zh": "全部小写" if old.isupper() else "全部大写"}  # fmt: skip
    word_spans = spans(old, zh)
    if word_spans and len(word_spans) > 1:  # one word of a longer instance
        s, e = word_spans[int(rng.integers(len(word_spans)))]
        new_part = new_word(rng, texts, old[s:e], zh, avoid=old)
        return old[:s] + new_part + old[e:], {"old": old[s:e], "new": new_part}
    new = new_word(rng, texts, old if len(old) < 12 else old[:8], zh, avoid=old)
    return new, {"old": old, "new": new}


class RealEdit(Stage):
    """Decode a photo, find its text, pick one instance, erase it and draw the edit in its style."""

    name = "real"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("seed", "meta", "_bytes", "_ref")
    writes = (
        "subdomain", "language", "source_image", "target_image", "aux_images", "width", "height",
        "texts", "spec", "scores", "license", "meta",
        "_source", "_target", "_mask", "_edit", "_old_lines", "_new_lines",
    )  # fmt: skip

    def __init__(self, cfg: TextEditConfig):
        self.cfg = cfg

    def setup(self) -> None:
        s = self.cfg.sources
        self.fonts = self.cfg.fonts.registry()
        self.fonts.require("latin")
        self.ocr = make_ocr(self.cfg.verify.ocr)
        self.texts = TextSource(s.corpus, s.corpus_share)
        r = self.cfg.real
        self.erase, self.erase_info = eraser(
            r.inpaint, r.inpaint_weights, r.inpaint_device, r.inpaint_radius, "real"
        )

    def process_row(self, row: Row) -> Row:
        r = self.cfg.real
        try:
            img = decode(row["_bytes"], r.max_pixels)
        except DecodeError as e:
            return mark(row, e.reason, str(e))
        image = img.pixels
        scale = min(1.0, r.max_side / max(image.shape[:2]))
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rng = sample_rng(row["seed"])
        found = self.ocr.detect(image)  # an OCR failure raises: the row becomes ocr_error
        chosen = choose_instance(found, image.shape, r, rng)
        if chosen.found is None:
            return mark(row, chosen.reason, chosen.detail)
        inst = chosen.found
        q = quad(inst.polygon)
        op = choice(rng, r.ops)
        try:
            new_text, slots = real_edit(rng, op, inst.text, self.texts)
        except NotApplicable:
            op = "replace"
            new_text, slots = real_edit(rng, op, inst.text, self.texts)
        color, glyphs = text_color(image, q)
        script = "han" if any("\u4e00" <= c <= "\u9fff" for c in inst.text + new_text) else "latin"
        faces = font_candidates(self.fonts, inst.text, new_text, script, r.font_candidates)
        if not faces:
            return mark(row, "render_error", f"no installed font draws {inst.text + new_text!r} as written")
        face, iou = match_font(glyphs, inst.text, faces)
        _, h = rectified_size(q)
        pad = max(2, int(h * r.erase_pad))
        erase_mask = edit_mask(image.shape[:2], [q.reshape(-1).tolist()], None, pad)
        target = self.erase(image, erase_mask)
        new_poly = q.reshape(-1).tolist()
        if new_text:
            size = fit_size(inst.text, face, rectified_size(q)[0] * 0.98, h)  # the old text's size
            for _ in range(4):  # a longer text that would leave the photo is drawn smaller
                drawn, new_poly = place_text(target, q, new_text, face, color, size)
                x0, y0, x1, y1 = bbox_of(new_poly)
                if x0 >= 0 and y0 >= 0 and x1 <= image.shape[1] and y1 <= image.shape[0]:
                    break
                size = int(size * 0.85)
            else:
                return mark(row, "text_at_border", f"{new_text!r} would not fit inside the photo")
            target = drawn
        changed = np.any(target != image, axis=-1).astype(np.uint8) * 255
        mask = edit_mask(
            image.shape[:2], [q.reshape(-1).tolist(), new_poly], changed, self.cfg.edit.mask_dilate
        )
        source_line = {"text": inst.text, "role": "source", "polygon": [float(v) for v in q.reshape(-1)],
                       "bbox": list(bbox_of(q.reshape(-1).tolist())), "font": None, "color": None,
                       "language": "zh" if script == "han" else "en"}  # fmt: skip
        new_line = {**source_line, "text": new_text, "role": "target", "polygon": new_poly,
                    "bbox": list(bbox_of(new_poly)), "font": face.name, "color": "#{:02x}{:02x}{:02x}".format(*color)}  # fmt: skip
        others = [{"text": f.text, "role": "other", "polygon": [float(v) for v in f.polygon],
                   "bbox": list(bbox_of(f.polygon)), "font": None, "color": None, "language": None}
                  for f in found if f is not inst]  # fmt: skip
        edit = Edit(op, {}, [0], [0] if new_text else [], slots, removal=op != "case",
                    case_sensitive=op == "case")  # fmt: skip
        row.update(
            subdomain=f"text_edit/{op}",
            language=source_line["language"],
            source_image=image_value(encode_png(image), row["_ref"]),
            target_image=image_value(encode_png(target)),
            aux_images=[image_value(encode_png(mask))],
            width=image.shape[1],
            height=image.shape[0],
            texts=others + [source_line] + ([new_line] if new_text else []),
            spec={"scene": "real", "source": {"input": row["meta"]["input"], "key": row["meta"]["key"],
                                              "scale": round(scale, 6)},
                  "edit": {"op": op, "slots": slots, "instance": {"text": inst.text, "polygon": source_line["polygon"],
                                                                  "confidence": round(inst.confidence, 4)}},
                  "style": {"color": new_line["color"], "font": face.name, "font_iou": round(iou, 4),
                            "erase": {**self.erase_info, "pad": pad}}},
            scores={"font_iou": round(iou, 4), "ocr_confidence": round(inst.confidence, 4)},
            license=None,
            meta={**row["meta"], "edit_type": op, "old_text": slots.get("old"), "new_text": slots.get("new"),
                  "scene": "real"},
            _source=image,
            _target=target,
            _mask=mask,
            _edit=edit,
            _old_lines=[source_line],
            _new_lines=[new_line] if new_text else [],
        )  # fmt: skip
        return row
