"""The stages of ``synth text-render``: draw, verify by OCR, decide (from the stored scores, so
``--rethreshold`` re-decides without drawing or reading again)."""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from pipelines.text_render.config import TextRenderConfig, Thresholds
from pipelines.text_render.prompts import prompts
from pipelines.text_render.sampler import sample_spec
from pipelines.text_render.texts import TextSource
from renderers.text.render import PLAN_VERSION, RenderError, render
from synth.decision import Decide, Decision, Verdict
from synth.evaluate.text import crop_box, ned
from synth.fonts import face_digest
from synth.identity import sample_rng
from synth.imageio import DecodeError, encode_png
from synth.ocr import make_ocr, recognize_crops
from synth.schema import image_value, meta_of, to_json
from synth.sources import PhotoPool
from synth.stage import Resources, Row, Stage, mark

MAX_ATTEMPTS = 3


class RenderText(Stage):
    """Draws each row's scene from its own seed and fills the sample columns."""

    name = "render"
    error_reason = "render_error"
    reads = ("seed",)
    writes = (
        "domain", "subdomain", "task", "language", "instruction", "instructions", "target_image",
        "width", "height", "texts", "spec", "program", "scores", "license", "meta", "_image", "_fonts",
    )  # fmt: skip

    def __init__(self, cfg: TextRenderConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.fonts = self.cfg.fonts.registry()
        self.fonts.require("latin")
        if self.cfg.render.languages.get("zh", 0) + self.cfg.render.languages.get("mixed", 0) > 0:
            self.fonts.require("han")
        s = self.cfg.sources
        self.photos = (
            PhotoPool(s.images, s.image_column, s.caption_column)
            if self.cfg.render.backgrounds.get("photo")
            else None
        )
        self.texts = TextSource(s.corpus, s.corpus_share)

    def process_row(self, row: Row) -> Row:
        rng = sample_rng(row["seed"])
        error = None
        for attempt in range(1, MAX_ATTEMPTS + 1):  # noqa: B007 - a scene that cannot be laid out is redrawn
            spec = sample_spec(rng, self.cfg, self.fonts, self.texts, self.photos or [])
            photo, caption = None, (None, None)
            if spec["background"]["kind"] == "photo":
                try:
                    picked = self.photos.load(spec["background"]["ref"])
                except DecodeError as e:
                    return mark(row, e.reason, str(e))
                spec["background"]["digest"] = picked.digest
                photo, caption = picked.pixels, (picked.caption_en, picked.caption_zh)
            try:
                out = render(spec, photo)
                break
            except RenderError as e:
                error = e
        else:
            return mark(row, "render_error", f"{MAX_ATTEMPTS} scenes failed; last: {error}")
        variants = prompts(spec, out.plan, out.block_boxes, caption)
        primary = "zh" if spec["language"] == "zh" else "en"
        kind = spec["background"]["kind"]
        row.update(
            domain="text",
            subdomain=f"text_render/{'photo' if kind == 'photo' else 'synthetic'}",
            task="t2i",
            language=spec["language"],
            instruction=next(
                v["text"] for v in variants if v["language"] == primary and v["style"] == "dense"
            ),
            instructions=variants,
            target_image=image_value(encode_png(out.image)),
            width=spec["width"],
            height=spec["height"],
            texts=out.texts,
            spec=spec,
            program={"lang": PLAN_VERSION, "source": to_json(out.plan)},
            scores={
                "contrast_min": round(out.min_contrast, 4),
                **{f"edge_density_{i}": round(v, 4) for i, v in out.edge_density.items()},
            },
            license="generated; photos: " + (spec["background"].get("ref", "none")),
            meta={"attempts": attempt},
            _image=out.image,
            _fonts={b["font"]["name"]: face_digest(b["font"]["path"]) for b in spec["blocks"]},
        )
        return row


class VerifyOcr(Stage):
    """Reads every drawn line back from its known box (recognition only, batched across rows), and
    on every Nth sample runs full detection on a downscaled copy to count stray text."""

    name = "verify"
    keeps_model = True
    error_reason = "ocr_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("texts", "scores", "meta", "_image", "_index")
    writes = ("scores", "meta")

    def __init__(self, cfg: TextRenderConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.ocr = make_ocr(self.cfg.verify.ocr)

    def process_batch(self, rows: list[Row]) -> list[Row]:
        got = recognize_crops(
            self.ocr,
            (
                ((r, t), crop_box(row["_image"], text["bbox"]))
                for r, row in enumerate(rows)
                for t, text in enumerate(row["texts"])
            ),
        )
        per_row: dict[int, list[tuple[float, float, str, str]]] = {}
        for (r, t), [(read, conf)] in got.items():
            expected = rows[r]["texts"][t]["text"]
            per_row.setdefault(r, []).append((ned(expected, read), conf, expected, read))
        every = self.cfg.verify.full_pass_every
        for r, row in enumerate(rows):
            results = per_row.get(r, [])
            worst = max(results, key=lambda x: x[0])
            scores = dict(row.get("scores") or {})
            scores.update(
                ocr_ned_max=round(worst[0], 4),
                ocr_ned_mean=round(float(np.mean([x[0] for x in results])), 4),
                ocr_conf_min=round(min(x[1] for x in results), 4),
            )
            if every and row["_index"] % every == 0:
                scores["stray_text"] = float(self._stray_text(row))
            row["scores"] = scores
            # what the decision names when the worst line fails, stored so it can decide again
            row["meta"] = {**row["meta"], "ocr_worst": {"text": worst[2], "read": worst[3]}}
        return rows

    def _stray_text(self, row: Row) -> int:
        """Detected text whose centre lies in no known line box (e.g. text already in the photo)."""
        image = row["_image"]
        scale = min(1.0, self.cfg.verify.full_pass_max_side / max(image.shape[:2]))
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        stray = 0
        for found in self.ocr.detect(image):
            xs, ys = np.array(found.polygon[0::2]) / scale, np.array(found.polygon[1::2]) / scale
            cx, cy = xs.mean(), ys.mean()
            if not any(
                b[0] - 4 <= cx <= b[2] + 4 and b[1] - 4 <= cy <= b[3] + 4
                for b in (t["bbox"] for t in row["texts"])
            ):
                stray += 1
        return stray


def decide(scores: dict[str, float], row: Row, t: Thresholds) -> Verdict:
    """``ocr_mismatch`` when the worst line's NED exceeds ``thresholds.max_ned``, naming that line."""
    worst = scores["ocr_ned_max"]
    if worst <= t.max_ned:
        return None
    line: dict[str, Any] = meta_of(row)["ocr_worst"]
    return "ocr_mismatch", f"{line['text']!r} read as {line['read']!r} (NED {worst:.2f} > {t.max_ned})"


DECISION = Decision(decide, frozenset({"ocr_mismatch"}), reads=("meta",))


def build_stages(cfg: TextRenderConfig) -> list[Stage]:
    return [RenderText(cfg), VerifyOcr(cfg), Decide(DECISION, cfg.thresholds)]
