"""The stages of ``synth text-edit``: draw a source/target pair, write its instructions, verify the
edit by OCR and pixels, decide (from the stored scores: ``--rethreshold`` re-decides). The checks
themselves live in ``synth.evaluate.text_edit``, shared with ``synth eval text-edit``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from pipelines.text_edit.config import TextEditConfig
from pipelines.text_edit.instructions import instructions
from pipelines.text_edit.ops import OPERATIONS, PREPARE, Context, Edit, pin
from pipelines.text_render.sampler import sample_spec
from pipelines.text_render.texts import TextSource
from renderers.text.render import PLAN_VERSION, Rendered, RenderError, block_layer, render
from synth.decision import Decide, Decision, Verdict
from synth.evaluate.text_edit import (
    Thresholds,
    correctness,
    edit_mask,
    judge,
    polygon_crop,
    psnr_outside,
    removal,
)
from synth.fonts import face_digest
from synth.identity import sample_rng
from synth.imageio import DecodeError, encode_png
from synth.ocr import make_ocr, recognize_crops
from synth.sampling import NotApplicable, choice
from synth.schema import image_value, to_json
from synth.sources import PhotoPool
from synth.stage import Resources, Row, Stage, mark

PROGRAM = "text-edit/1"


def lines_of(rendered: Rendered, block: int) -> list[dict[str, Any]]:
    """The ``texts`` entries (one per drawn line) of one block."""
    start = sum(len(b["lines"]) for b in rendered.plan["blocks"][:block])
    return rendered.texts[start : start + len(rendered.plan["blocks"][block]["lines"])]


def untouched(edit: Edit, n_source: int) -> list[tuple[int, int]]:
    """(source index, target index) of the blocks the edit leaves alone."""
    pairs, t = [], 0
    for s in range(n_source):
        if s in edit.changed and not edit.target_changed:
            continue  # deleted
        if s not in edit.changed:
            pairs.append((s, t))
        t += 1
    return pairs


def draw_edit(rng: np.random.Generator, op: str, spec: dict, photo, ctx: Context):
    """Source rendering, the edit, and target rendering of one scene (raises NotApplicable or
    RenderError when this scene cannot take the operation)."""
    hint = None
    if op in PREPARE:
        spec, hint = PREPARE[op](rng, spec, ctx)
    source = render(spec, photo)
    pinned = pin(spec, source)
    edit = OPERATIONS[op](rng, pinned, source, ctx, hint)
    target = render(edit.target, photo)
    kept = untouched(edit, len(pinned["blocks"]))
    for s, t in kept:
        if source.plan["blocks"][s] != target.plan["blocks"][t]:
            raise RenderError(f"block {s} would change although the edit does not touch it")
    w, h = target.plan["width"], target.plan["height"]
    for i in edit.target_changed:  # the edited text stays on the canvas and clear of the others
        x0, y0, x1, y1 = target.block_boxes[i]
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            raise RenderError(f"the edited block {i} would leave the canvas")
        for _, t in kept:
            o = target.block_boxes[t]
            if not (x1 + 4 <= o[0] or o[2] + 4 <= x0 or y1 + 4 <= o[1] or o[3] + 4 <= y0):
                raise RenderError(f"the edited block {i} would overlap block {t}")
    return pinned, source, edit, target


def changed_alpha(source: Rendered, target: Rendered, edit: Edit) -> np.ndarray:
    """Where the edited blocks are drawn, before or after: the union of their layers' alpha."""
    size = (source.plan["width"], source.plan["height"])
    alpha = np.zeros((size[1], size[0]), np.uint8)
    for rendered, blocks in ((source, edit.changed), (target, edit.target_changed)):
        for i in blocks:
            alpha = np.maximum(alpha, np.asarray(block_layer(rendered.plan["blocks"][i], size))[..., 3])
    return alpha


def scene_config(cfg: TextEditConfig, op: str) -> TextEditConfig:
    """The scene distribution an operation can work on: a reflow needs a paragraph (layouts with a
    body block, no photo scenes); a case change needs Latin text (no all-Chinese scenes); an instance
    edit needs two blocks of one language (no mixed scenes)."""
    r = cfg.render
    if op == "reflow":
        layouts = {k: v for k, v in r.layouts.items() if k in ("poster", "paragraph", "columns")} or {
            "paragraph": 1
        }
        backgrounds = {k: v for k, v in r.backgrounds.items() if k != "photo"} or {"solid": 1.0}
        r = r.model_copy(update={"layouts": layouts, "backgrounds": backgrounds})
    elif op == "case":
        r = r.model_copy(
            update={"languages": {k: v for k, v in r.languages.items() if k != "zh"} or {"en": 1.0}}
        )
    elif op == "instance":
        r = r.model_copy(
            update={"languages": {k: v for k, v in r.languages.items() if k != "mixed"} or {"en": 1.0}}
        )
    return cfg.model_copy(update={"render": r})


class DrawEdit(Stage):
    """Draws each row's scene from its own seed, applies the row's edit operation and renders both
    sides; every block the edit does not touch is drawn identically."""

    name = "draw"
    error_reason = "render_error"
    reads = ("seed",)
    writes = (
        "domain", "subdomain", "task", "language", "source_image", "target_image", "aux_images",
        "width", "height", "texts", "spec", "program", "scores", "license", "meta",
        "_source", "_target", "_mask", "_edit", "_old_lines", "_new_lines", "_fonts",
    )  # fmt: skip

    def __init__(self, cfg: TextEditConfig):
        self.cfg = cfg

    def setup(self) -> None:
        s = self.cfg.sources
        self.fonts = self.cfg.fonts.registry()
        self.fonts.require("latin")
        self.fonts.require("han")  # translation edits draw both scripts
        self.photos = (
            PhotoPool(s.images, s.image_column, s.caption_column)
            if self.cfg.render.backgrounds.get("photo")
            else None
        )
        self.ctx = Context(self.fonts, TextSource(s.corpus, s.corpus_share), self.cfg.render.min_contrast)
        self.scene_cfg = {op: scene_config(self.cfg, op) for op in OPERATIONS}

    def process_row(self, row: Row) -> Row:
        rng = sample_rng(row["seed"])
        op = choice(rng, self.cfg.edit.ops)
        last: Exception | None = None
        for attempt in range(1, self.cfg.edit.attempts + 1):  # noqa: B007 - scenes that cannot take the edit are redrawn
            spec = sample_spec(rng, self.scene_cfg[op], self.fonts, self.ctx.texts, self.photos or [])
            photo = None
            if spec["background"]["kind"] == "photo":
                try:
                    picked = self.photos.load(spec["background"]["ref"])
                except DecodeError as e:
                    return mark(row, e.reason, str(e))
                spec["background"]["digest"] = picked.digest
                photo = picked.pixels
            try:
                pinned, source, edit, target = draw_edit(rng, op, spec, photo, self.ctx)
                break
            except (NotApplicable, RenderError) as e:
                last = e
        else:
            row.update(domain="text", subdomain=f"text_edit/{op}", task="edit")
            return mark(
                row, "render_error", f"{op}: {self.cfg.edit.attempts} scenes could not take it; last: {last}"
            )

        mask = edit_mask(
            source.image.shape[:2], [], changed_alpha(source, target, edit), self.cfg.edit.mask_dilate
        )
        old_lines = [t for i in edit.changed for t in lines_of(source, i)]
        new_lines = [t for i in edit.target_changed for t in lines_of(target, i)]
        kept = [t for s, ti in untouched(edit, len(pinned["blocks"])) for t in lines_of(target, ti)]
        slots = edit.slots
        row.update(
            domain="text",
            subdomain=f"text_edit/{op}",
            task="edit",
            language=pinned["language"],
            source_image=image_value(encode_png(source.image)),
            target_image=image_value(encode_png(target.image)),
            aux_images=[image_value(encode_png(mask))],
            width=pinned["width"],
            height=pinned["height"],
            texts=kept + [{**t, "role": "source"} for t in old_lines] + [{**t, "role": "target"} for t in new_lines],
            spec={"source": pinned, "target": edit.target,
                  "edit": {"op": op, "blocks": edit.changed, "target_blocks": edit.target_changed, "slots": slots}},
            program={"lang": PROGRAM, "source": to_json({"version": PLAN_VERSION, "source": source.plan,
                                                         "target": target.plan})},
            scores={"contrast_min": round(min(source.min_contrast, target.min_contrast), 4)},
            license="generated; photos: " + pinned["background"].get("ref", "none"),
            meta={"edit_type": op, "old_text": slots.get("old") or slots.get("quote"), "new_text": slots.get("new"),
                  "attempts": attempt},
            _source=source.image,
            _target=target.image,
            _mask=mask,
            _edit=edit,
            _old_lines=old_lines,
            _new_lines=new_lines,
            _fonts={b["font"]["name"]: face_digest(b["font"]["path"])
                    for b in pinned["blocks"] + edit.target["blocks"]},
        )  # fmt: skip
        return row


class WriteInstructions(Stage):
    """Templated instructions from the edit's slots (English and Chinese variants); a stage of its
    own so that an LLM rewriting stage can follow or replace it."""

    name = "instructions"
    reads = ("spec", "seed", "language")
    writes = ("instruction", "instructions")

    def process_row(self, row: Row) -> Row:
        edit = row["spec"]["edit"]
        rng = sample_rng(row["seed"] + 1)
        primary = "zh" if row["language"] == "zh" else "en"
        row["instruction"], row["instructions"] = instructions(edit["op"], edit["slots"], primary, rng)
        return row


class VerifyEdit(Stage):
    """Reads the target where the new text is and where the old text was (recognition of known
    crops, batched across rows) and compares the pixels outside the edit mask."""

    name = "verify"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("scores", "meta", "_source", "_target", "_mask", "_edit", "_old_lines", "_new_lines")
    writes = ("scores", "meta")

    def __init__(self, cfg: TextEditConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.ocr = make_ocr(self.cfg.verify.ocr)

    def process_batch(self, rows: list[Row]) -> list[Row]:
        def crops():
            for r, row in enumerate(rows):
                for t in row["_new_lines"]:
                    yield (r, "new"), polygon_crop(row["_target"], t["polygon"])
                if row["_edit"].removal:
                    for t in row["_old_lines"]:
                        yield (r, "old"), polygon_crop(row["_target"], t["polygon"])

        got = {key: [text for text, _ in reads] for key, reads in recognize_crops(self.ocr, crops()).items()}
        for r, row in enumerate(rows):
            edit: Edit = row["_edit"]
            expected = [t["text"] for t in row["_new_lines"]]
            scores = dict(row.get("scores") or {})
            scores["correctness_ned"] = round(
                correctness(expected, got.get((r, "new"), []), not edit.case_sensitive), 4
            )
            if edit.removal:
                # the old text must be gone from its place, and (unless the edit moved it away)
                # from the edited lines too; a moved or deleted block leaves nothing there
                old = edit.slots.get("old") or " ".join(t["text"] for t in row["_old_lines"])
                away = edit.op == "move" or not edit.target_changed
                there = "" if away else " ".join(expected)
                read = got.get((r, "old"), []) + ([] if away else got.get((r, "new"), []))
                scores["removal"] = round(removal(old, there, " ".join(read)), 4)
            scores["preservation_psnr"] = round(psnr_outside(row["_source"], row["_target"], row["_mask"]), 3)
            row["scores"] = scores
            row["meta"] = {
                **row["meta"],
                "read_new": got.get((r, "new"), []),
                "read_old": got.get((r, "old"), []),
            }
        return rows


def decide(scores: dict[str, float], row: Row, t: Thresholds) -> Verdict:
    """``verify_failed`` naming the first check that fails (correctness, removal, preservation)."""
    failed = judge(scores, t)
    return ("verify_failed", failed) if failed else None


DECISION = Decision(decide, frozenset({"verify_failed"}))


def build_stages(cfg: TextEditConfig) -> list[Stage]:
    """Virtual scenes are drawn; with ``inputs``, real photos are edited instead."""
    from pipelines.text_edit.real import RealEdit

    first = RealEdit(cfg) if cfg.inputs else DrawEdit(cfg)
    return [first, WriteInstructions(), VerifyEdit(cfg), Decide(DECISION, cfg.thresholds)]
