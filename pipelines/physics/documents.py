"""``synth physics --documents``: pages of physics problems -> OCR -> an LLM writes the figure as
SVG -> the SVG is sanitised and rendered safely -> the labels are read back.

The page's text and figure are untrusted, and so is the LLM's answer: the SVG goes through
:mod:`renderers.svg.safe` in a child process with a timeout, so an answer that points at
``file:///etc/passwd``, expands entities or never finishes drawing costs one row, never the run.
"""

from __future__ import annotations

import base64
import re
from typing import Any, ClassVar

import cv2
import numpy as np

from pipelines.diagram.canvas import shape_problem
from pipelines.diagram.stages import labels, output_size, to_texts
from pipelines.physics.config import PhysicsConfig
from renderers.svg.safe import SvgError, SvgRenderer, sanitize
from synth.imageio import DecodeError, decode_image, encode_png
from synth.inputs import read_unit
from synth.llm import Answer, Failure, Request
from synth.llm_stage import LlmStage
from synth.ocr import make_ocr
from synth.pipeline import RunIdentity, Unit
from synth.schema import image_value
from synth.stage import Resources, Row, Stage, mark

SYSTEM = (
    "You draw figures for physics problems as one standalone SVG document. Use only basic shapes, paths and "
    "<text> labels with the problem's symbols and values; no scripts, no external images or fonts, no links. "
    "Size 640x480. Answer with the SVG only."
)
# The SVG document in an answer, with its prolog: a DOCTYPE's entity declarations must reach the
# sanitiser (which refuses them), not be cut off and leave undefined entities behind.
_SVG = re.compile(
    r"(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)?<svg\b.*?</svg>", re.S | re.I
)
_HAN = re.compile(r"[\u4e00-\u9fff]")


#: What :func:`document_rows` gives each row.
SOURCE_KEYS = ("sample_id", "seed", "domain", "subdomain", "task", "generator", "license", "meta", "_bytes")


def document_rows(cfg: PhysicsConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    """One row per page (a PDF page or an image); its id comes from the page itself."""
    rows = []
    for raw in read_unit(unit, max_bytes=cfg.document.max_bytes):
        row: Row = {
            "sample_id": raw.sample_id,
            "seed": int(raw.sample_id[:15], 16),
            "domain": "science",
            "subdomain": "physics/document",
            "task": "t2i",
            "generator": ident.generator,
            "license": "from the input document",
            "meta": {"input": raw.root, "key": raw.key},
            "_bytes": raw.data,
        }
        if raw.error:
            mark(row, *raw.error)
        rows.append(row)
    return rows


def figure_box(page: np.ndarray, text_boxes: list[list[float]], min_share: float) -> list[int] | None:
    """The largest block of ink that is not text: [x0, y0, x1, y1], or None."""
    gray = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    ink = (gray < 200).astype(np.uint8)
    for x0, y0, x1, y1 in text_boxes:
        ink[max(0, int(y0) - 3) : int(y1) + 3, max(0, int(x0) - 3) : int(x1) + 3] = 0
    ink = cv2.dilate(ink, np.ones((15, 15), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink)
    best = None
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if w * h >= min_share * page.shape[0] * page.shape[1] and (best is None or w * h > best[2] * best[3]):
            best = (x, y, w, h)
    if best is None:
        return None
    x, y, w, h = (int(v) for v in best)
    return [x, y, x + w, y + h]


class ReadPage(Stage):
    """OCR of the page: the problem text in reading order, and the figure region."""

    name = "read_page"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("meta", "_bytes")
    writes = ("meta", "_problem", "_figure")

    def __init__(self, cfg: PhysicsConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.ocr = make_ocr(self.cfg.verify.ocr)

    def process_row(self, row: Row) -> Row:
        try:
            page = decode_image(row["_bytes"], self.cfg.document.max_pixels)
        except DecodeError as e:
            return mark(row, e.reason, str(e))
        found = sorted(
            self.ocr.detect(page), key=lambda t: (round(min(t.polygon[1::2]) / 12), min(t.polygon[0::2]))
        )
        lines = [t.text for t in found if t.text.strip()]
        if not lines:
            return mark(row, "no_text_found", "OCR found no problem text on this page")
        boxes = [
            [min(t.polygon[0::2]), min(t.polygon[1::2]), max(t.polygon[0::2]), max(t.polygon[1::2])]
            for t in found
        ]
        fig = figure_box(page, boxes, self.cfg.document.min_figure_share)
        row["_problem"] = "\n".join(lines)[: self.cfg.document.max_chars]
        row["_figure"] = None if fig is None else page[fig[1] : fig[3], fig[0] : fig[2]]
        row["meta"] = {**row["meta"], "figure_box": fig, "ocr_lines": len(lines)}
        return row


def svg_of(answer: str) -> str:
    """The SVG document in an answer (code fences and chatter around it dropped)."""
    m = _SVG.search(answer)
    if not m:
        raise ValueError("the answer holds no <svg> document")
    return m.group(0)


class WriteSvg(LlmStage, Stage):
    """Asks the LLM for the figure as SVG, the batch's rows concurrently (the figure crop goes
    along as an image when ``document.vision``); an answer without an SVG is asked again with the
    next seed, then the row is ``llm_invalid_output``; a failing server makes it ``llm_error``."""

    name = "write_svg"
    resources: ClassVar = Resources(cpus=0.5)
    reads = ("seed", "meta", "_problem", "_figure")
    writes = ("meta", "_svg")

    def __init__(self, cfg: PhysicsConfig):
        self.cfg = cfg
        self.llm_cfg = cfg.llm

    def messages(self, row: Row) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [
            {"type": "text", "text": f"Problem:\n{row['_problem']}\n\nDraw its figure as SVG."}
        ]
        if self.cfg.document.vision and row.get("_figure") is not None:
            url = "data:image/png;base64," + base64.b64encode(encode_png(row["_figure"])).decode()
            content.append({"type": "image_url", "image_url": {"url": url}})
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}]

    def process_batch(self, rows: list[Row]) -> list[Row]:
        requests = [Request(self.messages(row), seed=row["seed"] % 2**31) for row in rows]
        for row, got in zip(rows, self.client.run(requests, validate=svg_of), strict=True):
            cost = got.cost if isinstance(got, Answer) else self.client.cost(got.tokens_in, got.tokens_out)
            llm = {
                "model": self.client.model,
                "tokens_in": got.tokens_in,
                "tokens_out": got.tokens_out,
                "cost": cost,
            }
            row["meta"] = {**row["meta"], "llm": llm}
            if isinstance(got, Failure):
                mark(row, got.reason, got.detail)
            else:
                row["_svg"] = got.value
        return rows


class RenderDocumentSvg(Stage):
    """Sanitises and renders the LLM's SVG in a child process with a timeout and a pixel cap."""

    name = "render_svg"
    keeps_model = True  # the renderer's child process lives as long as the worker
    error_reason = "render_error"
    reads = ("meta", "_svg", "_problem", "_figure")
    writes = (
        "language", "instruction", "target_image", "aux_images", "width", "height", "spec", "program",
        "texts", "_image", "_labels",
    )  # fmt: skip

    def __init__(self, cfg: PhysicsConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.renderer = SvgRenderer(timeout=self.cfg.render.timeout_s)

    def process_row(self, row: Row) -> Row:
        try:
            size = output_size(row["_svg"], self.cfg.render.max_side)
            image = self.renderer.rgb(row["_svg"], *size)
            found = labels(row["_svg"], size, self.cfg.verify.max_labels)
        except SvgError as e:
            return mark(row, e.reason, str(e))
        bad = shape_problem(size, self.cfg.render.min_side, self.cfg.render.max_aspect)
        if bad:  # an LLM's figure is drawn as it came: one the trainer cannot take is not kept
            return mark(row, *bad)
        problem = row["_problem"]
        zh = bool(_HAN.search(problem))
        row.update(
            language="zh" if zh else "en",
            instruction=(
                "画出这道物理题的示意图：\n" if zh else "Draw the figure for this physics problem:\n"
            )
            + problem,
            target_image=image_value(encode_png(image)),
            aux_images=[image_value(encode_png(row["_figure"]))] if row.get("_figure") is not None else [],
            width=size[0],
            height=size[1],
            spec={"problem": problem, "source": row["meta"]["key"]},
            program={
                "lang": "svg",
                "source": sanitize(row["_svg"]).decode(),
            },  # what was drawn, scripts stripped
            texts=to_texts(found),
            _image=image,
            _labels=found,
        )
        return row
