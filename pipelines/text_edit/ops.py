"""Edit operations on a text-render spec: each takes a *pinned* source scene (every block at a fixed
box) and returns the target spec plus what the instruction must say. Pure functions of (rng, scene).

Why each operation is in the data:

* ``replace``   the core of text editing: a word or a whole line swapped, spelled exactly.
* ``delete``    erasing text and filling the background behind it, with nothing else moving.
* ``insert``    adding text at a position the instruction describes by its neighbour.
* ``color``     a style change that keeps the glyphs: the model must recolour text only.
* ``font``      weight or typeface changes: the glyph shapes change, the words do not.
* ``size``      scale text in place: the same lines, the alignment edge fixed, inside the margins.
* ``move``      the same text elsewhere: old place restored, new place drawn.
* ``case``      upper/lower/title case: letter forms change, spelling does not.
* ``translate`` English <-> Chinese in place, a script change in the same style and box.
* ``reflow``    a much longer or shorter string inside a paragraph: the lines must rewrap.
* ``instance``  the same word in two places and only one edited: the instruction says which.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.text_edit.scaling import KEEPS, scaled_box
from pipelines.text_render.sampler import font_ref
from pipelines.text_render.texts import TextSource
from renderers.text.color import NAMED, contrast, hex_color, luminance, parse_hex, region_luminance_range
from renderers.text.render import Rendered
from synth.fonts import FontFace, FontRegistry, draws, has_lowercase
from synth.sampling import NotApplicable, pick

ROLE_NAMES = {
    "title": ("title", "标题"),
    "subtitle": ("subtitle", "副标题"),
    "body": ("paragraph", "正文"),
    "list": ("list", "列表"),
    "footer": ("footer", "页脚"),
}
SHORT = 40  # characters: longer texts are referred to by role and place, not quoted whole
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


@dataclass
class Edit:
    op: str
    target: dict[str, Any]  # the target spec
    changed: list[int]  # block indices in the source spec that the edit touches
    target_changed: list[int]  # the same blocks' indices in the target spec (a deletion has none)
    slots: dict[str, Any] = field(default_factory=dict)  # what the instruction templates quote
    removal: bool = False  # the old text must no longer be read at its old place
    case_sensitive: bool = False  # correctness compares case (the case operation)


@dataclass
class Context:
    """What operations draw from: fonts, texts and the bilingual phrase table."""

    fonts: FontRegistry
    texts: TextSource
    min_contrast: float = 4.5


@functools.lru_cache(maxsize=1)
def phrases() -> tuple[tuple[str, str], ...]:
    """Hand-written (English, Chinese) pairs: the ground truth of in-place translation."""
    rows = (Path(__file__).with_name("phrases.tsv")).read_text(encoding="utf-8").splitlines()
    return tuple(tuple(r.split("\t")) for r in rows if r and not r.startswith("#"))  # type: ignore[misc]


def pin(spec: dict[str, Any], rendered: Rendered) -> dict[str, Any]:
    """The spec with every block at the box layout gave it and at most its drawn size, so that a
    change to one block can never move another (rendering the pinned spec gives the same image)."""
    pinned = copy.deepcopy(spec)
    for block, box, plan in zip(pinned["blocks"], rendered.placed, rendered.plan["blocks"], strict=True):
        block.pop("place", None)
        block["box"] = [int(v) for v in box]
        block["sizes"] = [min(int(block["sizes"][0]), plan["size"]), plan["size"]]
    return pinned


# ---------------------------------------------------------------------------------------------
# helpers


def _is_zh(block: dict) -> bool:
    return block["language"] == "zh"


def line_count(rendered: Rendered, i: int) -> int:
    return len(rendered.plan["blocks"][i]["lines"])


def spans(text: str, zh: bool) -> list[tuple[int, int]]:
    """Editable word spans: Latin words of 3+ letters, or 2-character pieces of Han runs."""
    if zh:
        out = []
        for m in _HAN_RUN.finditer(text):
            out.extend((s, s + 2) for s in range(m.start(), m.end() - 1, 2))
        return out
    return [m.span() for m in _LATIN_WORD.finditer(text)]


def _match_case(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:].lower()
    return word.lower()


def new_word(rng: np.random.Generator, texts: TextSource, like: str, zh: bool, avoid: str) -> str:
    """A real word of about ``like``'s length (Faker's vocabulary), in its case, not in ``avoid``."""
    for _ in range(12):
        text = texts.draw(rng, "body", "zh" if zh else "en")
        if zh:
            pool = [text[s:e] for s, e in spans(text, True)]
            pool = [w for w in pool if w not in avoid]
        else:
            pool = [w for w in _LATIN_WORD.findall(text) if abs(len(w) - len(like)) <= 2]
            pool = [w for w in pool if w.lower() not in avoid.lower()]
        if pool:
            word = pick(rng, pool)
            return word if zh else _match_case(word, like)
    raise NotApplicable("no replacement word found")


def describe(block: dict, i: int, rendered: Rendered) -> dict[str, str]:
    """How an instruction names a block: its text when short, else its role and place."""
    text = block["text"].replace("\n", " ")
    en_role, zh_role = ROLE_NAMES.get(block["role"], ("text", "文字"))
    place_en, place_zh = where(rendered.block_boxes[i], rendered.plan["width"], rendered.plan["height"])
    if len(text) <= SHORT:
        return {"ref_en": f'"{text}"', "ref_zh": f"“{text}”", "quote": text}
    return {"ref_en": f"the {en_role} {place_en}", "ref_zh": f"{place_zh}的{zh_role}", "quote": ""}


def where(box: list[float], width: int, height: int) -> tuple[str, str]:
    """A coarse place on the canvas, in English and Chinese."""
    cx, cy = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
    row = 0 if cy < 0.36 else 2 if cy > 0.64 else 1
    col = 0 if cx < 0.36 else 2 if cx > 0.64 else 1
    en = [["at the top left", "at the top", "at the top right"], ["on the left", "in the middle", "on the right"],
          ["at the bottom left", "at the bottom", "at the bottom right"]]  # fmt: skip
    zh = [["左上角", "顶部", "右上角"], ["左侧", "中间", "右侧"], ["左下角", "底部", "右下角"]]
    return en[row][col], zh[row][col]


def _with_text(spec: dict, i: int, text: str) -> dict:
    """The spec with block ``i`` reading ``text`` in its own face, which must draw it as written
    (a caps-only face cannot take lowercase: the drawing would not say what the target says)."""
    ref = spec["blocks"][i]["font"]
    if not draws(ref["path"], ref["index"], text):
        raise NotApplicable(f"{ref['name']} cannot draw {text!r} as written")
    target = copy.deepcopy(spec)
    target["blocks"][i]["text"] = text
    return target


def _choose_block(rng, spec, rendered, ok) -> int:
    return pick(rng, [i for i, b in enumerate(spec["blocks"]) if ok(i, b)])


def _boxes_clear(box: list[float], others: list[list[float]], w: int, h: int, margin: float = 8) -> bool:
    if box[0] < 0 or box[1] < 0 or box[2] > w or box[3] > h:
        return False
    return all(
        box[2] + margin <= o[0]
        or o[2] + margin <= box[0]
        or box[3] + margin <= o[1]
        or o[3] + margin <= box[1]
        for o in others
    )


# ---------------------------------------------------------------------------------------------
# operations: (rng, pinned spec, its rendering, context, what ``PREPARE`` noted) -> Edit


def replace(rng, spec, rendered, ctx, hint=None) -> Edit:
    i = _choose_block(rng, spec, rendered, lambda i, b: spans(b["text"], _is_zh(b)))
    block = spec["blocks"][i]
    zh = _is_zh(block)
    if line_count(rendered, i) == 1 and block["role"] != "list" and rng.random() < 0.4:
        new = ctx.texts.draw(rng, block["role"], block["language"]).replace("\n", " ")
        if new == block["text"] or len(new) > max(12, 2 * len(block["text"])):
            raise NotApplicable("no suitable new line")
        return Edit(
            "replace", _with_text(spec, i, new), [i], [i], {"old": block["text"], "new": new}, removal=True
        )
    s, e = pick(rng, spans(block["text"], zh))
    old = block["text"][s:e]
    new = new_word(rng, ctx.texts, old, zh, avoid=block["text"])
    text = block["text"][:s] + new + block["text"][e:]
    return Edit("replace", _with_text(spec, i, text), [i], [i], {"old": old, "new": new}, removal=True)


def delete(rng, spec, rendered, ctx, hint=None) -> Edit:
    short = [i for i, b in enumerate(spec["blocks"]) if len(b["text"]) <= SHORT and "\n" not in b["text"]]
    if len(spec["blocks"]) > 1 and short and rng.random() < 0.5:
        i = pick(rng, short)
        target = copy.deepcopy(spec)
        del target["blocks"][i]
        text = spec["blocks"][i]["text"]
        return Edit("delete", target, [i], [], {"old": text, "new": ""}, removal=True)
    i = _choose_block(rng, spec, rendered, lambda i, b: len(spans(b["text"], _is_zh(b))) >= 2)
    block = spec["blocks"][i]
    s, e = pick(rng, spans(block["text"], _is_zh(block)))
    old = block["text"][s:e]
    text = re.sub(r"[ \t]{2,}", " ", block["text"][:s] + block["text"][e:]).strip()
    if not text.strip():
        raise NotApplicable("nothing would be left")
    return Edit("delete", _with_text(spec, i, text), [i], [i], {"old": old, "new": ""}, removal=True)


def insert(rng, spec, rendered, ctx, hint=None) -> Edit:
    i = _choose_block(rng, spec, rendered, lambda i, b: spans(b["text"], _is_zh(b)))
    block = spec["blocks"][i]
    zh = _is_zh(block)
    s, e = pick(rng, spans(block["text"], zh))
    anchor = block["text"][s:e]
    word = new_word(rng, ctx.texts, anchor, zh, avoid=block["text"])
    if not zh:
        word = _match_case(word, anchor) if anchor.isupper() else word.lower()
    text = block["text"][:e] + ("" if zh else " ") + word + block["text"][e:]
    if block["text"].count(anchor) > 1:
        raise NotApplicable("the anchor word is not unique")
    return Edit("insert", _with_text(spec, i, text), [i], [i], {"new": word, "anchor": anchor})


def color(rng, spec, rendered, ctx, hint=None) -> Edit:
    i = _choose_block(rng, spec, rendered, lambda i, b: True)
    block = spec["blocks"][i]
    current = parse_hex(rendered.plan["blocks"][i]["color"])
    lo, hi = _luminance_under(rendered, i)
    options = [
        (en, zh, rgb)
        for en, zh, rgb in NAMED
        if sum(abs(a - b) for a, b in zip(rgb, current, strict=True)) > 150
        and min(contrast(luminance(rgb), lo), contrast(luminance(rgb), hi)) >= ctx.min_contrast
    ]
    en, zh, rgb = pick(rng, options)
    target = copy.deepcopy(spec)
    target["blocks"][i]["color"] = hex_color(rgb)
    return Edit("color", target, [i], [i], {**describe(block, i, rendered), "color_en": en, "color_zh": zh})


def _luminance_under(rendered: Rendered, i: int) -> tuple[float, float]:
    """Darkest and lightest relative luminance of the background under block ``i``: a new colour
    must contrast with both, so the renderer never has to adjust it (the instruction stays true)."""
    x0, y0, x1, y1 = (int(v) for v in rendered.block_boxes[i])
    bg = rendered.background
    return region_luminance_range(bg[max(0, y0) : max(y0 + 1, y1), max(0, x0) : max(x0 + 1, x1)])


def font(rng, spec, rendered, ctx, hint=None) -> Edit:
    i = _choose_block(rng, spec, rendered, lambda i, b: True)
    block = spec["blocks"][i]
    script = "han" if _is_zh(block) else "latin"
    faces = ctx.fonts.for_text(block["text"], script)
    current = next(
        (f for f in faces if f.path == block["font"]["path"] and f.index == block["font"]["index"]), None
    )
    if current is None:
        raise NotApplicable("the block's face is not in the registry")
    same_family = [f for f in faces if f.family == current.family and f.bold != current.bold and not f.italic]
    other_kind = [f for f in faces if f.kind != current.kind and not f.italic]
    if same_family and (rng.random() < 0.5 or not other_kind):
        face = pick(rng, same_family)
        style = ("bold", "粗体") if face.bold else ("regular weight", "常规字重")
    else:
        face = pick(rng, other_kind)
        style = {"serif": ("a serif typeface", "衬线字体"), "sans-serif": ("a sans-serif typeface", "无衬线字体"),
                 "monospace": ("a monospace typeface", "等宽字体")}.get(face.kind, (face.family, face.family))  # fmt: skip
    target = copy.deepcopy(spec)
    target["blocks"][i]["font"] = font_ref(face)
    return Edit(
        "font", target, [i], [i], {**describe(block, i, rendered), "style_en": style[0], "style_zh": style[1]}
    )


def size(rng, spec, rendered, ctx, hint=None) -> Edit:
    bigger = bool(rng.random() < 0.5)
    factors = [float(f) for f in rng.permutation([1.25, 1.4] if bigger else [0.65, 0.75])]
    order = [int(k) for k in rng.permutation(len(spec["blocks"]))]
    i, factor, new_size, box = _first_scalable(spec, rendered, order, factors)
    block = spec["blocks"][i]
    target = copy.deepcopy(spec)
    target["blocks"][i]["box"] = box
    target["blocks"][i]["sizes"] = [new_size, new_size]
    keep_en, keep_zh = KEEPS[(block.get("align", "left"), block.get("valign", "top"))]
    slots = {**describe(block, i, rendered), "bigger": bigger, "factor": round(factor, 2),
             "keep_en": keep_en, "keep_zh": keep_zh}  # fmt: skip
    return Edit("size", target, [i], [i], slots)


def _first_scalable(spec, rendered, order: list[int], factors: list[float]):
    """(block, factor, new size, box) of the first block in ``order`` that some factor scales in
    place (:func:`scaled_box`); the last refusal when none can, so the scene is redrawn."""
    w, h = rendered.plan["width"], rendered.plan["height"]
    last = NotApplicable("no block to scale")
    for i in order:
        drawn = rendered.plan["blocks"][i]
        for factor in factors:
            new_size = int(round(drawn["size"] * factor))
            if new_size < 12:
                last = NotApplicable("the text would be too small")
                continue
            try:
                box = scaled_box(spec["blocks"][i], drawn, rendered.block_boxes[i], new_size, w, h)
                return i, factor, new_size, box
            except NotApplicable as e:
                last = e
    raise last


def move(rng, spec, rendered, ctx, hint=None) -> Edit:
    w, h = rendered.plan["width"], rendered.plan["height"]
    i = _choose_block(rng, spec, rendered, lambda i, b: True)
    block = spec["blocks"][i]
    ink = rendered.block_boxes[i]
    others = [b for k, b in enumerate(rendered.block_boxes) if k != i]
    moves = []
    for name, (dx, dy) in {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}.items():
        for frac in (0.35, 0.25, 0.15):
            ox, oy = int(dx * frac * w), int(dy * frac * h)
            moved = [ink[0] + ox, ink[1] + oy, ink[2] + ox, ink[3] + oy]
            if _boxes_clear(moved, others, w, h, margin=12):
                moves.append((name, ox, oy))
                break
    name, ox, oy = pick(rng, moves)
    target = copy.deepcopy(spec)
    b = block["box"]
    target["blocks"][i]["box"] = [b[0] + ox, b[1] + oy, b[2] + ox, b[3] + oy]
    zh = {"up": "上", "down": "下", "left": "左", "right": "右"}[name]
    moved = [ink[0] + ox, ink[1] + oy, ink[2] + ox, ink[3] + oy]
    apart = _boxes_clear(moved, [ink], w, h, margin=0)
    return Edit("move", target, [i], [i], {**describe(block, i, rendered), "direction_en": name, "direction_zh": zh},
                removal=apart)  # fmt: skip


def case(rng, spec, rendered, ctx, hint=None) -> Edit:
    i = _choose_block(
        rng,
        spec,
        rendered,
        lambda i, b: (
            not _is_zh(b)
            and _LATIN_WORD.search(b["text"])
            and len(b["text"]) <= SHORT
            and has_lowercase(b["font"]["path"], b["font"]["index"])
        ),
    )
    block = spec["blocks"][i]
    text = block["text"]
    modes = {"upper": (text.upper(), "uppercase", "全部大写"), "lower": (text.lower(), "lowercase", "全部小写"),
             "title": (text.title(), "title case", "首字母大写")}  # fmt: skip
    options = [(k, v) for k, v in modes.items() if v[0] != text]
    _, (new, en, zh) = pick(rng, options)
    return Edit("case", _with_text(spec, i, new), [i], [i],
                {**describe(block, i, rendered), "old": text, "new": new, "case_en": en, "case_zh": zh},
                case_sensitive=True)  # fmt: skip


def prepare_translate(rng, spec, ctx) -> tuple[dict, dict]:
    """Source side of a translation: one short block set to a phrase whose translation is known."""
    candidates = [i for i, b in enumerate(spec["blocks"]) if b["role"] in ("title", "subtitle", "footer")]
    i = pick(rng, candidates)
    en, zh = pick(rng, list(phrases()))
    block = spec["blocks"][i]
    text = zh if _is_zh(block) else en
    face = _face_for(rng, ctx, text, "zh" if _is_zh(block) else "en", block["font"])
    out = copy.deepcopy(spec)
    out["blocks"][i].update(text=text, font=font_ref(face), max_lines=2)
    return out, {"block": i}


def _face_for(rng, ctx: Context, text: str, language: str, like: dict) -> FontFace:
    faces = ctx.fonts.for_text(text, "han" if language == "zh" else "latin")
    same_weight = [f for f in faces if f.bold == like.get("bold", False) and not f.italic]
    return pick(rng, same_weight or faces)


def translate(rng, spec, rendered, ctx, hint=None) -> Edit:
    i = hint["block"]
    block = spec["blocks"][i]
    pair = next(p for p in phrases() if block["text"] in p)
    to_zh = not _is_zh(block)
    new = pair[1] if to_zh else pair[0]
    language = "zh" if to_zh else "en"
    target = copy.deepcopy(spec)
    target["blocks"][i].update(
        text=new, language=language, font=font_ref(_face_for(rng, ctx, new, language, block["font"]))
    )
    slots = {"old": block["text"], "new": new, "lang_en": "Chinese" if to_zh else "English",
             "lang_zh": "中文" if to_zh else "英文"}  # fmt: skip
    return Edit("translate", target, [i], [i], slots, removal=True)


def reflow(rng, spec, rendered, ctx, hint=None) -> Edit:
    i = _choose_block(
        rng,
        spec,
        rendered,
        lambda i, b: b["role"] == "body" and line_count(rendered, i) >= 2 and spans(b["text"], _is_zh(b)),
    )
    block = spec["blocks"][i]
    text, zh = block["text"], _is_zh(block)
    longer = rng.random() < 0.6
    if longer:  # one word becomes a phrase of three (English) or four two-character words
        s, e = pick(rng, spans(text, zh))
        words = [new_word(rng, ctx.texts, "word", zh, avoid=text) for _ in range(4 if zh else 3)]
        new = "".join(words) if zh else _match_case(" ".join(words), text[s:e])
    else:  # a phrase of four words (eight Han characters) becomes one word
        if zh:
            runs = [m for m in _HAN_RUN.finditer(text) if m.end() - m.start() >= 8]
            m = pick(rng, runs)
            s = m.start() + 2 * int(rng.integers((m.end() - m.start() - 8) // 2 + 1))
            e = s + 8
        else:
            words = list(_LATIN_WORD.finditer(text))
            k = int(rng.integers(max(1, len(words) - 3)))
            if len(words) < 4 or "\n" in text[words[k].start() : words[k + 3].end()]:
                raise NotApplicable("no four-word phrase on one line")
            s, e = words[k].start(), words[k + 3].end()
        new = new_word(rng, ctx.texts, "word", zh, avoid=text)
        new = new if zh else _match_case(new, text[s:e])
    old = text[s:e]
    return Edit("reflow", _with_text(spec, i, text[:s] + new + text[e:]), [i], [i],
                {"old": old, "new": new, "longer": longer}, removal=True)  # fmt: skip


def prepare_instance(rng, spec, ctx) -> tuple[dict, dict]:
    """Source side of an instance edit: the same word placed in two blocks of one language."""
    by_language: dict[str, list[int]] = {}
    for i, b in enumerate(spec["blocks"]):
        if spans(b["text"], _is_zh(b)) and "\n" not in b["text"]:
            by_language.setdefault(b["language"], []).append(i)
    pairs = [v for v in by_language.values() if len(v) >= 2]
    ids = pick(rng, pairs)
    a, b = (ids[k] for k in rng.permutation(len(ids))[:2])
    zh = spec["blocks"][a]["language"] == "zh"
    ta, tb = spec["blocks"][a]["text"], spec["blocks"][b]["text"]
    sa, ea = pick(rng, spans(ta, zh))
    word = ta[sa:ea]
    sb, eb = pick(rng, spans(tb, zh))
    out = copy.deepcopy(spec)
    out["blocks"][b]["text"] = tb[:sb] + (word if zh else _match_case(word, tb[sb:eb])) + tb[eb:]
    if (out["blocks"][b]["text"] if zh else out["blocks"][b]["text"].lower()).count(
        word if zh else word.lower()
    ) != 1:
        raise NotApplicable("the word would occur more than once in the other block")
    if (ta if zh else ta.lower()).count(word if zh else word.lower()) != 1:
        raise NotApplicable("the word occurs more than once in its block")
    return out, {"blocks": [a, b], "word": word}


def instance(rng, spec, rendered, ctx, hint=None) -> Edit:
    (a, b), word = hint["blocks"], hint["word"]
    block = spec["blocks"][a]
    zh = _is_zh(block)
    ba, bb = rendered.block_boxes[a], rendered.block_boxes[b]
    dy, dx = (ba[1] + ba[3] - bb[1] - bb[3]) / 2, (ba[0] + ba[2] - bb[0] - bb[2]) / 2
    if abs(dy) >= abs(dx):
        which = ("the upper one", "上面的") if dy < 0 else ("the lower one", "下面的")
    else:
        which = ("the one on the left", "左边的") if dx < 0 else ("the one on the right", "右边的")
    start = block["text"].lower().find(word.lower()) if not zh else block["text"].find(word)
    old = block["text"][start : start + len(word)]
    new = new_word(rng, ctx.texts, old, zh, avoid=block["text"] + spec["blocks"][b]["text"])
    text = block["text"][:start] + new + block["text"][start + len(old) :]
    return Edit("instance", _with_text(spec, a, text), [a], [a],
                {"old": old, "new": new, "which_en": which[0], "which_zh": which[1]}, removal=True)  # fmt: skip


OPERATIONS = {
    "replace": replace,
    "delete": delete,
    "insert": insert,
    "color": color,
    "font": font,
    "size": size,
    "move": move,
    "case": case,
    "translate": translate,
    "reflow": reflow,
    "instance": instance,
}
PREPARE = {"translate": prepare_translate, "instance": prepare_instance}
