"""The template stages: find the captions of a meme (or caption a photo with a bundled plan) and
erase them, checking the erasure."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

import cv2
import numpy as np

from pipelines.meme import plan as plans
from pipelines.meme.common import Drawer, Group, Memo, downscale, drawn_captions
from pipelines.meme.config import MemeConfig
from pipelines.meme.detect import FoundCaption, detect_captions
from pipelines.meme.regions import regions
from pipelines.meme.remove import check_removal, remove_captions
from renderers.text.photo import bbox_of
from synth.evaluate.text import crop_box, ned, normalize_text
from synth.identity import sample_rng
from synth.imageio import DecodeError, decode
from synth.models.erase import eraser
from synth.ocr import make_ocr
from synth.sampling import choice
from synth.schema import meta_of
from synth.sources import PhotoPool
from synth.stage import Resources, Row, Stage, mark


class Detect(Stage):
    """Decode the template's picture (or caption a photo with a bundled plan) and find its captions."""

    name = "detect"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("_group", "_group_seed", "_kind", "_input")
    writes = ("_g",)

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.ocr = make_ocr(self.cfg.verify.ocr)
        self.memo = Memo()
        s = self.cfg.sources
        if not self.cfg.inputs:  # --num: photos captioned with bundled plans, so the faces too
            self.photos = PhotoPool(s.images, s.image_column, s.caption_column)
            self.drawer = Drawer(self.cfg)

    def process_row(self, row: Row) -> Row:
        g = row["_g"] = self.memo.get(row["_group"], lambda: self.group(row))
        if "reject" in g:
            return mark(row, *g["reject"])
        if row["_kind"] == "replace" and not g["found"]:
            return mark(
                row, "no_text_found", "the input has no caption to replace (its add and t2i rows go on)"
            )
        return row

    def group(self, row: Row) -> Group:
        d = self.cfg.detect
        src = row["_input"]
        g: Group = {"clean": None, "description": {}, "truth": None, "source": {}}
        try:
            if src["kind"] == "photo":
                image = self._photo_meme(row, g)
            elif src["kind"] == "template":
                stored = src["row"]
                image = decode(stored["source_image"]["bytes"], d.max_pixels).pixels
                g["clean"] = decode(stored["target_image"]["bytes"], d.max_pixels).pixels
                g["description"] = meta_of(stored).get("description") or {}
                g["source"] = {"template": stored["sample_id"]}
            else:
                image, scale = downscale(decode(src["bytes"], d.max_pixels).pixels, d.max_side)
                g["description"] = {"en": src["caption"]} if src.get("caption") else {}
                g["source"] = {"ref": src["ref"], "scale": round(scale, 6)}
        except DecodeError as e:
            return {"reject": (e.reason, str(e))}
        if min(image.shape[:2]) < d.min_side:
            return {"reject": ("too_small", f"{image.shape[1]}x{image.shape[0]} is under {d.min_side} px")}
        g["image"] = image
        found = detect_captions(image, self.ocr, min_confidence=d.min_confidence, band=d.band)
        if g["truth"]:
            g["found"] = known_texts(found, g["truth"])
            g["quotable"] = [c.text in g["truth"] for c in g["found"]]
        else:
            g["found"] = found
            g["quotable"] = [self.confirmed(image, c) for c in found]
        return g

    def confirmed(self, image: np.ndarray, caption: FoundCaption, min_confidence: float = 0.9) -> bool:
        """Whether a caption's read is safe to quote in an instruction: every line read with
        confidence and read the same again from its box at 1.5x scale (a misread such as
        "THIS ISFÍNE" rarely repeats itself)."""
        if caption.confidence < min_confidence:
            return False
        crops = [cv2.resize(crop_box(image, list(bbox_of(line.polygon)), 0.3), None, fx=1.5, fy=1.5,
                            interpolation=cv2.INTER_CUBIC) for line in caption.lines]  # fmt: skip
        again = self.ocr.recognize(crops)
        return all(
            normalize_text(read) == normalize_text(line.text)
            for (read, _), line in zip(again, caption.lines, strict=True)
        )

    def _photo_meme(self, row: Row, g: Group) -> np.ndarray:
        """``--num``: a pool photo captioned with a bundled plan in the classic style; the photo is the
        known clean template and the plan's captions the known truth detection is scored against."""
        rng = sample_rng(row["_group_seed"])
        photo = self.photos.load(self.photos[int(rng.integers(len(self.photos)))])
        clean, _ = downscale(photo.pixels, self.cfg.detect.max_side)
        plan = plans.bundled_plan(rng, list(plans.EDGES))
        language = choice(rng, self.cfg.joke.languages)
        meme = self.drawer.draw(clean, plan, language, "classic", {})
        g.update(clean=clean, description={"en": photo.caption_en, "zh": photo.caption_zh}, source={"photo": photo.ref, "digest": photo.digest},
                 truth=[c["text"] for c in drawn_captions(meme, plan)])  # fmt: skip
        return meme.image


class Remove(Stage):
    """Erase every detected caption and check the erasure: OCR finds no text there afterwards, and
    nothing outside the masks changed. Then name the template's regions for the plan."""

    name = "remove"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("_group", "_g")
    writes = ("_g", "scores")

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg

    def setup(self) -> None:
        r = self.cfg.remove
        self.ocr = make_ocr(self.cfg.verify.ocr)
        self.memo = Memo()
        self.erase, self.erase_info = eraser(
            r.inpaint, r.inpaint_weights, r.inpaint_device, r.inpaint_radius, "remove"
        )

    def process_row(self, row: Row) -> Row:
        g = row["_g"] = self.memo.get(row["_group"], lambda: self.group(row["_g"]))
        scores = dict(row.get("scores") or {})
        if g["found"] and g["clean"] is None:  # the erased picture is the template: its check decides
            scores["removal_clean"] = round(sum(g["check"].clean) / len(g["check"].clean), 4)
            scores["removal_outside_changed"] = round(g["check"].outside_changed, 6)
        if g["truth"] is not None:
            scores["detect_recall"] = round(_recall(g["truth"], g["found"]), 4)
        row["scores"] = scores
        return row

    def group(self, g: Group) -> Group:
        image, found = g["image"], g["found"]
        erased, mask = remove_captions(image, found, self.erase, self.cfg.remove.pad)
        check = check_removal(
            erased, image, mask, found, self.ocr, min_confidence=self.cfg.detect.min_confidence
        )
        template = g["clean"] if g["clean"] is not None else erased
        labels = [bbox_of(c.polygon) for c in found if c.placement == "label"]
        named = regions(template, labels, self.cfg.detect.band)
        removal = {**self.erase_info, "clean": list(check.clean), "residue": list(check.residue)}
        return {**g, "mask": mask, "check": check, "template": template, "regions": named, "erase": removal}


def known_texts(
    found: list[FoundCaption], truth: list[str] | None, max_ned: float = 0.25
) -> list[FoundCaption]:
    """Found captions with the known text where the template's captions are known (photo
    templates) and OCR read one closely: OCR drops the narrow spaces of condensed faces
    ("MEPRETENDINGTOWORK"), and instructions should quote the caption as written."""
    if not truth:
        return found
    out = []
    for c in found:
        best = min(truth, key=lambda t: ned(t, c.text))
        out.append(replace(c, text=best) if ned(best, c.text) <= max_ned else c)
    return out


def _recall(truth: list[str], found: list[FoundCaption], max_ned: float = 0.25) -> float:
    """Share of the known captions that detection read (NED at most ``max_ned`` against one found)."""
    if not truth:
        return 1.0
    return sum(any(ned(t, f.text) <= max_ned for f in found) for t in truth) / len(truth)
