"""The stages of ``synth meme``: detect the captions, erase them, plan the joke, draw the captions,
verify the drawing, then write each row.

Work is per template and per plan, rows are per kind: the rows of one template share ``_group``,
and each stage keeps what it computed for a template (or a plan) in a small per-worker memo, so
the add, t2i and replace rows of a plan are drawn from one detection, one erasure, one answer and
one drawing. Every memoised value is a pure function of its key, so a template whose rows fall
into two units gives the same result in both.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar

import cv2
import numpy as np

from pipelines.meme import plan as plans
from pipelines.meme import text
from pipelines.meme.config import MemeConfig
from pipelines.meme.detect import FoundCaption, detect_captions
from pipelines.meme.regions import Box, contains, overlap, regions
from pipelines.meme.remove import check_removal, remove_captions
from renderers.meme import Caption, CaptionFitError, Meme, MemeFonts, draw_meme
from renderers.text.photo import bbox_of, erase
from synth.decision import Decide, Decision, Verdict
from synth.evaluate.locality import edit_mask
from synth.evaluate.text import crop_box, ned
from synth.fonts import FontFace, FontRegistry
from synth.identity import digest, file_digest, sample_rng
from synth.imageio import DecodeError, decode, encode_png
from synth.llm import Answer, Failure, LlmStage, Request, record_answer
from synth.ocr import make_ocr, recognize_crops
from synth.sampling import choice
from synth.schema import image_value, meta_of
from synth.sources import PhotoPool
from synth.stage import Resources, Row, Stage, mark

Group = dict[str, Any]


class Memo:
    """The last ``size`` values by key (a template's detection, a plan's drawing), thread-safe."""

    def __init__(self, size: int = 32):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


def _downscale(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, max_side / max(image.shape[:2]))
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image, scale


def _face(fonts: FontRegistry, names: list[str], what: str) -> FontFace:
    by_name = {f.name: f for f in fonts.faces}
    for name in names:
        if name in by_name:
            return by_name[name]
    raise RuntimeError(
        f"none of the {what} faces {names} is installed (Debian: apt-get install fonts-bebas-neue "
        "fonts-liberation fonts-noto-cjk, or name installed faces in render.*_fonts)"
    )


class Drawer:
    """The faces of each style and the drawing of a plan onto a template (one place for the photo
    templates' own captions and the plans' captions)."""

    def __init__(self, cfg: MemeConfig):
        r = cfg.render
        fonts = cfg.fonts.registry()
        cjk = _face(fonts, r.cjk_fonts, "Chinese")
        self.fonts = {
            "classic": MemeFonts(_face(fonts, r.classic_fonts, "classic (Impact-like)"), cjk),
            "modern": MemeFonts(_face(fonts, r.modern_fonts, "modern"), cjk),
        }
        self.cfg = r

    def draw(
        self, template: np.ndarray, plan: dict, language: str, style: str, named: dict[str, Box]
    ) -> Meme:
        captions = [
            Caption(c[language], c["placement"], named[c["region"]] if c["placement"] == "label" else None)
            for c in plan["captions"]
        ]
        return draw_meme(template, captions, style, self.fonts[style], max_lines=self.cfg.max_lines,
                         size_ratio=self.cfg.size_ratio, min_size_ratio=self.cfg.min_size_ratio)  # fmt: skip

    def faces(self) -> dict[str, str]:
        return {f.name: file_digest(f.path)[:16] for m in self.fonts.values() for f in (m.latin, m.cjk)}


def plan_draws(row: Row, cfg: MemeConfig) -> tuple[np.random.Generator, str, str]:
    """(the plan's RNG, its language, its style): one per (template, plan index), whatever the row."""
    rng = sample_rng(int(digest(row["_group_seed"], "plan", row["_plan_index"])[:15], 16))
    return rng, choice(rng, cfg.joke.languages), choice(rng, cfg.render.styles)


def drawn_captions(meme: Meme, plan: dict) -> list[dict[str, Any]]:
    """Each caption as drawn: {region, text (its lines joined)}."""
    out = []
    for i, c in enumerate(plan["captions"]):
        lines = [ln.text for ln in meme.lines if ln.caption == i]
        if lines:
            out.append({"region": c["region"], "placement": c["placement"], "text": " ".join(lines)})
    return out


# ---------------------------------------------------------------------------------------------
# detect and remove


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
        self.drawer = Drawer(self.cfg)
        s = self.cfg.sources
        self.photos = None if self.cfg.inputs else PhotoPool(s.images, s.image_column, s.caption_column)

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
                image, scale = _downscale(decode(src["bytes"], d.max_pixels).pixels, d.max_side)
                g["description"] = {"en": src["caption"]} if src.get("caption") else {}
                g["source"] = {"ref": src["ref"], "scale": round(scale, 6)}
        except DecodeError as e:
            return {"reject": (e.reason, str(e))}
        if min(image.shape[:2]) < d.min_side:
            return {"reject": ("too_small", f"{image.shape[1]}x{image.shape[0]} is under {d.min_side} px")}
        g["image"] = image
        g["found"] = detect_captions(image, self.ocr, min_confidence=d.min_confidence, band=d.band)
        return g

    def _photo_meme(self, row: Row, g: Group) -> np.ndarray:
        """``--num``: a pool photo captioned with a bundled plan in the classic style; the photo is the
        known clean template and the plan's captions the known truth detection is scored against."""
        rng = sample_rng(row["_group_seed"])
        photo = self.photos.load(self.photos[int(rng.integers(len(self.photos)))])
        clean, _ = _downscale(photo.pixels, self.cfg.detect.max_side)
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
        if r.inpaint == "lama":
            from synth.models.inpaint import LamaInpainter

            self.erase = LamaInpainter(r.inpaint_weights, r.inpaint_device)
            self.erase_info = {"method": "lama", "weights": file_digest(r.inpaint_weights)}
        else:
            self.erase = lambda image, mask: erase(image, mask, r.inpaint_radius)
            self.erase_info = {"method": "opencv-telea", "radius": r.inpaint_radius}

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


def _recall(truth: list[str], found: list[FoundCaption], max_ned: float = 0.25) -> float:
    """Share of the known captions that detection read (NED at most ``max_ned`` against one found)."""
    if not truth:
        return 1.0
    return sum(any(ned(t, f.text) <= max_ned for f in found) for t in truth) / len(truth)


# ---------------------------------------------------------------------------------------------
# the plan


class BundledPlan(Stage):
    """The humour plan from the bundled plans (no LLM): for the demo and template-only checks."""

    name = "plan"
    reads = ("_g", "_group", "_group_seed", "_plan_index")
    writes = ("_p",)

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg

    def process_row(self, row: Row) -> Row:
        rng, language, style = plan_draws(row, self.cfg)
        plan = plans.bundled_plan(rng, list(row["_g"]["regions"]))
        row["_p"] = {"key": (row["_group"], row["_plan_index"]), "plan": plan, "language": language,
                     "style": style, "source": "bundled"}  # fmt: skip
        return row


class Joke(LlmStage, Stage):
    """The humour plan from the LLM: one request per (template, plan index), shared by its rows;
    an off-schema or ungrounded answer is asked again with the next seed, then the rows are
    ``llm_invalid_output``."""

    name = "joke"
    resources: ClassVar = Resources(cpus=0.5)
    reads = ("_g", "_group", "_group_seed", "_plan_index", "meta")
    writes = ("_p", "meta")

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg
        self.llm_cfg = cfg.llm

    def setup(self) -> None:
        super().setup()
        self.memo = Memo(256)

    def request(self, row: Row) -> Request:
        j, g = self.cfg.joke, row["_g"]
        names = list(g["regions"])
        h, w = g["template"].shape[:2]
        where = {
            n: [round(v / s, 2) for v, s in zip(b, (w, h, w, h), strict=True)]
            for n, b in g["regions"].items()
        }
        user = {
            "template": g["description"].get("en") or "a picture (described by its regions only)",
            "regions": {n: f"box {where[n]} as fractions of width and height" for n in names},
            "old_captions": [c.text for c in g["found"]],
            "limits": {"max_chars": j.max_chars, "max_words": j.max_words, "max_captions": j.max_captions},
        }
        content: Any = json.dumps(user, ensure_ascii=False)
        if j.vision:
            content = [{"type": "text", "text": content},
                       {"type": "image_url", "image_url": {"url": _data_uri(g["template"])}}]  # fmt: skip
        rng, _, _ = plan_draws(row, self.cfg)
        return Request(
            [{"role": "system", "content": j.prompt}, {"role": "user", "content": content}],
            schema=plans.schema(names, j.max_chars, j.max_captions),
            seed=int(rng.integers(2**31)),
            validate=plans.validator(names, j.max_chars, j.max_words, j.max_captions),
        )

    def submit_batch(self, rows: list[Row]) -> Callable[[], None] | None:
        futures = []
        for row in rows:
            key = (row["_group"], row["_plan_index"])
            futures.append(self.memo.get(key, lambda row=row: self.client.submit([self.request(row)])[0]))

        def collect() -> None:
            for row, future in zip(rows, futures, strict=True):
                got = future.result()
                if isinstance(got, Failure):
                    mark(row, got.reason, got.detail)
                    continue
                self.apply(row, got, None)

        return collect

    def apply(self, row: Row, got: Answer, context: Any) -> None:
        _, language, style = plan_draws(row, self.cfg)
        row["_p"] = {"key": (row["_group"], row["_plan_index"]), "plan": got.value, "language": language,
                     "style": style, "source": "llm"}  # fmt: skip
        record_answer(row, "joke", self.client.model, got)


def _data_uri(image: np.ndarray) -> str:
    import base64

    small, _ = _downscale(image, 512)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()


# ---------------------------------------------------------------------------------------------
# draw and verify


def row_style(row: Row) -> str:
    """The style a row is drawn in: a replace row keeps the input's frame, so always classic."""
    return "classic" if row["_kind"] == "replace" else row["_p"]["style"]


class Render(Stage):
    """Draw the plan's captions on the template, once per (plan, style)."""

    name = "render"
    error_reason = "render_error"
    resources: ClassVar = Resources(cpus=1)
    reads = ("_g", "_p", "_kind")
    writes = ("_meme",)

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
        return row

    def _draw(self, g: Group, p: dict, style: str) -> Meme | str:
        try:
            return self.drawer.draw(g["template"], p["plan"], p["language"], style, g["regions"])
        except CaptionFitError as e:
            return f"a caption does not fit: {e}"


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


# ---------------------------------------------------------------------------------------------
# rows


class WriteRow(Stage):
    """The columns of each row kind from its template, plan and drawing."""

    name = "rows"
    resources: ClassVar = Resources(cpus=1)
    reads = ("_g", "_kind", "meta", "scores")
    writes = ("instruction", "instructions", "language", "source_image", "target_image", "aux_images", "width",
              "height", "texts", "cot", "spec", "license", "meta")  # fmt: skip

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self.png = Memo(64)

    def _encode(self, key: Any, image: np.ndarray) -> dict:
        return image_value(self.png.get(key, lambda: encode_png(image)))

    def process_row(self, row: Row) -> Row:
        g, kind = row["_g"], row["_kind"]
        found = [_found_text(c) for c in g["found"]]
        spec: dict[str, Any] = {"template": g["source"], "found": found,
                                "regions": {k: [round(v, 2) for v in b] for k, b in g["regions"].items()},
                                "erase": g["erase"], "clean_known": g["clean"] is not None}  # fmt: skip
        row.update(license=None, meta={**row["meta"], "kind": kind, "description": g["description"]})
        if kind == "template":
            row.update(
                language=None, texts=found, spec=spec,
                source_image=self._encode((row["_group"], "image"), g["image"]),
                target_image=self._encode((row["_group"], "template"), g["template"]),
                aux_images=[self._encode((row["_group"], "mask"), g["mask"])],
                width=g["template"].shape[1], height=g["template"].shape[0],
            )  # fmt: skip
            return row
        p, meme = row["_p"], row["_meme"]
        style, lang = row_style(row), p["language"]
        drawn = drawn_captions(meme, p["plan"])
        texts = [{"text": ln.text, "role": _role(p["plan"]["captions"][ln.caption]["placement"]),
                  "polygon": ln.polygon, "bbox": ln.bbox, "font": ln.font, "color": ln.color, "language": lang}
                 for ln in meme.lines]  # fmt: skip
        spec.update(plan=p["plan"], plan_source=p["source"], style=style, language=lang,
                    lines=[{"text": ln.text, "caption": ln.caption, "size": ln.size, "stroke": ln.stroke} for ln in meme.lines],
                    offset=meme.offset)  # fmt: skip
        target, key = meme.image, (p["key"], style)
        if kind == "add":
            source = g["template"] if style == "classic" else _blank_bands(meme, g["template"])
            polys = [ln.polygon for ln in meme.lines]
            both = {k: text.add_instruction(drawn, style, k) for k in ("en", "zh")}
        elif kind == "replace":
            source = g["image"]
            polys = [ln.polygon for ln in meme.lines] + [
                list(map(float, o.polygon)) for c in g["found"] for o in c.lines
            ]
            both = {k: text.replace_instruction(old_captions(g["found"]), drawn, k) for k in ("en", "zh")}
            texts = [{**t, "role": "source"} for t in found] + texts
        else:
            source, polys = None, []
            both = {k: text.t2i_prompt(g["description"].get(k), drawn, style, k) for k in ("en", "zh")}
        images: dict[str, Any] = {
            "source_image": None,
            "aux_images": [self._encode((row["_group"], "template"), g["template"])],
        }
        if source is not None:
            mask = edit_mask(target.shape[:2], polys, _changed(source, target), self.cfg.render.mask_dilate)
            images = {"source_image": self._encode((*key, kind, "source"), source),
                      "aux_images": [image_value(encode_png(mask)), *images["aux_images"][kind == "add":]]}  # fmt: skip
        row.update(
            instruction=both[lang],
            instructions=[{"style": "concise", "language": k, "text": v} for k, v in both.items()],
            language=lang, texts=texts, spec=spec, cot=plans.cot_text(p["plan"], lang),
            target_image=self._encode((*key, "target"), target),
            width=target.shape[1], height=target.shape[0], **images,
        )  # fmt: skip
        return row


def old_captions(found: list[FoundCaption]) -> list[dict[str, Any]]:
    """The input's captions as {region, text}: labels named ``label_1``... as :func:`regions` names them."""
    out, labels = [], 0
    for c in found:
        if c.placement == "label":
            labels += 1
        out.append({"region": f"label_{labels}" if c.placement == "label" else c.placement, "text": c.text})
    return out


def _role(placement: str) -> str:
    return {"top": "caption_top", "bottom": "caption_bottom"}.get(placement, "label")


def _found_text(c: FoundCaption) -> dict[str, Any]:
    box = bbox_of(c.polygon)
    return {"text": c.text, "role": _role(c.placement), "polygon": [float(v) for v in c.polygon],
            "bbox": [float(v) for v in box], "font": c.font_class or None, "color": c.color or None,
            "language": "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in c.text) else "en"}  # fmt: skip


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=-1).astype(np.uint8) * 255


def _blank_bands(meme: Meme, template: np.ndarray) -> np.ndarray:
    """A modern meme's frame without its text: the white bands empty, the template in place."""
    source = np.full_like(meme.image, 255)
    source[meme.offset : meme.offset + template.shape[0]] = template
    return source


# ---------------------------------------------------------------------------------------------
# decision


def decide(scores: dict[str, float], row: Row, t) -> Verdict:
    """Kept unless a stored score fails its threshold; the first failing check names the reason."""
    if scores.get("caption_ned_max", 0.0) > t.max_ned:
        return (
            "ocr_mismatch",
            f"a caption line reads back at NED {scores['caption_ned_max']:.2f} > {t.max_ned}",
        )
    if scores.get("caption_inside", 1.0) < 1 or scores.get("placement_ok", 1.0) < 1:
        return "verify_failed", "a caption is not where its plan places it (or leaves the image)"
    if scores.get("subject_overlap", 0.0) > t.max_subject_overlap:
        return (
            "verify_failed",
            f"a caption covers {scores['subject_overlap']:.0%} of a region the plan keeps clear",
        )
    if scores.get("removal_clean", 1.0) < t.min_removal_clean:
        return (
            "verify_failed",
            f"OCR still finds text where {1 - scores['removal_clean']:.0%} of the old captions were",
        )
    return None


DECISION = Decision(decide, frozenset({"ocr_mismatch", "verify_failed"}))


def build_stages(cfg: MemeConfig) -> list[Stage]:
    stages: list[Stage] = [Detect(cfg), Remove(cfg)]
    if "render" in cfg.stages:
        stages.append(Joke(cfg) if "joke" in cfg.stages else BundledPlan(cfg))
        stages.append(Render(cfg))
        if "verify" in cfg.stages:
            stages.append(Verify(cfg))
    return [*stages, WriteRow(cfg), Decide(DECISION, cfg.thresholds)]
