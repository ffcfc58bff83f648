"""The words of ``synth geometry`` in English and Chinese, in textbook language: what a solid is
called, how a figure is described, what an edit asks for."""

from __future__ import annotations

from typing import Any

from pipelines.diagram.kind import Text2

POLYGON = {3: ("triangular", "三"), 4: ("square", "四"), 5: ("pentagonal", "五"), 6: ("hexagonal", "六")}


def solid_name(name: str, p: dict[str, Any]) -> Text2:
    """``"the cube"``-style names (without the article) with the textbook title of the solid."""
    n = p.get("n", 4)
    en_n, zh_n = POLYGON.get(n, (f"{n}-gonal", str(n)))
    if name == "cube":
        return Text2("cube", "正方体")
    if name == "cuboid":
        return Text2("cuboid", "长方体")
    if name == "prism":
        if p.get("oblique"):
            return Text2(f"oblique {en_n} prism", f"斜{zh_n}棱柱")
        return Text2(f"right regular {en_n} prism", f"正{zh_n}棱柱")
    if name == "pyramid":
        return Text2(f"regular {en_n} pyramid", f"正{zh_n}棱锥")
    if name == "tetrahedron":
        return (
            Text2("regular tetrahedron", "正四面体") if p.get("regular") else Text2("tetrahedron", "四面体")
        )
    if name == "frustum":
        return Text2(f"regular {en_n} frustum", f"正{zh_n}棱台")
    if name == "cylinder":
        return Text2("cylinder", "圆柱")
    if name == "cone":
        return Text2("cone", "圆锥")
    if name == "sphere":
        return Text2("sphere", "球")
    if name == "cone_on_cylinder":
        return Text2("solid made of a cone on a cylinder", "由圆锥和圆柱组成的组合体")
    if name == "cut_cube":
        return Text2("cube with one corner cut off", "截去一个角的正方体")
    raise KeyError(name)


def sizes(name: str, p: dict[str, Any]) -> Text2:
    """The given dimensions, as a problem states them."""
    if name == "cube":
        return Text2(f"edge length {p['a']}", f"棱长为{p['a']}")
    if name == "cut_cube":
        return Text2(
            f"edge length {p['a']}, the corner cut {p['t']} from it along each edge",
            f"棱长为{p['a']}，沿每条棱距顶点{p['t']}处截去一个角",
        )
    if name == "cuboid":
        return Text2(
            f"AB = {p['a']}, AD = {p['b']}, AA1 = {p['c']}", f"AB = {p['a']}，AD = {p['b']}，AA1 = {p['c']}"
        )
    if name in ("prism", "frustum") and "a" in p:
        top = f", top edge {p['b']}" if name == "frustum" else ""
        top_zh = f"，上底边长{p['b']}" if name == "frustum" else ""
        return Text2(f"base edge {p['a']}{top}, height {p['h']}", f"底面边长{p['a']}{top_zh}，高为{p['h']}")
    if name == "pyramid":
        return Text2(f"base edge {p['a']}, height {p['h']}", f"底面边长为{p['a']}，高为{p['h']}")
    if name == "tetrahedron" and p.get("regular"):
        return Text2(f"edge length {p['a']}", f"棱长为{p['a']}")
    if name == "cylinder":
        return Text2(f"base radius {p['r']}, height {p['h']}", f"底面半径为{p['r']}，高为{p['h']}")
    if name == "cone":
        return Text2(f"base radius {p['r']}, height {p['h']}", f"底面半径为{p['r']}，高为{p['h']}")
    if name == "sphere":
        return Text2(f"radius {p['r']}", f"半径为{p['r']}")
    if name == "cone_on_cylinder":
        return Text2(
            f"radius {p['r']}, cylinder height {p['h1']}, cone height {p['h2']}",
            f"底面半径为{p['r']}，圆柱高为{p['h1']}，圆锥高为{p['h2']}",
        )
    return Text2("", "")


def face_label(face) -> str:
    """A face as a textbook names it: from its first label in alphabetical order, towards the
    smaller neighbour ("ABCD", not "DCBA")."""
    f = list(face)
    i = f.index(min(f))
    f = f[i:] + f[:i]
    if len(f) > 2 and f[-1] < f[1]:
        f = [f[0], *reversed(f[1:])]
    return "".join(f)


def joined(labels: list[str], zh: bool = False) -> str:
    if zh:
        return "、".join(labels)
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def volume_formula(name: str, p: dict[str, Any]) -> str:
    """The formula a textbook's working starts from."""
    return {
        "cube": "a³", "cuboid": "abc", "prism": "S·h (base area times height)",
        "pyramid": "S·h/3", "tetrahedron": "S·h/3", "frustum": "h(S + S' + √(SS'))/3",
        "cylinder": "πr²h", "cone": "πr²h/3", "sphere": "4πr³/3",
        "cone_on_cylinder": "πr²h1 + πr²h2/3", "cut_cube": "a³ - t³/6 (the cube less the cut-off corner)",
    }[name]  # fmt: skip


def area_formula(name: str, p: dict[str, Any]) -> str:
    return {
        "cylinder": "2πr² + 2πrh", "cone": "πr² + πrl (l the slant height)", "sphere": "4πr²",
        "cone_on_cylinder": "πr² + 2πrh1 + πrl (l the cone's slant height)",
    }.get(name, "the sum of the faces' areas")  # fmt: skip


def title(solid) -> str:
    return solid.title or ""


def describe(s: dict[str, Any], solid, made, labels: list[str] | None = None) -> Text2:
    """The figure in a problem's words: the solid, its size, the constructions made, and (for a
    t2i row) every label drawn."""
    name = solid_name(s["solid"], s["params"])
    size = sizes(s["solid"], s["params"])
    t = title(solid)
    given_en = f" {t}".rstrip() + (f" with {size.en}" if size.en else "")
    if labels is None:  # a question's preamble
        en = f"In the {name.en}{given_en},"
        zh = f"在{size.zh}的{name.zh}{t}中" if size.zh else f"在{name.zh}{t}中"
    else:  # a figure to draw
        en = f"A textbook figure of the {name.en}{given_en},"
        zh = f"一幅{size.zh}的{name.zh}{t}的教科书插图" if size.zh else f"一幅{name.zh}{t}的教科书插图"
    en_steps, zh_steps = [], []
    for c in made:
        step = made_text(c, solid)
        en_steps.append(step.en)
        zh_steps.append(step.zh)
    if en_steps:
        en += " " + "; ".join(en_steps) + "."
        zh += "，" + "，".join(zh_steps) + "。"
    else:
        en = en.rstrip(",") + "."
        zh += "。"
    if labels is not None:
        view = "oblique (cabinet) projection" if s["camera"]["projection"] == "oblique" else "perspective"
        view_zh = "斜二测画法" if s["camera"]["projection"] == "oblique" else "透视图"
        en += f" Drawn in {view}, hidden edges dashed; labelled points: {joined(labels)}."
        zh += f"用{view_zh}画出，被遮挡的线画成虚线；图中标出的点：{joined(labels, zh=True)}。"
    return Text2(en, zh)


def made_text(c, solid) -> Text2:
    """A construction already in the figure, as a statement."""
    p = c.params
    if c.op in ("space_diagonal", "face_diagonal"):
        return Text2(f"the diagonal {p['a']}{p['b']} is drawn", f"连接{p['a']}{p['b']}")
    if c.op == "midpoint":
        x, y = p["edge"]
        return Text2(
            f"{p['name']} is the midpoint of {x}{y}, joined to {p['to']}",
            f"{p['name']}为{x}{y}的中点，连接{p['to']}{p['name']}",
        )
    if c.op == "section":
        poly = "".join(c.facts["polygon"])
        return Text2(
            f"the plane through {joined(p['through'])} cuts the section {poly}",
            f"过{'、'.join(p['through'])}的平面截得截面{poly}",
        )
    if c.op == "perpendicular":
        foot = c.facts["foot"]
        where = face_label(p["plane"] if "plane" in p else solid.faces[p["face"]])
        return Text2(
            f"{p['point']}{foot} is perpendicular to the plane {where} with foot {foot}",
            f"{p['point']}{foot}⊥平面{where}，垂足为{foot}",
        )
    if c.op.endswith("_sphere"):
        which = ("inscribed", "内切") if c.op == "inscribed_sphere" else ("circumscribed", "外接")
        return Text2(
            f"its {which[0]} sphere with centre {c.facts['centre']} is drawn",
            f"画出其{which[1]}球，球心为{c.facts['centre']}",
        )
    if c.op == "net":
        return Text2("it is unfolded into its net", "将其展开成平面展开图")
    return Text2(
        f"it is turned by {p['angle']}° about {axis_en(p['axis'])}",
        f"将其绕{axis_zh(p['axis'])}旋转{p['angle']}°",
    )


def axis_en(axis: str) -> str:
    return "its vertical axis" if axis == "axis:z" else f"the line {axis}"


def axis_zh(axis: str) -> str:
    return "竖直轴" if axis == "axis:z" else f"直线{axis}"


def instruct(edit: dict[str, Any]) -> Text2:
    """The edit as an instruction; names points by their labels."""
    op, p = edit["op"], edit["params"]
    name = solid_name(edit["solid"], edit["shape"])
    if op == "space_diagonal":
        return Text2(f"Draw the space diagonal {p['a']}{p['b']}.", f"连接体对角线{p['a']}{p['b']}。")
    if op == "face_diagonal":
        return Text2(f"Draw the face diagonal {p['a']}{p['b']}.", f"连接面对角线{p['a']}{p['b']}。")
    if op == "midpoint":
        x, y = p["edge"]
        m, to = p["name"], p["to"]
        return Text2(
            f"Mark the midpoint {m} of {x}{y} and connect {to} to {m}.", f"取{x}{y}的中点{m}，连接{to}{m}。"
        )
    if op == "section":
        new = edit.get("new_points") or []
        tail_en = f", labelling where it meets the edges {joined(new)}" if new else ""
        tail_zh = f"，截面与棱的交点记为{'、'.join(new)}" if new else ""
        return Text2(
            f"Draw the section of the {name.en} by the plane through {joined(p['through'])}{tail_en}.",
            f"画出过{'、'.join(p['through'])}三点的平面截{name.zh}所得的截面{tail_zh}。",
        )
    if op == "perpendicular":
        foot = edit.get("foot", "H")
        plane = edit.get("plane_name", "")
        return Text2(
            f"Draw the perpendicular from {p['point']} to the plane {plane} and mark its foot {foot}.",
            f"过{p['point']}作平面{plane}的垂线，垂足为{foot}。",
        )
    if op in ("inscribed_sphere", "circumscribed_sphere"):
        which = ("inscribed", "内切") if op == "inscribed_sphere" else ("circumscribed", "外接")
        centre = edit.get("centre", "O")
        return Text2(
            f"Draw the {which[0]} sphere of the {name.en} and mark its centre {centre}.",
            f"画出{name.zh}的{which[1]}球，并标出球心{centre}。",
        )
    if op == "net":
        return Text2(f"Unfold the {name.en} into its net.", f"画出{name.zh}的展开图。")
    axis, angle = p["axis"], p["angle"]
    if axis == "axis:z":
        return Text2(
            f"Rotate the {name.en} by {angle}° about its vertical axis, counter-clockwise seen from above.",
            f"将{name.zh}绕竖直轴旋转{angle}°（从上往下看为逆时针方向）。",
        )
    return Text2(
        f"Rotate the {name.en} by {angle}° about the line {axis}, counter-clockwise seen looking back along it "
        f"from its second point.",
        f"将{name.zh}绕直线{axis}旋转{angle}°（从直线的后一点看向前一点为逆时针方向）。",
    )
