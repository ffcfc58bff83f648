"""The words of a meme row: edit instructions (add captions to a template, replace an input
meme's captions) and text-to-image prompts, in English and Chinese, quoting each caption exactly
as drawn (classic captions in capitals)."""

from __future__ import annotations

from typing import Any

#: (where, in English and Chinese) of a caption by its region.
_AT = {"top": ("at the top", "顶部"), "bottom": ("at the bottom", "底部")}
_LOOK = {
    "classic": ("in white bold capitals with a black outline", "用带黑色描边的白色粗体大字"),
    "modern": ("in black text on a white band", "用白色横条上的黑色文字"),
}


def _where(region: str, style: str, lang: str) -> str:
    if style == "modern" and region in _AT:
        band = {"top": ("in a white band above the picture", "在图片上方的白色横条里"),
                "bottom": ("in a white band below the picture", "在图片下方的白色横条里")}[region]  # fmt: skip
        return band[lang == "zh"]
    if region in _AT:
        return _AT[region][lang == "zh"]
    if region == "subject":
        return ("as a label on the main subject", "作为主体上的标签")[lang == "zh"]
    return ("as a label where the old label was", "作为原来标签位置的标签")[lang == "zh"]


def _q(text: str, lang: str) -> str:
    return f"“{text}”" if lang == "zh" else f'"{text}"'


def add_instruction(captions: list[dict[str, Any]], style: str, lang: str) -> str:
    """``captions``: {region, text} as drawn. "Add the caption ... at the top and ... at the bottom"."""
    if lang == "zh":
        parts = "，".join(f"在{_where(c['region'], style, lang)}写上{_q(c['text'], lang)}" for c in captions)
        look = _LOOK[style][1] if style == "classic" else ""
        return f"把这张图做成表情包：{parts}" + (f"，{look}。" if look else "。")
    parts = " and ".join(f"{_q(c['text'], lang)} {_where(c['region'], style, lang)}" for c in captions)
    look = f", {_LOOK[style][0]}" if style == "classic" else ""
    return f"Turn this picture into a meme: add the caption {parts}{look}."


def replace_instruction(old: list[dict[str, Any]], new: list[dict[str, Any]], lang: str) -> str:
    """Old captions as detected ({region, text}; text None where the read is unsure, then the
    caption is named by its place only), new ones as drawn: replace where both have a caption at
    the same place (the first old one there), remove the other old ones, add the rest."""
    new_at = {c["region"]: c for c in new}
    old_at = {c["region"]: c for c in old}
    zh = lang == "zh"
    steps, replaced = [], set()
    for c in old:
        region = c["region"]
        where = _where(region, "classic", lang)
        quoted = f"{_q(c['text'], lang)}" if c["text"] else ""
        if region in new_at and region not in replaced:
            replaced.add(region)
            n = new_at[region]["text"]
            steps.append(f"把{where}的文字{quoted}换成{_q(n, lang)}" if zh
                         else f"replace the caption {quoted + ' ' if quoted else ''}{where} with {_q(n, lang)}")  # fmt: skip
        else:
            steps.append(f"删掉{where}的文字{quoted}" if zh
                         else f"remove the caption {quoted + ' ' if quoted else ''}{where}")  # fmt: skip
    for c in new:
        if c["region"] not in old_at:
            where = _where(c["region"], "classic", lang)
            steps.append(
                f"在{where}加上{_q(c['text'], lang)}" if zh else f"add {_q(c['text'], lang)} {where}"
            )
    if zh:
        return "修改这张表情包：" + "；".join(steps) + "，新文字用带黑色描边的白色粗体大字。"
    text = "; ".join(steps)
    return f"Edit this meme: {text[0].upper()}{text[1:]}, in the same white capitals with a black outline."


def t2i_prompt(description: str | None, captions: list[dict[str, Any]], style: str, lang: str) -> str:
    """A meme described: the picture, then each caption quoted with its place and look."""
    if lang == "zh":
        picture = description or "一张照片"
        parts = "，".join(f"{_where(c['region'], style, lang)}写着{_q(c['text'], lang)}" for c in captions)
        return f"一张表情包：{picture}。{parts}，{_LOOK[style][1]}。"
    picture = (description or "a photo").rstrip(".")
    parts = " and ".join(f"{_q(c['text'], lang)} {_where(c['region'], style, lang)}" for c in captions)
    return f"A meme: {picture[0].lower()}{picture[1:]}, with the caption {parts}, {_LOOK[style][0]}."
