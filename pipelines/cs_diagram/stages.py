"""The stages of ``synth cs-diagram``: draw a structure (and its edit) from the row's seed, then
verify (shared with ``synth physics``) and decide."""

from __future__ import annotations

from typing import Any

from pipelines.cs_diagram.config import CsDiagramConfig
from pipelines.cs_diagram.kinds import KINDS, NotApplicable, Text2
from pipelines.diagram import DecideDiagram, VerifyDiagram, changed_boxes, labels, output_size, to_texts
from pipelines.text_render.sampler import choice
from renderers.diagrams.graph import DotError, OutOfFrame, changed
from renderers.svg.safe import SvgError, SvgRenderer
from synth.evaluate.locality import boxes_mask
from synth.identity import sample_rng
from synth.imageio import encode_png
from synth.schema import image_value
from synth.stage import Row, Stage, mark


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
    writes = (
        "source_image",
        "target_image",
        "aux_images",
        "instruction",
        "instructions",
        "response",
        "spec",
        "program",
        "texts",
    )

    def __init__(self, cfg: CsDiagramConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.renderer = SvgRenderer()  # our own programs: no child process needed

    def _draw(self, rng, kind, task: str, op: str | None):
        """(source, target, edit, drawings, svgs); a structure that cannot take the edit or does
        not fit its frame is drawn again."""
        for _ in range(self.cfg.render.attempts):
            s = kind.sample(rng)
            try:
                if task != "edit":
                    t, edit, drawings = None, None, kind.draw([s])
                else:
                    edit = kind.propose(rng, op, s)
                    t = kind.apply(s, edit)
                    drawings = kind.draw([s, t])
                return s, t, edit, drawings, [d.svg(self.cfg.render.timeout_s) for d in drawings]
            except (NotApplicable, OutOfFrame):
                continue
        raise NotApplicable(f"no structure out of {self.cfg.render.attempts} could take '{op or task}'")

    def process_row(self, row: Row) -> Row:
        cfg = self.cfg
        rng = sample_rng(row["seed"])
        kind = KINDS[cfg.kinds[int(rng.integers(len(cfg.kinds)))]]
        task = choice(rng, cfg.tasks)
        op = kind.edits[int(rng.integers(len(kind.edits)))] if task == "edit" else None
        try:
            s, t, edit, drawings, svgs = self._draw(rng, kind, task, op)
            size = output_size(svgs[0], cfg.render.max_side)
            images = [self.renderer.rgb(svg, *size) for svg in svgs]
        except NotApplicable as e:
            return mark(row, "render_error", str(e))
        except (DotError, SvgError) as e:
            return mark(row, e.reason, str(e))
        image = images[-1]
        found = labels(svgs[-1], size, cfg.verify.max_labels)
        lang, source = drawings[-1].program()
        row.update(
            domain="science",
            subdomain=f"cs/{kind.name}",
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
                source_image=image_value(encode_png(image)),
                spec={"kind": kind.name, "structure": s, "answer": q.answer},
            )
            row["target_image"] = None
        else:
            ids = changed(drawings[0].elements(), drawings[1].elements())
            scope = kind.scope(s, t, edit)
            problem = kind.check(s, t, edit)
            if problem is None and not ids:
                problem = "the edit changed nothing in the drawing"
            if problem is None and scope is not None and not ids <= scope:
                problem = f"elements outside the edit's scope changed: {sorted(ids - scope)[:6]}"
            boxes = changed_boxes(self.renderer, svgs, ids, size)
            mask = boxes_mask(image.shape[:2], boxes, cfg.render.mask_dilate)
            text = kind.instruct(edit)
            meta.update(op=edit["op"], changed=sorted(ids))
            row.update(
                subdomain=f"cs/{kind.name}/{edit['op']}",
                instruction=text.en,
                instructions=variants(text, "concise"),
                source_image=image_value(encode_png(images[0])),
                target_image=image_value(encode_png(image)),
                aux_images=[image_value(encode_png(mask))],
                spec={"kind": kind.name, "source": s, "target": t, "edit": edit},
                _source=images[0],
                _mask=mask,
                _structure_problem=problem,
            )
            row["scores"] = {"changed_elements": float(len(ids))}
        row["meta"] = meta
        return row


def build_stages(cfg: CsDiagramConfig) -> list[Stage]:
    return [
        DrawDiagram(cfg),
        VerifyDiagram(cfg.verify.ocr),
        DecideDiagram(cfg.thresholds.max_label_ned, cfg.thresholds.max_changed_outside),
    ]
