"""The diagram stages: draw a figure (and its edit, with the mask) from the row's seed, verify it,
decide (from what the row stores: ``--rethreshold`` re-decides). Shared by ``synth physics`` and
``synth cs-diagram``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from pipelines.diagram.canvas import prepare, shape_problem
from pipelines.diagram.config import DiagramConfig, Thresholds
from pipelines.diagram.kind import Kind, Text2
from renderers.diagrams.graph import DotError, OutOfFrame, changed
from renderers.svg.clearance import crowded_texts
from renderers.svg.safe import SvgError, SvgRenderer, alpha_box, intrinsic_size, isolate, parse
from renderers.svg.text import text_boxes
from synth.decision import Decide, Decision, Verdict
from synth.evaluate.locality import boxes_mask, changed_outside, psnr_outside
from synth.evaluate.text import crop_box, ned
from synth.identity import sample_rng
from synth.imageio import encode_png
from synth.ocr import OcrConfig, make_ocr, recognize_crops
from synth.sampling import NotApplicable, choice
from synth.schema import image_value, meta_of
from synth.stage import Resources, Row, Stage, mark


def output_size(svg: str, max_side: int) -> tuple[int, int]:
    """Pixel size for an SVG: its CSS size scaled so the longer side is ``max_side``."""
    w, h = intrinsic_size(parse(svg))
    scale = max_side / max(w, h)
    return round(w * scale), round(h * scale)


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
    document order (the same ones every run); a label cut by the canvas edge is not read."""
    w, h = size
    found = [
        t
        for t in text_boxes(svg, *size)
        if t["text"].strip()
        and t["bbox"][0] >= 0
        and t["bbox"][1] >= 0
        and t["bbox"][2] <= w
        and t["bbox"][3] <= h
    ]
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


#: Glyphs a recogniser cannot tell apart in a short label out of context (the point O and zero).
CONFUSABLE = str.maketrans({"0": "O", "o": "O"})


def fold(label: str) -> str:
    """A label as compared: confusable glyphs as one, so a correct 'O' read as '0' still matches."""
    return label.translate(CONFUSABLE)


class VerifyDiagram(Stage):
    """Reads the labels back (recognition at known boxes, batched across rows) and measures edit
    locality: pixels changed outside the mask, PSNR outside it (edit rows: ``_source`` and
    ``_mask`` are there)."""

    name = "verify"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("meta", "_image", "_labels")
    writes = ("scores", "meta")

    def __init__(self, ocr: OcrConfig):
        self.ocr_cfg = ocr

    def setup(self) -> None:
        self.ocr = make_ocr(self.ocr_cfg)

    def process_batch(self, rows: list[Row]) -> list[Row]:
        got = recognize_crops(
            self.ocr,
            (
                (r, crop_box(row["_image"], t["bbox"], pad=0.15))
                for r, row in enumerate(rows)
                for t in row["_labels"]
            ),
        )
        for r, row in enumerate(rows):
            scores = dict(row.get("scores") or {})
            expected = [t["text"] for t in row["_labels"]]
            results = [
                (ned(fold(e), fold(read)), e, read)
                for e, (read, _) in zip(expected, got.get(r, []), strict=True)
            ]
            if results:
                scores["label_ned_mean"] = round(float(np.mean([x[0] for x in results])), 4)
                scores["label_ned_max"] = round(max(x[0] for x in results), 4)
                _, text, read = max(results, key=lambda x: x[0])
                # what the decision names when the labels fail, stored so it can decide again
                row["meta"] = {**(row.get("meta") or {}), "label_worst": {"text": text, "read": read}}
            if row.get("_source") is not None:
                scores["changed_outside_mask"] = float(
                    changed_outside(row["_source"], row["_image"], row["_mask"])
                )
                scores["preservation_psnr"] = round(
                    psnr_outside(row["_source"], row["_image"], row["_mask"]), 3
                )
            row["scores"] = scores
        return rows


def decide(s: dict[str, float], row: Row, t: Thresholds) -> Verdict:
    """Structure first (a wrong edit is wrong however it reads, and no threshold changes that),
    then locality, then the labels."""
    meta = meta_of(row)
    if meta.get("structure_problem"):
        return "verify_failed", f"structure: {meta['structure_problem']}"
    outside = s.get("changed_outside_mask", 0)
    if outside < 0 or outside > t.max_changed_outside:
        return "verify_failed", f"locality: {outside:.0f} pixels changed outside the edit mask"
    if s.get("label_ned_mean", 0) > t.max_label_ned:
        worst = meta["label_worst"]
        return (
            "ocr_mismatch",
            f"labels: mean NED {s['label_ned_mean']:.2f} > {t.max_label_ned}; "
            f"worst {worst['text']!r} read as {worst['read']!r}",
        )
    return None


DECISION = Decision(decide, frozenset({"verify_failed", "ocr_mismatch"}), reads=("meta",))


def variants(text: Text2, style: str) -> list[dict[str, str]]:
    return [
        {"style": style, "language": "en", "text": text.en},
        {"style": style, "language": "zh", "text": text.zh},
    ]


class DrawDiagram(Stage):
    """Draws the row's structure; for an edit row also the edited structure with the same layout,
    checks the edit against its instruction, and builds the edit mask."""

    name = "draw"
    error_reason = "render_error"
    reads = ("seed",)
    writes = (
        "domain", "subdomain", "task", "language", "width", "height", "source_image", "target_image",
        "aux_images", "instruction", "instructions", "response", "cot", "spec", "program", "texts", "scores",
        "license", "meta", "_image", "_labels", "_source", "_mask",
    )  # fmt: skip

    def __init__(self, cfg: DiagramConfig, kinds: dict[str, Kind], prefix: str, domain: str = "science"):
        self.cfg = cfg
        self.kinds = kinds
        self.prefix = prefix  # subdomain prefix: "cs", "physics", "geometry"
        self.domain = domain

    def setup(self) -> None:
        self.renderer = SvgRenderer()  # our own programs: no child process needed

    def _draw(self, rng: np.random.Generator, kind: Kind, task: str, op: str | None):
        """(source, target, edit, drawings, svgs, size, images); a structure that cannot take the
        edit, does not fit its frame, or has a label that is not clear of the rest is drawn
        again."""
        render = self.cfg.render
        why = ""
        for _ in range(render.attempts):
            try:
                s = kind.sample_for(rng, op)
                if task != "edit":
                    t, edit, drawings = None, None, kind.draw([s])
                else:
                    edit = kind.propose(rng, op, s)
                    t = kind.apply(s, edit)
                    drawings = kind.draw([s, t])
                drawings = prepare(drawings, render.aspect_cap)
                svgs = [d.svg(render.timeout_s) for d in drawings]
            except (NotApplicable, OutOfFrame) as e:
                why = str(e)
                continue
            size = output_size(svgs[0], render.max_side)
            crowded = [c for svg in svgs for c in crowded_texts(self.renderer, svg, size)]
            if crowded:
                why = "labels not clear of other elements: " + ", ".join(
                    f"{t!r} ({n} px)" for t, n in crowded[:4]
                )
                continue
            images = [self.renderer.rgb(svg, *size) for svg in svgs]
            return s, t, edit, drawings, svgs, size, images
        raise NotApplicable(f"no structure out of {render.attempts} could take '{op or task}': {why}")

    def process_row(self, row: Row) -> Row:
        """Which kind, task and edit come from the row's seed; then :meth:`fill` draws it."""
        rng = sample_rng(row["seed"])
        names = self.cfg.kind_names
        kind = self.kinds[names[int(rng.integers(len(names)))]]
        task = choice(rng, self.cfg.tasks)
        if task == "edit" and not kind.edits:  # a kind no edit applies to (a sphere): another draws it
            able = [n for n in names if self.kinds[n].edits]
            if not able:
                return mark(
                    row, "render_error", "no kind in the config takes an edit: add one, or drop the edit task"
                )
            kind = self.kinds[able[int(rng.integers(len(able)))]]
        op = kind.edits[int(rng.integers(len(kind.edits)))] if task == "edit" else None
        return self.fill(row, rng, kind, task, op)

    def fill(self, row: Row, rng: np.random.Generator, kind: Kind, task: str, op: str | None) -> Row:
        cfg = self.cfg
        try:
            s, t, edit, drawings, svgs, size, images = self._draw(rng, kind, task, op)
        except NotApplicable as e:
            return mark(row, "render_error", str(e))
        except (DotError, SvgError) as e:
            return mark(row, e.reason, str(e))
        bad = shape_problem(size, cfg.render.min_side, cfg.render.max_aspect)
        if bad:
            return mark(row, *bad)
        image = images[-1]
        found = labels(svgs[-1], size, cfg.verify.max_labels)
        lang, source = drawings[-1].program()
        row.update(
            domain=self.domain,
            subdomain=f"{self.prefix}/{kind.subdomain}",
            task=task,
            language="en",
            width=size[0],
            height=size[1],
            texts=to_texts(found),
            program={"lang": lang, "source": source},
            license="generated",
            _image=image,
            _labels=found,
        )
        meta: dict[str, Any] = {"kind": kind.name}
        problem = kind.verify([s] if t is None else [s, t], drawings)
        if task == "t2i":
            text = kind.describe(s)
            row.update(
                instruction=text.en,
                instructions=variants(text, "dense"),
                target_image=image_value(encode_png(image)),
                spec={"kind": kind.name, "structure": s},
            )
        elif task == "und":
            q = kind.ask(rng, s)
            row.update(
                instruction=q.text.en,
                instructions=variants(q.text, "question"),
                response=q.answer,
                cot=q.cot,
                source_image=image_value(encode_png(image)),
                spec={"kind": kind.name, "structure": s, "answer": q.answer},
            )
            row["target_image"] = None
        else:
            ids = changed(drawings[0].elements(), drawings[1].elements())
            scope = kind.scope(s, t, edit)
            problem = problem or kind.check(s, t, edit)
            if problem is None and not ids:
                problem = "the edit changed nothing in the drawing"
            if problem is None and scope is not None and not ids <= scope:
                problem = f"elements outside the edit's scope changed: {sorted(ids - scope)[:6]}"
            if all(hasattr(d, "boxes_of") for d in drawings):  # a drawing that knows its geometry
                boxes = [b for d in drawings for b in d.boxes_of(ids)]
            else:
                boxes = changed_boxes(self.renderer, svgs, ids, size)
            mask = boxes_mask(image.shape[:2], boxes, cfg.render.mask_dilate)
            text = kind.instruct(edit)
            meta.update(op=edit["op"], changed=sorted(ids))
            row.update(
                subdomain=f"{self.prefix}/{kind.subdomain}/{edit['op']}",
                instruction=text.en,
                instructions=variants(text, "concise"),
                source_image=image_value(encode_png(images[0])),
                target_image=image_value(encode_png(image)),
                aux_images=[image_value(encode_png(mask))],
                spec={"kind": kind.name, "source": s, "target": t, "edit": edit},
                _source=images[0],
                _mask=mask,
            )
            row["scores"] = {"changed_elements": float(len(ids))}
        measures = getattr(drawings[-1], "measures", None)  # what a kind's verify measured
        if measures:
            row["scores"] = {**(row.get("scores") or {}), **measures}
        record = getattr(drawings[-1], "record", None)  # what a drawing adds to the spec (cameras)
        if record:
            row["spec"] = {**row["spec"], **record}
        if problem:  # rejected by the decision, whatever the thresholds
            meta["structure_problem"] = problem
        row["meta"] = meta
        return row


def build_stages(
    cfg: DiagramConfig,
    kinds: dict[str, Kind],
    prefix: str,
    domain: str = "science",
    decision: Decision = DECISION,
) -> list[Stage]:
    return [
        DrawDiagram(cfg, kinds, prefix, domain),
        VerifyDiagram(cfg.verify.ocr),
        Decide(decision, cfg.thresholds),
    ]
