"""Templated edit instructions, English and Chinese, several phrasings per operation. Every template
quotes the old and new text exactly as drawn; an LLM rewriting stage (``synth rewrite``) can vary
them further and is checked against the same quoted strings."""

from __future__ import annotations

from typing import Any

import numpy as np

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "replace": {
        "en": ["Replace {old} with {new}.", "Change the text {old} to {new}.",
               "Edit the image so that {old} reads {new}.",
               "Swap {old} for {new}, keeping the same font, size and colour."],
        "zh": ["将{old}替换为{new}。", "把文字{old}改成{new}。", "请把图中的{old}改为{new}，保持字体、大小和颜色不变。"],
    },
    "delete": {
        "en": ["Remove the text {old}.", "Delete {old} from the image.",
               "Erase {old} and fill in the background behind it."],
        "zh": ["删除文字{old}。", "把{old}从图中去掉。", "擦除{old}，并补全其后面的背景。"],
    },
    "insert": {
        "en": ["Insert {new} after {anchor}.", "Add the word {new} right after {anchor}.",
               "Put {new} after {anchor}, in the same style."],
        "zh": ["在{anchor}后面插入{new}。", "在{anchor}之后加上{new}。", "在{anchor}后添加{new}，样式保持一致。"],
    },
    "color": {
        "en": ["Change the colour of {ref} to {color}.", "Make {ref} {color}.",
               "Recolour {ref} in {color}, leaving everything else unchanged."],
        "zh": ["把{ref}的颜色改为{color}。", "将{ref}变成{color}。", "把{ref}改成{color}，其余内容保持不变。"],
    },
    "font": {
        "en": ["Set {ref} in {style}.", "Change the font of {ref} to {style}.",
               "Render {ref} in {style}, keeping the words the same."],
        "zh": ["把{ref}的字体改为{style}。", "将{ref}换成{style}。", "把{ref}改用{style}，文字内容不变。"],
    },
    "size": {
        "en": ["Make {ref} {bigger}.", "Scale {ref} to about {pct}% of its size.",
               "{Increase} the font size of {ref}, {keep}."],
        "zh": ["把{ref}{bigger}。", "将{ref}的字号调整为原来的约{pct}%。", "{Increase}{ref}的字号，{keep}。"],
    },
    "move": {
        "en": ["Move {ref} {direction}.", "Shift {ref} {direction}, keeping its style.",
               "Place {ref} further {direction} and restore the background where it was."],
        "zh": ["把{ref}向{direction}移动。", "将{ref}往{direction}挪一些，样式不变。",
               "把{ref}移到更靠{direction}的位置，并恢复原处的背景。"],
    },
    "case": {
        "en": ["Change {ref} to {case}: {new}.", "Write {ref} in {case}.", "Set {ref} in {case}, as {new}."],
        "zh": ["将{ref}改为{case}：{new}。", "把{ref}改成{case}。", "把{ref}写成{case}，即{new}。"],
    },
    "translate": {
        "en": ["Translate {old} into {lang}: {new}.", "Replace {old} with its {lang} translation {new}.",
               "Render {old} in {lang} instead ({new}), in the same place and style."],
        "zh": ["把{old}翻译成{lang}：{new}。", "将{old}替换为对应的{lang}{new}。", "把{old}改写为{lang}“{bare_new}”，位置和样式不变。"],
    },
    "reflow": {
        "en": ["Replace {old} with {new} and let the text rewrap.", "Change {old} to {new}.",
               "Edit the paragraph: {old} becomes {new}; reflow the lines to fit."],
        "zh": ["把{old}替换为{new}，并让文字重新排版。", "将{old}改为{new}。", "修改段落：把{old}换成{new}，行尾自动换行。"],
    },
    "instance": {
        "en": ["There are two {old}; replace {which} with {new}.", "Change only {which} of the two {old} to {new}.",
               "Of the two {old}, edit {which} to read {new} and leave the other as it is."],
        "zh": ["图中有两处{old}，把{which}替换为{new}。", "只把{which}{old}改为{new}。",
               "两处{old}中，只将{which}改成{new}，另一处保持不变。"],
    },
}  # fmt: skip

DIRECTIONS_EN = {"up": "up", "down": "down", "left": "to the left", "right": "to the right"}


def _quote(text: str, language: str) -> str:
    return f"“{text}”" if language == "zh" else f'"{text}"'


def fill(op: str, slots: dict[str, Any], language: str, k: int) -> str:
    """Template ``k`` of ``op`` in ``language`` with the slots filled (texts quoted exactly)."""
    zh = language == "zh"
    values = {
        "old": _quote(slots.get("old", ""), language),
        "new": _quote(slots.get("new", ""), language),
        "bare_new": slots.get("new", ""),
        "anchor": _quote(slots.get("anchor", ""), language),
        "ref": slots.get("ref_zh" if zh else "ref_en", ""),
        "color": slots.get("color_zh" if zh else "color_en", ""),
        "style": slots.get("style_zh" if zh else "style_en", ""),
        "case": slots.get("case_zh" if zh else "case_en", ""),
        "lang": slots.get("lang_zh" if zh else "lang_en", ""),
        "which": slots.get("which_zh" if zh else "which_en", ""),
        "keep": slots.get("keep_zh" if zh else "keep_en", ""),
        "direction": slots.get("direction_zh")
        if zh
        else DIRECTIONS_EN.get(slots.get("direction_en", ""), ""),
        "pct": int(round(100 * slots.get("factor", 1))),
    }
    bigger = slots.get("bigger")
    values["bigger"] = ("放大" if bigger else "缩小") if zh else ("larger" if bigger else "smaller")
    values["Increase"] = ("增大" if bigger else "减小") if zh else ("Increase" if bigger else "Decrease")
    return TEMPLATES[op][language][k].format(**values)


def instructions(
    op: str, slots: dict[str, Any], primary: str, rng: np.random.Generator
) -> tuple[str, list[dict]]:
    """(the primary instruction, variants): per language the first template ('concise') and one
    drawn from the others ('natural'); the primary is the natural one in the scene's language."""
    variants = []
    for language in ("en", "zh"):
        n = len(TEMPLATES[op][language])
        k = 1 + int(rng.integers(n - 1))
        variants.append({"style": "concise", "language": language, "text": fill(op, slots, language, 0)})
        variants.append({"style": "natural", "language": language, "text": fill(op, slots, language, k)})
    primary_text = next(v["text"] for v in variants if v["language"] == primary and v["style"] == "natural")
    return primary_text, variants
