"""What the two diagram domains (``physics``, ``cs-diagram``) share: rasterising a drawing's SVG,
the edit mask from the boxes of the elements that changed, and the verify and decide stages.

A drawing is anything with ``svg()`` and ``elements()`` (element id -> what draws it). An edit
pair's changed elements are the ids whose entries differ; each is drawn alone (the rest of the SVG
pruned, :func:`renderers.svg.safe.isolate`) in both images, and the mask is the union of their
painted boxes. The verifier then checks, independently of how the pair was made, that no pixel
outside the mask changed, that the labels read back by OCR, and the domain's structural check.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from renderers.svg.safe import SvgRenderer, alpha_box, intrinsic_size, isolate, parse
from renderers.svg.text import text_boxes
from synth.evaluate.locality import PSNR_CAP, changed_outside, psnr_outside
from synth.evaluate.text import crop_box, ned
from synth.ocr import OcrConfig, make_ocr
from synth.stage import Resources, Row, Stage, mark


def output_size(svg: str, max_side: int, min_side: int = 0) -> tuple[int, int]:
    """Pixel size for an SVG: its CSS size scaled so the longer side is ``max_side``."""
    w, h = intrinsic_size(parse(svg))
    scale = max_side / max(w, h)
    return max(min_side, round(w * scale)), max(min_side, round(h * scale))


def changed_boxes(
    renderer: SvgRenderer, svgs: list[str], ids: set[str], size: tuple[int, int]
) -> list[list[float]]:
    """Painted boxes of each changed element in each image (an element absent from one image
    paints nothing there)."""
    boxes = []
    for svg in svgs:
        for eid in sorted(ids):
            box = alpha_box(renderer.rgba(isolate(svg, {eid}), *size))
            if box is not None:
                boxes.append(box)
    return boxes


def labels(svg: str, size: tuple[int, int], limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` text labels of a drawing with their pixel boxes, evenly spread over the
    document order (the same ones every run)."""
    found = [t for t in text_boxes(svg, *size) if t["text"].strip()]
    if len(found) > limit:
        idx = np.linspace(0, len(found) - 1, limit).round().astype(int)
        found = [found[i] for i in sorted(set(idx.tolist()))]
    return found


def to_texts(found: list[dict[str, Any]], role: str = "label") -> list[dict[str, Any]]:
    """``texts`` column entries of labels."""
    out = []
    for t in found:
        x0, y0, x1, y1 = t["bbox"]
        out.append(
            {
                "text": t["text"],
                "role": role,
                "bbox": [x0, y0, x1, y1],
                "polygon": [x0, y0, x1, y0, x1, y1, x0, y1],
                "font": "DejaVu Sans",
                "color": None,
                "language": "zh" if any(ord(c) > 0x2E80 for c in t["text"]) else "en",
            }
        )
    return out


class VerifyDiagram(Stage):
    """Reads the labels back (recognition at known boxes, batched across rows) and measures edit
    locality: pixels changed outside the mask, PSNR outside it."""

    name = "verify"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("_image", "_labels", "_source", "_mask")
    writes = ("scores",)

    def __init__(self, ocr: OcrConfig):
        self.ocr_cfg = ocr

    def setup(self) -> None:
        self.ocr = make_ocr(self.ocr_cfg)

    def process_batch(self, rows: list[Row]) -> list[Row]:
        crops, owners = [], []
        for r, row in enumerate(rows):
            for t in row["_labels"]:
                crops.append(crop_box(row["_image"], t["bbox"], pad=0.15))
                owners.append((r, t["text"]))
        reads = self.ocr.recognize(crops) if crops else []
        per_row: dict[int, list[tuple[float, str, str]]] = {}
        for (r, expected), (read, _) in zip(owners, reads, strict=True):
            per_row.setdefault(r, []).append((ned(expected, read), expected, read))
        for r, row in enumerate(rows):
            scores = dict(row.get("scores") or {})
            results = per_row.get(r, [])
            if results:
                scores["label_ned_mean"] = round(float(np.mean([x[0] for x in results])), 4)
                scores["label_ned_max"] = round(max(x[0] for x in results), 4)
                row["_worst_label"] = max(results, key=lambda x: x[0])
            if row.get("_source") is not None:
                scores["changed_outside_mask"] = float(
                    changed_outside(row["_source"], row["_image"], row["_mask"])
                )
                scores["preservation_psnr"] = round(
                    psnr_outside(row["_source"], row["_image"], row["_mask"]), 3
                )
            row["scores"] = scores
        return rows


class DecideDiagram(Stage):
    """Applies the thresholds: structure first (a wrong edit is wrong however it reads), then
    locality, then the labels."""

    name = "decide"
    reads = ("scores", "_structure_problem")

    def __init__(self, max_label_ned: float, max_changed_outside: int):
        self.max_label_ned = max_label_ned
        self.max_changed_outside = max_changed_outside

    def process_row(self, row: Row) -> Row:
        s = row.get("scores") or {}
        if row.get("_structure_problem"):
            return mark(row, "verify_failed", f"structure: {row['_structure_problem']}")
        outside = s.get("changed_outside_mask", 0)
        if outside < 0 or outside > self.max_changed_outside:
            return mark(row, "verify_failed", f"locality: {outside:.0f} pixels changed outside the edit mask")
        if s.get("label_ned_mean", 0) > self.max_label_ned:
            _, expected, read = row["_worst_label"]
            return mark(
                row,
                "ocr_mismatch",
                f"labels: mean NED {s['label_ned_mean']:.2f} > {self.max_label_ned}; worst {expected!r} read as {read!r}",
            )
        return row


__all__ = ["PSNR_CAP", "DecideDiagram", "VerifyDiagram", "changed_boxes", "labels", "output_size", "to_texts"]
