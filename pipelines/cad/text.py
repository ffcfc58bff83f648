"""The words of ``synth cad`` in English and Chinese, in a drafter's language: what a part and its
features are called, how a drawing is captioned, what an edit asks for.

Every number comes from the spec (feature values) or the B-rep facts (overall size), so a caption
states what the solid is. Phrasings vary with a hash of what is described, never with an rng, so
the same structure always gets the same caption.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pipelines.diagram.kind import Text2

KIND_NAMES: dict[str, Text2] = {
    "plate": Text2("rectangular plate", "矩形板"),
    "bracket": Text2("L-bracket", "L形支架"),
    "flange": Text2("round flange", "圆形法兰"),
    "shaft": Text2("stepped shaft", "阶梯轴"),
    "housing": Text2("open-top housing", "敞口箱体"),
}
SHORT_NAMES: dict[str, Text2] = {  # what an instruction calls the body
    "plate": Text2("plate", "板"),
    "bracket": Text2("bracket", "支架"),
    "flange": Text2("flange", "法兰"),
    "shaft": Text2("shaft", "轴"),
    "housing": Text2("housing", "箱体"),
}
MEASURE_WORDS = {"plate": "块", "bracket": "个", "flange": "个", "shaft": "根", "housing": "个"}

# Every feature name of checks.FEATURES (a name means the same feature in every kind that has it).
FEATURE_NAMES: dict[str, Text2] = {
    "corner_fillet": Text2("the corner fillets", "转角圆角"),
    "top_chamfer": Text2("the top-edge chamfer", "顶面棱边倒角"),
    "holes": Text2("the mounting holes", "安装孔"),
    "counterbore": Text2("the counterbores", "沉孔"),
    "slot": Text2("the slot", "长圆槽"),
    "pocket": Text2("the pocket", "矩形凹槽"),
    "rib": Text2("the stiffening rib", "加强筋"),
    "base_holes": Text2("the base holes", "底板孔"),
    "upright_holes": Text2("the upright holes", "立板孔"),
    "rim_chamfer": Text2("the rim chamfer", "外缘倒角"),
    "hub": Text2("the hub", "轮毂"),
    "hub_fillet": Text2("the hub fillet", "轮毂根部圆角"),
    "bore": Text2("the centre bore", "中心孔"),
    "bolt_holes": Text2("the bolt holes", "螺栓孔"),
    "end_chamfer": Text2("the end chamfers", "端部倒角"),
    "shoulder_fillet": Text2("the shoulder fillets", "轴肩圆角"),
    "keyway": Text2("the keyway", "键槽"),
    "outer_fillet": Text2("the outer corner fillets", "外转角圆角"),
    "base_flange": Text2("the base flange", "底座凸缘"),
    "pocket_fillet": Text2("the inner corner fillets", "内腔转角圆角"),
    "rim_holes": Text2("the rim holes", "顶沿孔"),
    "flange_holes": Text2("the flange holes", "凸缘孔"),
}
FIELD_NAMES: dict[str, Text2] = {
    "diameter": Text2("diameter", "直径"),
    "radius": Text2("radius", "半径"),
    "length": Text2("length", "长度"),
    "depth": Text2("depth", "深度"),
    "width": Text2("width", "宽度"),
    "thickness": Text2("thickness", "厚度"),
    "height": Text2("height", "高度"),
    "overhang": Text2("overhang", "伸出量"),
}
VIEW_NAMES: dict[str, Text2] = {
    "front": Text2("front view", "主视图"),
    "top": Text2("top view", "俯视图"),
    "right": Text2("right view", "右视图"),
    "iso": Text2("isometric view", "正等轴测图"),
}
ANGLE_NAMES: dict[str, Text2] = {
    "third": Text2("third-angle", "第三角"),
    "first": Text2("first-angle", "第一角"),
}
ORTHO = ("front", "top", "right")
WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
ZH_DIGITS = "零一二三四五六七八九十"


# -- numbers and small words ---------------------------------------------------------------------


def fmt(x: float) -> str:
    """A millimetre value as a drawing writes it: "6.5", "12" (never "12.0" or "-0")."""
    s = f"{float(x):.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def count_word(n: int) -> str:
    return WORDS[n] if 0 <= n < len(WORDS) else str(n)


def ordinal(i: int) -> Text2:
    """The i-th (0-based) item: "second" / "第二"."""
    en = ORDINALS[i] if i < len(ORDINALS) else f"{i + 1}th"
    return Text2(en, "第" + (ZH_DIGITS[i + 1] if i + 1 <= 10 else str(i + 1)))


def article(phrase: str) -> str:
    """The article for a phrase that may start with a number, as it is spoken ("an 8 mm", "an 18 x 40 mm")."""
    head = phrase.split()[0] if phrase else ""
    digits = head.split(".")[0]
    if digits.isdigit():
        spoken_an = digits.startswith("8") or (digits[:2] in ("11", "18") and len(digits) % 3 == 2)
        return "an" if spoken_an else "a"
    return "an" if head[:1].lower() in "aeiou" or head.startswith("L-") else "a"


def a(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def joined(items: list[str]) -> str:
    """English list: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def size3(size: list[float]) -> Text2:
    w, d, h = (fmt(v) for v in size)
    return Text2(f"{w} x {d} x {h} mm", f"{w}×{d}×{h} mm")


def digest(*keys: Any) -> int:
    """A stable integer from JSON-able keys: picks a phrasing without an rng."""
    blob = json.dumps(keys, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "big")


def pick(options: list[str] | tuple[str, ...], *keys: Any) -> str:
    return options[digest(*keys) % len(options)]


# -- features ------------------------------------------------------------------------------------


def _holes(f: dict) -> Text2:
    """A hole feature with its pattern, e.g. "eight 6.5 mm through holes in a 4 x 2 grid"."""
    n, d = int(f["count"]), fmt(f["diameter"])
    through = f.get("through", True)
    kind_en = "through" if through else "blind"
    kind_zh = "通孔" if through else "盲孔"
    deep_en = "" if through else f" {fmt(f['depth'])} mm deep"
    deep_zh = "" if through else f"、深{fmt(f['depth'])} mm"
    plural = "s" if n != 1 else ""
    pattern = f["pattern"]
    if pattern == "centre":
        return Text2(f"a {d} mm centre bore", f"直径{d} mm的中心通孔")
    if pattern == "polar":
        bc = fmt(f["bolt_circle"])
        return Text2(
            f"{count_word(n)} {d} mm bolt holes equally spaced on a {bc} mm bolt circle",
            f"{n}个直径{d} mm的螺栓孔，均布在直径{bc} mm的分布圆上",
        )
    head_en = f"{count_word(n)} {d} mm {kind_en} hole{plural}{deep_en}"
    head_zh = f"{n}个直径{d} mm{deep_zh}的{kind_zh}"
    if pattern == "corners":
        where = ("in the corners of the rim", "位于顶沿四角") if f["name"] == "rim_holes" else (
            "in the corners of the flange", "位于凸缘四角")  # fmt: skip
        return Text2(f"{head_en} {where[0]}", f"{head_zh}，{where[1]}")
    cols, rows = int(f["cols"]), int(f["rows"])
    px, py = (fmt(v) for v in f["pitch"])
    on = {"base_holes": (" in the base", "底板上"), "upright_holes": (" in the upright", "立板上")}
    on_en, on_zh = on.get(f["name"], ("", ""))
    if cols == 1 or rows == 1:
        pitch = py if cols == 1 else px
        return Text2(
            f"{head_en}{on_en} in a row on a {pitch} mm pitch",
            f"{on_zh}{head_zh}，排成一排，孔距{pitch} mm",
        )
    return Text2(
        f"{head_en}{on_en} in a {cols} x {rows} grid on a {px} x {py} mm pitch",
        f"{on_zh}{head_zh}，呈{cols}×{rows}阵列，孔距{px}×{py} mm",
    )


FILLET_WHERE = {  # name -> (en, zh) where the fillet runs
    "corner_fillet": ("on the vertical corners", "竖直转角处"),
    "hub_fillet": ("at the root of the hub", "轮毂根部"),
    "shoulder_fillet": ("at the shoulders", "轴肩处"),
    "outer_fillet": ("on the outer vertical corners", "外侧竖直转角处"),
    "pocket_fillet": ("on the inner corners of the cavity", "内腔转角处"),
}
CHAMFER_WHERE = {
    "top_chamfer": ("on the top edges", "顶面棱边"),
    "rim_chamfer": ("on the top rim", "顶面外缘"),
    "end_chamfer": ("on both ends", "两端"),
}


def feature_phrase(kind: str, f: dict) -> Text2:
    """One feature with its values, as a noun phrase with its article ("a 3 mm fillet on the
    vertical corners"); zh without a leading verb, so it follows 带 or 添加."""
    t, name = f["type"], f["name"]
    if t == "hole":
        return _holes(f)
    if t == "fillet":
        r = fmt(f["radius"])
        where_en, where_zh = FILLET_WHERE[name]
        if kind == "bracket":
            where_en, where_zh = "on the outer corners of the base and the upright", "底板和立板外角处"
        return Text2(f"{a(r + ' mm')} fillet {where_en}", f"{where_zh}R{r} mm的圆角")
    if t == "chamfer":
        c = fmt(f["length"])
        where_en, where_zh = CHAMFER_WHERE[name]
        return Text2(f"{a(c + ' mm')} chamfer {where_en}", f"{where_zh}{c} mm的倒角")
    if t == "counterbore":
        d, depth = fmt(f["diameter"]), fmt(f["depth"])
        return Text2(
            f"{d} mm counterbores {depth} mm deep on the holes", f"孔口直径{d} mm、深{depth} mm的沉孔"
        )
    if t == "slot":
        size = f"{fmt(f['length'])} x {fmt(f['width'])} mm"
        across = f.get("angle", 0) % 180 != 0
        run_en, run_zh = ("front to back", "前后") if across else ("left to right", "左右")
        return Text2(
            f"{a(size)} through slot running {run_en}",
            f"{run_zh}走向的{fmt(f['length'])}×{fmt(f['width'])} mm长圆通槽",
        )
    if t == "pocket":
        sx, sy = (fmt(v) for v in f["size"])
        depth = fmt(f["depth"])
        return Text2(
            f"{a(sx + ' x ' + sy + ' mm')} pocket {depth} mm deep", f"{sx}×{sy} mm、深{depth} mm的矩形凹槽"
        )
    if t == "rib":
        th, ln, ht = fmt(f["thickness"]), fmt(f["length"]), fmt(f["height"])
        return Text2(
            f"{a(th + ' mm')} triangular stiffening rib, {ln} mm along the base and {ht} mm up the upright",
            f"厚{th} mm的三角形加强筋（沿底板{ln} mm，沿立板{ht} mm）",
        )
    if t == "hub":
        d, h = fmt(f["diameter"]), fmt(f["height"])
        return Text2(
            f"{a(d + ' mm')} hub standing {h} mm proud of the face", f"直径{d} mm、高出端面{h} mm的轮毂"
        )
    if t == "keyway":
        ln, w, depth = fmt(f["length"]), fmt(f["width"]), fmt(f["depth"])
        step = ordinal(int(f["step"]))
        return Text2(
            f"{a(ln + ' x ' + w + ' mm')} keyway {depth} mm deep on the {step.en} step",
            f"{step.zh}段轴上长{ln} mm、宽{w} mm、深{depth} mm的键槽",
        )
    if t == "flange":
        th, o = fmt(f["thickness"]), fmt(f["overhang"])
        return Text2(
            f"{a(th + ' mm')} thick base flange overhanging {o} mm all round",
            f"四周伸出{o} mm、厚{th} mm的底座凸缘",
        )
    raise KeyError(f"no words for a {t!r} feature ({name})")


def _body(spec: dict) -> Text2:
    """What the body's own parameters add to its overall size."""
    p, kind = spec["params"], spec["kind"]
    if kind == "bracket":
        return Text2(
            f"base and upright {fmt(p['thickness'])} mm thick", f"底板和立板厚{fmt(p['thickness'])} mm"
        )
    if kind == "flange":
        return Text2(
            f"{fmt(p['diameter'])} mm across and {fmt(p['thickness'])} mm thick",
            f"直径{fmt(p['diameter'])} mm，厚{fmt(p['thickness'])} mm",
        )
    if kind == "shaft":
        steps = p["steps"]
        en = ", ".join(f"ø{fmt(s['diameter'])} x {fmt(s['length'])}" for s in steps)
        zh = "、".join(f"ø{fmt(s['diameter'])}×{fmt(s['length'])}" for s in steps)
        n = len(steps)
        return Text2(f"of {count_word(n)} steps ({en} mm, left to right)", f"共{n}段（从左到右{zh} mm）")
    if kind == "housing":
        return Text2(
            f"walls {fmt(p['wall'])} mm and floor {fmt(p['floor'])} mm thick",
            f"壁厚{fmt(p['wall'])} mm，底厚{fmt(p['floor'])} mm",
        )
    return Text2("", "")


def describe_part(spec: dict | None, facts: dict) -> Text2:
    """The part in a sentence or two: kind, overall size (from the solid), body and features with
    their values (from the spec). A file part (spec None) is described from its facts alone."""
    if spec is None:
        return _describe_file(facts)
    kind = spec["kind"]
    name, size = KIND_NAMES[kind], size3(facts["bbox_size"])
    body = _body(spec)
    sep = " " if body.en.startswith("of ") else ", "
    head_en = f"{a(size.en)} {name.en}" + (f"{sep}{body.en}" if body.en else "")
    head_zh = f"一{MEASURE_WORDS[kind]}外形{size.zh}的{name.zh}" + (f"，{body.zh}" if body.zh else "")
    feats = [feature_phrase(kind, f) for f in spec.get("features", [])]
    if not feats:
        return Text2(f"{head_en[0].upper()}{head_en[1:]}.", f"{head_zh}。")
    en = f"{head_en[0].upper()}{head_en[1:]}, with {joined([f.en for f in feats])}."
    zh = f"{head_zh}，带有{'；'.join(f.zh for f in feats)}。"
    return Text2(en, zh)


def _describe_file(facts: dict) -> Text2:
    """A part from a file: its proportions (longest side scaled to 100), faces and holes."""
    size = [float(v) for v in facts["bbox_size"]]
    k = 100.0 / max(max(size), 1e-9)
    dims = [fmt(round(v * k, 1)) for v in size]
    en = f"A mechanical part of {' x '.join(dims)} (its longest side scaled to 100)"
    zh = f"一个机械零件，外形{'×'.join(dims)}（最长边缩放为100）"
    extra_en, extra_zh = [], []
    if facts.get("faces") is not None:
        extra_en.append(f"{facts['faces']} faces")
        extra_zh.append(f"{facts['faces']}个面")
    holes = facts.get("holes") or []
    if holes:
        n = sum(h["count"] for h in holes)
        ds = sorted({fmt(round(h["diameter"] * k, 1)) for h in holes}, key=float)
        extra_en.append(f"{count_word(n)} hole{'s' if n != 1 else ''} ({', '.join(ds)} across on that scale)")
        extra_zh.append(f"{n}个孔（按该比例直径{'、'.join(ds)}）")
    if extra_en:
        en += ", with " + joined(extra_en)
        zh += "，有" + "、".join(extra_zh)
    return Text2(en + ".", zh + "。")


# -- captions ------------------------------------------------------------------------------------


def shown_views(s: dict) -> list[str]:
    """The views drawn, in sheet order."""
    if s["layout"] == "single":
        return [s["view"]]
    views = [*ORTHO, *(["iso"] if s.get("iso") else [])]
    return [v for v in views if v != s.get("omit")]


def _views_text(views: list[str]) -> Text2:
    ortho = [v for v in views if v != "iso"]
    en_text = joined(ortho) + (" views" if len(ortho) > 1 else " view") if ortho else ""
    if "iso" in views:
        en_text = f"{en_text} and an isometric view" if en_text else "an isometric view"
    zh_text = "、".join(VIEW_NAMES[v].zh for v in views)
    return Text2(en_text, zh_text)


def _style(s: dict, holes: bool) -> Text2:
    """How the lines look; the iso has no hidden lines and centre lines only in flat views. A
    shaded drawing keeps every line over its shading."""
    ortho = any(v != "iso" for v in shown_views(s))
    en, zh = ["visible edges as thick solid lines"], ["可见轮廓线为粗实线"]
    if ortho:
        en.append("hidden edges as thin dashed lines")
        zh.append("不可见轮廓线为细虚线")
        if holes:
            en.append("centre lines through the holes")
            zh.append("孔画有点画线中心线")
    if s["style"] == "shaded":
        return Text2(
            "shaded in light grey beneath its lines, with " + joined(en),
            "浅灰色着色渲染并叠加线条，" + "，".join(zh),
        )
    return Text2("as a black-and-white line drawing with " + joined(en), "黑白线条图，" + "，".join(zh))


def _drawing(s: dict, holes: bool) -> Text2:
    """What is drawn (the sheet or the one view) and how, without the part."""
    style = _style(s, holes)
    if s["layout"] == "single":
        v = VIEW_NAMES[s["view"]]
        en = pick(
            (
                f"The {v.en} of a part alone, untitled, {style.en}",
                f"A single {v.en} of a mechanical part, {style.en}",
                f"One engineering view, the {v.en}, {style.en}",
            ),
            s,
            "single-en",
        )
        zh = pick(
            (f"单独一个{v.zh}（无标题），{style.zh}", f"零件的{v.zh}，仅此一个视图，{style.zh}"),
            s,
            "single-zh",
        )
        return Text2(en, zh)
    angle = ANGLE_NAMES[s["angle"]]
    views = _views_text(shown_views(s))
    missing = s.get("omit")
    miss_en = f" (the {VIEW_NAMES[missing].en} left out)" if missing else ""
    miss_zh = f"（缺{VIEW_NAMES[missing].zh}）" if missing else ""
    en = pick(
        (
            f"A {angle.en} multi-view engineering drawing with {views.en}{miss_en}, each titled, {style.en}",
            f"An engineering drawing sheet in {angle.en} projection showing {views.en}{miss_en}, {style.en}",
            f"A {angle.en} orthographic sheet: {views.en}{miss_en}, titled below each view, {style.en}",
        ),
        s,
        "sheet-en",
    )
    zh = pick(
        (
            f"一张{angle.zh}投影的多视图工程图，包含{views.zh}{miss_zh}，各视图下方有标题，{style.zh}",
            f"按{angle.zh}投影法绘制的工程图纸：{views.zh}{miss_zh}，{style.zh}",
        ),
        s,
        "sheet-zh",
    )
    return Text2(en, zh)


def _spec(s: dict) -> dict | None:
    """The parametric spec, or None for a part read from a file."""
    part = s.get("part")
    return part if isinstance(part, dict) and "kind" in part else None


def describe(s: dict, facts: dict) -> Text2:
    """A dense text-to-image caption: the drawing (projection, views, style), then the part."""
    drawing = _drawing(s, bool(facts.get("holes")))
    part = describe_part(_spec(s), facts)
    joiner = pick((". It shows ", ". The part: ", ". The part drawn is "), s, "join-en")
    body = part.en[0].lower() + part.en[1:]
    return Text2(f"{drawing.en}{joiner}{body}", f"{drawing.zh}。所画零件：{part.zh}")


# -- instructions --------------------------------------------------------------------------------


def _kind_of(edit: dict, s: dict | None) -> str:
    """The part kind a feature edit is on: the edit says so (edits.propose writes it)."""
    spec = _spec(s) if s else None
    kind = edit.get("kind") or edit.get("part_kind") or (spec["kind"] if spec else None)
    if kind is None:
        raise KeyError(f"a {edit['op']} edit must name its part kind")
    return kind


def instruct(edit: dict, s: dict | None = None) -> Text2:
    """The edit as an instruction that names the feature and its values."""
    op = edit["op"]
    if op == "complete_view":
        return _complete_view(edit, s)
    if op == "complete_iso":
        return Text2(
            pick(
                (
                    "Add the isometric view of the part shown in these three views.",
                    "Draw an isometric view of this part in the free corner of the sheet.",
                    "Complete the sheet with the part's isometric view, worked out from the front, top and right views.",
                ),
                edit,
                "iso-en",
            ),
            pick(
                ("根据这三个视图，补画该零件的正等轴测图。", "在图纸空白处补画零件的轴测图。"), edit, "iso-zh"
            ),
        )
    kind = _kind_of(edit, s)
    if op == "add_feature":
        phrase = feature_phrase(kind, edit["value"])
        return Text2(f"Add {phrase.en}.", f"添加{phrase.zh}。")
    if op == "remove_feature":
        name = FEATURE_NAMES[edit["feature"]]
        return Text2(f"Remove {name.en}.", f"去掉{name.zh}。")
    if op == "resize_feature":
        return _resize(edit)
    if op == "change_dimension":
        return _dimension(kind, edit)
    raise KeyError(f"no instruction for edit {op!r}")


def _complete_view(edit: dict, s: dict | None) -> Text2:
    view = edit["view"]
    angle = ANGLE_NAMES[edit.get("angle") or (s or {}).get("angle", "third")]
    others = [v for v in ORTHO if v != view]
    v = VIEW_NAMES[view]
    from_en = " and ".join(others)
    from_zh = "和".join(VIEW_NAMES[o].zh for o in others)
    en = pick(
        (
            f"Draw the missing {v.en} of this {angle.en} drawing, projected from the {from_en} views.",
            f"Complete this {angle.en} drawing: add the {v.en}, projected from the {from_en} views.",
            f"The {v.en} is missing from this {angle.en} sheet; draw it in its place from the {from_en} views.",
        ),
        edit,
        "view-en",
    )
    zh = pick(
        (
            f"根据{from_zh}，补画这张{angle.zh}投影图中缺少的{v.zh}。",
            f"这张{angle.zh}投影图缺少{v.zh}，请由{from_zh}投影补画出来。",
        ),
        edit,
        "view-zh",
    )
    return Text2(en, zh)


def _resize(edit: dict) -> Text2:
    name = FEATURE_NAMES[edit["feature"]]
    field = FIELD_NAMES[edit["field"]]
    was, value = fmt(edit["was"]), fmt(edit["value"])
    up = edit["value"] > edit["was"]
    if edit["field"] == "diameter" and edit.get("type") == "hole":
        verb = "Enlarge" if up else "Reduce"
        return Text2(
            f"{verb} {name.en} from {was} mm to {value} mm in diameter.",
            f"将{name.zh}的直径由{was} mm{'扩大' if up else '缩小'}为{value} mm。",
        )
    if edit.get("type") == "chamfer":
        verb = "Enlarge" if up else "Reduce"
        return Text2(
            f"{verb} {name.en} from {was} mm to {value} mm.",
            f"将{name.zh}由{was} mm{'加大' if up else '减小'}为{value} mm。",
        )
    verb = "Increase" if up else "Reduce"
    return Text2(
        f"{verb} the {field.en} of {name.en} from {was} mm to {value} mm.",
        f"将{name.zh}的{field.zh}由{was} mm{'增大' if up else '减小'}为{value} mm。",
    )


DIMENSION_WORDS = {  # body field -> (en adjective, zh noun)
    "thickness": ("thick", "厚度"),
    "height": ("tall", "高度"),
    "length": ("long", "长度"),
    "diameter": ("in diameter", "直径"),
}


def _dimension(kind: str, edit: dict) -> Text2:
    field = edit["field"]
    adj, noun = DIMENSION_WORDS[field]
    was, value = fmt(edit["was"]), fmt(edit["value"])
    if kind == "shaft":
        step = ordinal(int(edit["step"]))
        return Text2(
            f"Make the {step.en} step of the shaft {value} mm {adj} instead of {was} mm.",
            f"将轴的{step.zh}段{noun}由{was} mm改为{value} mm。",
        )
    body = SHORT_NAMES[kind]
    return Text2(
        f"Make the {body.en} {value} mm {adj} instead of {was} mm.",
        f"将{body.zh}的{noun}由{was} mm改为{value} mm。",
    )
