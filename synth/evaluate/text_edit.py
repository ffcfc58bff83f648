"""Text-editing metrics: the per-row checks of ``synth text-edit`` and the scores of
``synth eval text-edit``, in one module so that the generator and the evaluator cannot drift apart.

Two families:

* **Checks at known places** (the verifier, and the evaluator on our exports, where polygons are
  known): read the target image where the new text must be (correctness), where the old text was
  (removal), and compare the pixels outside the edit mask (preservation).
* **TextEdit's classic metrics** (open-compass/TextEdit, ``eval_pipeline/classic_metrics_eval.py``),
  re-implemented from their published definitions: full OCR of the original and of the prediction,
  the source line found in the original, OA (target accuracy in the edit region), OP/OR/F1 (a
  soft match of target plus background lines, weighted half and half) and ROI-NED (a similarity,
  higher is better, despite the name). Their OCR is PaddleOCR; ours is a parameter (rapidocr's
  PP-OCR ONNX models by default, the same model family). Beside them, on our exports, the placed
  OA (:func:`placed`): the same full OCR, read where the export says the text went, for the
  edits that move text away from where OA looks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field
from rapidfuzz import fuzz

from synth.config import Strict
from synth.evaluate.locality import PSNR_CAP, edit_mask, psnr_outside
from synth.evaluate.text import crop_box, edit_distance, ned, normalize_text

__all__ = ["PSNR_CAP", "edit_mask", "psnr_outside"]  # re-exported: the text-edit checks use them

# ---------------------------------------------------------------------------------------------
# Checks at known places


class Thresholds(Strict):
    """The cuts of the three checks: ``thresholds`` of ``synth text-edit`` (decision keys, not in
    the content hash), and what :func:`judge` applies."""

    max_ned: float = Field(
        0.2, ge=0, le=1, description="correctness: worst new line's normalised edit distance"
    )
    removal: float = Field(
        0.5, ge=0, le=2, description="removal: the read must move this share of the way from old to new text"
    )
    min_psnr: float = Field(40.0, ge=0, le=100, description="preservation: dB outside the edit mask")


def polygon_crop(image: np.ndarray, polygon: list[float], pad: float = 0.2) -> np.ndarray:
    """:func:`crop_box` of the polygon's bounding box; a blank 8x8 patch where nothing is left."""
    xs, ys = polygon[0::2], polygon[1::2]
    crop = crop_box(image, [min(xs), min(ys), max(xs), max(ys)], pad)
    return crop if crop.size else np.zeros((8, 8, 3), np.uint8)


def correctness(expected: list[str], reads: list[str], casefold: bool = True) -> float:
    """Worst normalised edit distance of the new lines as read (0 is perfect); ``casefold=False``
    where the edit is the case itself."""
    return max((ned(e, r, casefold=casefold) for e, r in zip(expected, reads, strict=True)), default=0.0)


def removal(old: str, expected: str, read: str) -> float:
    """How far ``read`` moved from containing the old text, as a share of how far the edit had to
    move it: the distance of ``old`` to its best-matching stretch of the read over that of the
    expected text (empty for a deletion). 1 is full removal, 0 the old text still there."""
    needed = partial_distance(old, expected)
    return partial_distance(old, read) / needed if needed else 1.0


def partial_distance(needle: str, text: str) -> float:
    """1 - similarity of ``needle`` to its best-aligned stretch of ``text`` (normalised texts); where
    ``text`` is the shorter, the plain normalised edit distance."""
    a, b = normalize_text(needle), normalize_text(text)
    if not a:
        return 0.0
    if not b:
        return 1.0
    if len(b) < len(a):  # a short stray read must not count as containing the old text
        return edit_distance(a, b) / len(a)
    return 1 - fuzz.partial_ratio(a, b) / 100


def judge(scores: dict[str, float], t: Thresholds) -> str | None:
    """The first failed check, as the row's detail; None when all pass."""
    if scores.get("correctness_ned", 0.0) > t.max_ned:
        return f"correctness: new text read with NED {scores['correctness_ned']:.2f} > {t.max_ned}"
    if scores.get("removal", 1.0) < t.removal:
        return f"removal: the old text is still read there (removal {scores['removal']:.2f} < {t.removal})"
    if scores.get("preservation_psnr", PSNR_CAP) < t.min_psnr:
        return f"preservation: {scores['preservation_psnr']:.1f} dB outside the edit mask < {t.min_psnr}"
    return None


# ---------------------------------------------------------------------------------------------
# TextEdit's classic metrics


@dataclass(frozen=True)
class Item:
    text: str
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1


def items_from_ocr(found) -> list[Item]:
    """``synth.ocr.OcrText`` list -> axis-aligned items (TextEdit drops the confidence too)."""
    out = []
    for t in found:
        xs, ys = t.polygon[0::2], t.polygon[1::2]
        out.append(Item(t.text, (min(xs), min(ys), max(xs), max(ys))))
    return out


def norm(text: str) -> str:
    """TextEdit's normalisation: NFKC, lower case, letters and digits only (CJK kept)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if c.isalnum())


def similarity(a: str, b: str) -> float:
    """1 - Levenshtein / max length; 1.0 for two empty strings (their ``get_ld``)."""
    return 1 - edit_distance(a, b) / (max(len(a), len(b)) + 1e-5)


def _center(b) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def _union(boxes) -> tuple[float, float, float, float]:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def group_into_lines(items: list[Item], y_threshold: float = 10.0) -> list[list[Item]]:
    """Items sorted by vertical centre; a new line starts where the centre jumps by ``y_threshold``
    pixels or more from the previous item; each line sorted left to right."""
    lines: list[list[Item]] = []
    prev_y = None
    for it in sorted(items, key=lambda i: _center(i.bbox)[1]):
        y = _center(it.bbox)[1]
        if prev_y is None or abs(y - prev_y) >= y_threshold:
            lines.append([])
        lines[-1].append(it)
        prev_y = y
    return [sorted(line, key=lambda i: i.bbox[0]) for line in lines]


def _line_text(line: list[Item]) -> str:
    return norm("".join(i.text for i in line))


RESIZED = 1.45  # area ratio of a line redrawn at least about 20% larger or smaller
ZERO = {"oa": 0.0, "op": 0.0, "or": 0.0, "f1": 0.0, "ned": 0.0}


def classic_metrics(
    original: list[Item], generated: list[Item], source_text: str, target_text: str
) -> dict[str, float]:
    """OA, OP, OR, F1 and ROI-NED of one sample, by TextEdit's definitions (all in [0, 1], higher
    is better; every metric is 0 when the source line cannot be found or nothing is read)."""
    src, tgt = norm(source_text), norm(target_text)
    if not original or not generated:
        return dict(ZERO)
    lines = group_into_lines(original)
    best, best_sim = -1, -1.0
    for k, line in enumerate(lines):
        text = _line_text(line)
        sim = 1.0 if src in text else similarity(src, text)
        if sim > best_sim:
            best, best_sim = k, sim
    if best_sim < 0.5:
        return dict(ZERO)
    region = _union([i.bbox for i in lines[best]])
    inside = [g for g in generated if in_region(g.bbox, region)]
    outside = [g for g in generated if g not in inside]

    oa = max(
        [similarity(tgt, norm(g.text)) for g in inside]
        + [similarity(tgt, _line_text(line)) for line in group_into_lines(inside)],
        default=0.0,
    )
    everything = norm("".join(g.text for g in generated))
    if src in everything and tgt not in everything:
        oa *= 0.2

    raw_bg = group_into_lines([i for k, line in enumerate(lines) if k != best for i in line])
    gen_bg = group_into_lines(outside)
    used, bg_sims = set(), []
    for line in raw_bg:
        text = _line_text(line)
        pick, pick_sim = None, 0.0
        for k, cand in enumerate(gen_bg):
            if k not in used:
                s = similarity(text, _line_text(cand))
                if s > pick_sim:
                    pick, pick_sim = k, s
        if pick is not None:
            used.add(pick)
        bg_sims.append(pick_sim)
    unit = 0.5 / len(raw_bg) if raw_bg else 0.0
    tp = 0.5 * oa + sum(bg_sims) * unit
    recall = tp / (0.5 + len(raw_bg) * unit)
    precision = tp / (0.5 + len(gen_bg) * unit)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"oa": oa, "op": precision, "or": recall, "f1": f1, "ned": roi_ned(original, generated, src, tgt)}


def _in_box(point, box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def in_region(box, region) -> bool:
    """TextEdit's test of a read belonging to the edit region: IoU above 0.5 or its centre inside."""
    return _iou(box, region) > 0.5 or _in_box(_center(box), region)


def roi_ned(original: list[Item], generated: list[Item], src: str, tgt: str) -> float:
    """Similarity of the target text to what is read over the source item's box (normalised texts)."""
    scored = [(similarity(src, norm(i.text)), i) for i in original]
    if not scored:
        return 0.0
    sim, source_item = max(scored, key=lambda x: x[0])
    if sim <= 0.6:
        return 0.0
    roi = sorted((g for g in generated if _iou(g.bbox, source_item.bbox) > 0.3), key=lambda g: g.bbox[0])
    if not roi:
        return 0.0
    read = norm("".join(g.text for g in roi))
    score = similarity(tgt, read)
    if similarity(src, read) > 0.9 and similarity(src, tgt) < 0.5:
        score *= 0.2
    return score


def placed(
    original: list[Item],
    generated: list[Item],
    source_boxes: list[tuple[float, float, float, float]],
    target_boxes: list[tuple[float, float, float, float]],
    source_text: str,
    target_text: str,
) -> float:
    """OA at the places the edit knows, for edits that move text (move, size, delete, reflow),
    where TextEdit's OA, which looks for the target in the old line's box, cannot fit.

    The product of two parts in [0, 1]: the target read at its new place (the best similarity of
    ``target_text`` to a read, a line or all lines there; 1 for a deletion), and the old text gone
    from where it was (1 minus its similarity to what is read at the old place and not at the
    new). Where the same text is redrawn at another size (line boxes :data:`RESIZED` times apart
    in area), the read must also have its new size: the original's read of the line, mapped as
    the drawn box was (so the detector's margin around ink cancels), must overlap the read at
    least as well as the unmapped one does, else the edit counts as undone (x 0.2, OA's factor).
    The boxes are the drawn lines' (our exports' ``source_lines`` and ``target_lines``)."""
    src, tgt = norm(source_text), norm(target_text)
    old = _union(source_boxes) if source_boxes else None
    new = _union(target_boxes) if target_boxes else None
    at_new = [g for g in generated if new and in_region(g.bbox, new)]
    at_old = [g for g in generated if old and g not in at_new and in_region(g.bbox, old)]
    read = _best_read(tgt, at_new) if tgt else 1.0
    was = [i for i in original if old and in_region(i.bbox, old)]
    if at_new and was and source_text == target_text and _resized(old, new):
        box, before = _union([g.bbox for g in at_new]), _union([i.bbox for i in was])
        if _iou(box, before) > _iou(box, _mapped(before, old, new)):
            read *= 0.2
    gone = 1.0 - _best_read(src, at_old) if src and at_old else 1.0
    return read * gone


def _area(b) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _resized(old, new) -> bool:
    a, b = _area(old), _area(new)
    return min(a, b) > 0 and max(a, b) / min(a, b) >= RESIZED


def _mapped(box, old, new) -> tuple[float, float, float, float]:
    """``box`` under the axis-wise scale and shift that takes ``old`` to ``new``."""
    sx, sy = (new[2] - new[0]) / (old[2] - old[0]), (new[3] - new[1]) / (old[3] - old[1])
    return (new[0] + (box[0] - old[0]) * sx, new[1] + (box[1] - old[1]) * sy,
            new[0] + (box[2] - old[0]) * sx, new[1] + (box[3] - old[1]) * sy)  # fmt: skip


def _best_read(text: str, items: list[Item]) -> float:
    """Best similarity of a normalised text to one read, one line, or all lines top to bottom."""
    if not items:
        return 0.0
    lines = group_into_lines(items)
    joined = "".join(_line_text(line) for line in lines)
    return max(
        [similarity(text, norm(i.text)) for i in items]
        + [similarity(text, _line_text(line)) for line in lines]
        + [similarity(text, joined)]
    )


def summarize(
    per_sample: list[dict[str, Any]], keys: tuple[str, ...], by: str
) -> dict[str, dict[str, float]]:
    """Mean of ``keys`` over all samples and per value of ``by`` (the samples' group field)."""
    groups: dict[str, list[dict]] = {"all": per_sample}
    for s in per_sample:
        groups.setdefault(str(s[by]), []).append(s)
    out = {}
    for name, rows in groups.items():
        out[name] = {"samples": len(rows)}
        for k in keys:
            vals = [r[k] for r in rows if r.get(k) is not None]
            if vals:
                out[name][k] = round(float(np.mean(vals)), 4)
    return out
