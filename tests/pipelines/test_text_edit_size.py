"""Size edits (``ops.size``, ``scaling``) scale text in place: the block keeps its alignment edge (left-aligned text grows to the
right, right-aligned to the left, centred both ways, top-aligned downwards) and its lines, stays
inside the page margins, and the instruction says what the drawing keeps."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.text_edit import PIPELINE
from pipelines.text_edit.instructions import instructions
from pipelines.text_edit.ops import Context, pin, size
from pipelines.text_edit.scaling import KEEPS, PAGE_MARGIN, page_area, scaled_box
from pipelines.text_edit.stages import DrawEdit
from pipelines.text_render.sampler import font_ref
from pipelines.text_render.texts import TextSource
from renderers.text.layout import load_font
from renderers.text.render import BULLET_INDENT, render
from synth.config import default_config_path, load_config
from synth.fonts import FontRegistry
from synth.identity import sample_seed
from synth.sampling import NotApplicable


@pytest.fixture(scope="module")
def fonts() -> FontRegistry:
    return FontRegistry()


def _slide(fonts: FontRegistry, title: str, align: str = "left") -> dict:
    """A 1024 x 768 slide whose title block spans the page between 6% margins (as the slide
    layout draws it), pinned to its rendering."""
    face = fonts.for_text(title, "latin")[0]
    spec = {
        "width": 1024, "height": 768, "language": "en", "layout": "slide",
        "background": {"kind": "solid", "colors": ["#ffffff"]}, "min_contrast": 4.5,
        "blocks": [
            {"role": "title", "text": title, "language": "en", "font": font_ref(face), "color": "#000000",
             "align": align, "valign": "top", "box": [61, 46, 962, 161], "sizes": [40, 48], "max_lines": 2},
            {"role": "body", "text": "A short line of body text.", "language": "en", "font": font_ref(face),
             "color": "#000000", "align": "left", "valign": "top", "box": [81, 300, 942, 700], "sizes": [24, 24]},
        ],
    }  # fmt: skip
    rendered = render(spec)
    return pin(spec, rendered), rendered


def _edges(plan_block: dict, box: list[int], bullet: bool) -> tuple[float, float, float]:
    """(left, right, top) of the block's drawn lines, the left less its bullet indent."""
    font = load_font(plan_block["font"]["path"], plan_block["font"]["index"], plan_block["size"])
    indent = int((box[2] - box[0]) * BULLET_INDENT) if bullet else 0
    lines = plan_block["lines"]
    left = min(ln["xy"][0] for ln in lines) - indent
    right = max(ln["xy"][0] + font.getlength(ln["text"]) for ln in lines)
    return left, right, lines[0]["xy"][1]


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_a_larger_title_keeps_its_alignment_edge_and_the_margins(fonts, align):
    pinned, rendered = _slide(fonts, "Quarterly results", align)
    box = scaled_box(pinned["blocks"][0], rendered.plan["blocks"][0], rendered.block_boxes[0], 67, 1024, 768)
    old = pinned["blocks"][0]["box"]
    assert box[1] == old[1] and box[3] > old[3]  # top-aligned: grows downwards
    assert {
        "left": box[0] == old[0],
        "right": box[2] == old[2],
        "center": box[0] + box[2] == old[0] + old[2],
    }[align]
    drawn = render({**pinned, "blocks": [{**pinned["blocks"][0], "box": box, "sizes": [67, 67]}]})
    assert drawn.plan["blocks"][0]["lines"][0]["text"] == "Quarterly results"
    ink, area = drawn.block_boxes[0], page_area(rendered.block_boxes[0], 1024, 768)
    assert area[0] <= ink[0] and ink[2] <= area[2] <= (1 - PAGE_MARGIN) * 1024


def test_reported_case_left_aligned_line_no_longer_runs_to_the_edge(fonts):
    """A size increase on a left-aligned slide line moved it from its margin to x = 0 (issue 17)."""
    pinned, rendered = _slide(fonts, "Quarterly results")
    ctx = Context(fonts, TextSource())
    for seed in range(12):
        try:
            edit = size(np.random.default_rng(seed), pinned, rendered, ctx)
        except NotApplicable:
            continue
        target = render(edit.target)
        i = edit.changed[0]
        x0 = min(ln["xy"][0] for ln in target.plan["blocks"][i]["lines"])
        assert x0 == min(ln["xy"][0] for ln in rendered.plan["blocks"][i]["lines"])
        assert target.block_boxes[i][0] >= int(PAGE_MARGIN * 1024) - 1


def test_text_that_cannot_grow_within_the_margins_is_refused(fonts):
    long = "An unusually long slide title that fills the line"
    pinned, rendered = _slide(fonts, long)
    with pytest.raises(NotApplicable, match="inside the margins"):
        scaled_box(pinned["blocks"][0], rendered.plan["blocks"][0], rendered.block_boxes[0], 67, 1024, 768)


def test_instruction_says_what_the_drawing_keeps():
    rng = np.random.default_rng(0)
    for (align, valign), (keep_en, keep_zh) in KEEPS.items():
        slots = {"ref_en": '"Sale"', "ref_zh": "“Sale”", "bigger": True, "factor": 1.25,
                 "keep_en": keep_en, "keep_zh": keep_zh}  # fmt: skip
        texts = [instructions("size", slots, "en", rng)[1] for _ in range(8)]
        said = " ".join(v["text"] for variants in texts for v in variants)
        assert keep_en in said and keep_zh in said
        assert ("centred" in said) == (align == "center"), (align, valign)
        assert ("居中" in said) == (align == "center"), (align, valign)


def test_every_row_of_a_size_run_keeps_its_edge_and_the_margins():
    cfg = load_config(PIPELINE.config_model, default_config_path("text_edit"), ["edit.ops={size: 1}"])
    draw = DrawEdit(cfg)
    draw.setup()
    drawn = 0
    for k in range(30):
        row = draw.process_row({"seed": sample_seed(17, "train", k)})
        if row.get("status"):
            assert row["reason"] == "render_error", row.get("detail")
            continue
        drawn += 1
        spec, edit = row["spec"], row["_edit"]
        i, t = edit.changed[0], edit.target_changed[0]
        src, tgt = spec["source"]["blocks"][i], spec["target"]["blocks"][t]
        plans = json.loads(row["program"]["source"])
        bullet = src.get("bullet") == "dot"
        (sl, sr, st), (tl, tr, tt) = (
            _edges(plans["source"]["blocks"][i], src["box"], bullet),
            _edges(plans["target"]["blocks"][t], tgt["box"], bullet),
        )
        align = src.get("align", "left")
        if align == "left":
            assert tl == pytest.approx(sl, abs=0.01)
        elif align == "right":
            assert tr == pytest.approx(sr, abs=1.0)
        else:
            assert (tl + tr) / 2 == pytest.approx((sl + sr) / 2, abs=1.0)
        if src.get("valign", "top") == "top":
            assert tt == pytest.approx(st, abs=0.01)
        old = [t["bbox"] for t in row["texts"] if t["role"] == "source"]
        old_ink = [
            min(b[0] for b in old),
            min(b[1] for b in old),
            max(b[2] for b in old),
            max(b[3] for b in old),
        ]
        area = page_area(old_ink, row["width"], row["height"])
        ink = [t["bbox"] for t in row["texts"] if t["role"] == "target"]
        assert min(b[0] for b in ink) >= area[0] and max(b[2] for b in ink) <= area[2]
        assert min(b[1] for b in ink) >= area[1] and max(b[3] for b in ink) <= area[3]
        said = " ".join(
            v["text"] for v in instructions("size", edit.slots, "en", np.random.default_rng(k))[1]
        )
        assert ("centred" in said or "居中" in said) <= (align == "center"), said
    assert drawn >= 27
