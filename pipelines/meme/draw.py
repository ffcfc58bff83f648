"""Draw a plan's captions on its template, and verify the drawing by OCR and against the plan."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from pipelines.meme.common import Drawer, Group, Memo
from pipelines.meme.config import MemeConfig
from pipelines.meme.regions import contains, overlap
from renderers.meme import CaptionFitError, Meme
from synth.evaluate.text import crop_box, ned
from synth.ocr import make_ocr, recognize_crops
from synth.stage import Resources, Row, Stage, mark


def row_style(row: Row) -> str:
    """The style a row is drawn in: a replace row keeps the input's frame, so always classic."""
    return "classic" if row["_kind"] == "replace" else row["_p"]["style"]


class Render(Stage):
    """Draw the plan's captions on the template, once per (plan, style)."""

    name = "render"
    error_reason = "render_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("_g", "_p", "_kind")
    writes = ("_meme", "_fonts")

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.drawer = Drawer(self.cfg)
        self.memo = Memo()

    def process_row(self, row: Row) -> Row:
        p, style = row["_p"], row_style(row)
        meme = self.memo.get((p["key"], style), lambda: self._draw(row["_g"], p, style))
        if isinstance(meme, str):
            return mark(row, "render_error", meme)
        row["_meme"] = meme
        row["_fonts"] = self.drawer.digests(meme)
        return row

    def _draw(self, g: Group, p: dict, style: str) -> Meme | str:
        try:
            return self.drawer.draw(g["template"], p["plan"], p["language"], style, g["regions"])
        except CaptionFitError as e:
            return f"a caption cannot be drawn: {e}"


class Verify(Stage):
    """Read every drawn line back by OCR at its box, and check the drawing against the plan: lines
    inside the image, captions where the plan placed them, regions it keeps clear left clear."""

    name = "verify"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("_g", "_p", "_meme", "scores")
    writes = ("scores", "meta")

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.ocr = make_ocr(self.cfg.verify.ocr)

    def process_batch(self, rows: list[Row]) -> list[Row]:
        memes = {id(r["_meme"]): r["_meme"] for r in rows}
        got = recognize_crops(
            self.ocr,
            (((k, i), crop_box(m.image, ln.bbox)) for k, m in memes.items() for i, ln in enumerate(m.lines)),
        )
        for row in rows:
            meme = row["_meme"]
            reads = [got[(id(meme), i)][0][0] for i in range(len(meme.lines))]
            dists = [ned(ln.text, read) for ln, read in zip(meme.lines, reads, strict=True)]
            worst = int(np.argmax(dists)) if dists else 0
            scores = dict(row.get("scores") or {})
            scores.update(placement_check(meme, row["_p"]["plan"], row["_g"]))
            scores["caption_ned_max"] = round(max(dists, default=0.0), 4)
            row["scores"] = scores
            if dists:
                row["meta"] = {
                    **row["meta"],
                    "ocr_worst": {"text": meme.lines[worst].text, "read": reads[worst]},
                }
        return rows


def placement_check(meme: Meme, plan: dict, g: Group) -> dict[str, float]:
    """Scores of the drawing against the plan: ``caption_inside`` (every line inside the image,
    clear of a 1-pixel border), ``placement_ok`` (top captions in the upper half, bottom ones in
    the lower, labels inside their region), ``subject_overlap`` (largest share of a kept-clear
    region that a caption covers)."""
    H, W = meme.image.shape[:2]
    h = g["template"].shape[0]
    inside = all(
        b[0] >= 1 and b[1] >= 1 and b[2] <= W - 1 and b[3] <= H - 1 for b in (ln.bbox for ln in meme.lines)
    )
    ok, covered = True, 0.0
    for i, c in enumerate(plan["captions"]):
        area = meme.areas[i]
        if area == (0, 0, 0, 0):
            continue
        cy = (area[1] + area[3]) / 2 - meme.offset
        if c["placement"] == "top":
            ok &= cy < h / 2
        elif c["placement"] == "bottom":
            ok &= cy > h / 2
        else:
            r = g["regions"][c["region"]]
            ok &= contains((r[0], r[1] + meme.offset, r[2], r[3] + meme.offset), area)
        for name in plan["keep_clear"]:
            r = g["regions"][name]
            covered = max(covered, overlap(area, (r[0], r[1] + meme.offset, r[2], r[3] + meme.offset)))
    return {"caption_inside": float(inside), "placement_ok": float(ok), "subject_overlap": round(covered, 4)}
