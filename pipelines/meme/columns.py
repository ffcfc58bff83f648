"""The columns of each row kind (template, add, t2i, replace) from its template, plan and drawing."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from pipelines.meme import plan as plans
from pipelines.meme import text
from pipelines.meme.common import Memo, drawn_captions
from pipelines.meme.config import MemeConfig
from pipelines.meme.detect import FoundCaption
from pipelines.meme.draw import row_style
from renderers.meme import Meme
from renderers.text.photo import bbox_of
from synth.evaluate.locality import edit_mask
from synth.imageio import encode_png
from synth.schema import image_value
from synth.stage import Resources, Row, Stage


class WriteRow(Stage):
    """The columns of each row kind from its template, plan and drawing."""

    name = "rows"
    resources: ClassVar = Resources(cpus=1)
    reads = ("_g", "_group", "_kind", "meta")
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
        detected = [{"text": c.text, "placement": c.placement, "polygon": [round(float(v), 1) for v in c.polygon],
                     "confidence": round(c.confidence, 4), "color": c.color, "stroke": c.stroke,
                     "size": round(c.size, 1), "font_class": c.font_class, "quoted": sure}
                    for c, sure in zip(g["found"], g["quotable"], strict=True)]  # fmt: skip
        spec: dict[str, Any] = {"template": g["source"], "found": detected,
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
            both = {
                k: text.replace_instruction(old_captions(g["found"], g["quotable"]), drawn, k)
                for k in ("en", "zh")
            }
            texts = [{**t, "role": "source"} for t in found] + texts
        else:
            source, polys = None, []
            both = {k: text.t2i_prompt(g["description"].get(k), drawn, style, k) for k in ("en", "zh")}
        template = self._encode((row["_group"], "template"), g["template"])
        images: dict[str, Any] = {
            "source_image": None,
            "aux_images": [template],
        }  # t2i: the template as reference
        if source is not None:  # an edit: its mask first, then the template where the source is not it
            mask = image_value(encode_png(edit_mask(target.shape[:2], polys, _changed(source, target),
                                                    self.cfg.render.mask_dilate)))  # fmt: skip
            images = {"source_image": self._encode((*key, kind, "source"), source),
                      "aux_images": [mask] if kind == "add" else [mask, template]}  # fmt: skip
        row.update(
            instruction=both[lang],
            instructions=[{"style": "concise", "language": k, "text": v} for k, v in both.items()],
            language=lang, texts=texts, spec=spec, cot=plans.cot_text(p["plan"], lang),
            target_image=self._encode((*key, "target"), target),
            width=target.shape[1], height=target.shape[0], **images,
        )  # fmt: skip
        return row


def old_captions(found: list[FoundCaption], quotable: list[bool] | None = None) -> list[dict[str, Any]]:
    """The input's captions as {region, text}: labels named ``label_1``... as :func:`regions` names
    them; text None where the read is not sure enough to quote."""
    out, labels = [], 0
    for i, c in enumerate(found):
        if c.placement == "label":
            labels += 1
        sure = quotable is None or quotable[i]
        out.append({"region": f"label_{labels}" if c.placement == "label" else c.placement,
                    "text": c.text if sure else None})  # fmt: skip
    return out


def _role(placement: str) -> str:
    return {"top": "caption_top", "bottom": "caption_bottom"}.get(placement, "label")


def _found_text(c: FoundCaption) -> dict[str, Any]:
    box = bbox_of(c.polygon)
    return {"text": c.text, "role": _role(c.placement), "polygon": [float(v) for v in c.polygon],
            "bbox": [float(v) for v in box], "font": None, "color": c.color or None,
            "language": "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in c.text) else "en"}  # fmt: skip


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=-1).astype(np.uint8) * 255


def _blank_bands(meme: Meme, template: np.ndarray) -> np.ndarray:
    """A modern meme's frame without its text: the white bands empty, the template in place."""
    source = np.full_like(meme.image, 255)
    source[meme.offset : meme.offset + template.shape[0]] = template
    return source
