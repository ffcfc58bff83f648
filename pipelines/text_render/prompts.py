"""T2I prompts for a rendered scene, in English and Chinese, dense and concise.

Every text is quoted exactly as drawn, with its position, style and colour, so a model trained on
the prompt can be checked against the image."""

from __future__ import annotations

from typing import Any

from renderers.text.color import color_name, parse_hex

LAYOUT_NAMES = {
    "title": ("title card", "标题卡"),
    "poster": ("poster", "海报"),
    "slide": ("presentation slide", "演示文稿幻灯片"),
    "list": ("list page", "列表页"),
    "paragraph": ("text page", "文字页面"),
    "columns": ("two-column page", "双栏页面"),
    "photo": ("photo with text", "带文字的照片"),
}
ROLE_NAMES = {
    "title": ("the title", "标题"),
    "subtitle": ("the subtitle", "副标题"),
    "body": ("a paragraph", "一段正文"),
    "list": ("a list", "列表"),
    "footer": ("a footer line", "页脚"),
}
TEXTURE_NAMES = {
    "noise": ("mottled", "斑驳"),
    "paper": ("paper-textured", "纸张纹理"),
    "stripes": ("striped", "条纹"),
    "dots": ("polka-dot", "波点"),
}
KIND_ZH = {"serif": "衬线", "sans-serif": "无衬线", "monospace": "等宽"}


def position(box: list[float], width: int, height: int, language: str) -> str:
    cx, cy = (box[0] + box[2]) / 2 / width, (box[1] + box[3]) / 2 / height
    row = 0 if cy < 0.36 else 2 if cy > 0.64 else 1
    col = 0 if cx < 0.36 else 2 if cx > 0.64 else 1
    if language == "en":
        rows, cols = ("top", "middle", "bottom"), ("left", "center", "right")
        if (row, col) == (1, 1):
            return "in the center"
        return f"at the {rows[row]} {cols[col]}" if col != 1 else f"at the {rows[row]}"
    rows, cols = ("上", "中", "下"), ("左", "中", "右")
    if (row, col) == (1, 1):
        return "在正中央"
    return f"在{rows[row]}方" if col == 1 else f"在{rows[row]}{cols[col]}侧"


def describe_background(
    bg: dict[str, Any], photo_caption: tuple[str | None, str | None], language: str
) -> str:
    en = language == "en"
    if bg["kind"] == "photo":
        caption = photo_caption[0 if en else 1] or photo_caption[0]
        if caption:
            return f"over {caption}" if en else f"背景是{caption}"
        return "over a natural photo" if en else "背景是一张自然照片"
    c0 = color_name(parse_hex(bg["colors"][0]), language)
    c1 = color_name(parse_hex(bg["colors"][-1]), language)
    if bg["kind"] == "solid":
        return f"on a plain {c0} background" if en else f"纯{c0}背景"
    if bg["kind"] == "gradient":
        if c0 == c1:
            return f"on a soft {c0} gradient background" if en else f"柔和的{c0}渐变背景"
        return f"on a {c0}-to-{c1} gradient background" if en else f"从{c0}到{c1}的渐变背景"
    name = TEXTURE_NAMES[bg["pattern"]][0 if en else 1]
    return f"on a {name} {c0} background" if en else f"{c0}{name}背景"


def _style(block: dict[str, Any], plan_block: dict[str, Any], height: int, language: str) -> str:
    font = block["font"]
    size = plan_block["size"] / height
    color = color_name(parse_hex(plan_block["color"]), language)
    if language == "en":
        scale = "large" if size > 0.07 else "small" if size < 0.035 else "medium-sized"
        weight = "bold " if font.get("bold") else ""
        extra = " with an outline" if plan_block["outline"] else ""
        extra += " and a drop shadow" if plan_block["shadow"] else ""
        return f"in {scale} {weight}{color} {font['kind']} letters{extra}"
    scale = "大号" if size > 0.07 else "小号" if size < 0.035 else "中号"
    weight = "粗体" if font.get("bold") else ""
    extra = "，带描边" if plan_block["outline"] else ""
    extra += "和投影" if plan_block["shadow"] else ""
    return f"使用{color}{scale}{weight}{KIND_ZH[font['kind']]}字体{extra}"


def _quote(text: str, language: str) -> str:
    return f'"{text}"' if language == "en" else f"“{text}”"


def prompts(
    spec: dict[str, Any], plan: dict[str, Any], boxes: list[list[float]], photo_caption=(None, None)
) -> list[dict[str, str]]:
    """Dense and concise prompts in English and Chinese (the ``instructions`` column)."""
    w, h = spec["width"], spec["height"]
    out = []
    for lang in ("en", "zh"):
        layout = LAYOUT_NAMES[spec["layout"]][0 if lang == "en" else 1]
        bg = describe_background(spec["background"], photo_caption, lang)
        parts, quoted = [], []
        for block, pb, box in zip(spec["blocks"], plan["blocks"], boxes, strict=True):
            text = " / ".join(block["text"].split("\n")) if block["role"] == "list" else block["text"]
            quoted.append(_quote(text, lang))
            role = ROLE_NAMES[block["role"]][0 if lang == "en" else 1]
            where = position(box, w, h, lang)
            style = _style(block, pb, h, lang)
            if lang == "en":
                parts.append(f"{where.capitalize()}, {role} reads {_quote(text, lang)} {style}.")
            else:
                parts.append(f"{where}是{role}{_quote(text, lang)}，{style}。")
        if lang == "en":
            dense = f"A {layout} {bg}. " + " ".join(parts)
            concise = f"A {layout} {bg} with the text {', '.join(quoted)}."
        else:
            dense = f"一张{layout}，{bg}。" + "".join(parts)
            concise = f"一张{layout}，{bg}，上面写着{'、'.join(quoted)}。"
        out.append({"style": "dense", "language": lang, "text": dense})
        out.append({"style": "concise", "language": lang, "text": concise})
    return out
