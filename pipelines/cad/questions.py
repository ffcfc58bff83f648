"""Questions about a drawn part whose answers come from the solid (B-rep facts) or the drawing's
structure, never from a model: hole counts, faces, overall size, volume, which view, which
projection convention, through against blind holes.

A question applies only where the drawing can answer it: which view only for a lone view (a sheet
titles its views), the projection convention only for a sheet, sizes only for a parametric part
on a sheet (two aligned views give all three axes), holes and faces only where the facts come from
a B-rep (a mesh's facts have none).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from pipelines.cad.text import describe_part, fmt, joined, shown_views
from pipelines.diagram.kind import Question, Text2
from synth.sampling import NotApplicable

ANSWER_VIEW = {"front": "front", "top": "top", "right": "right", "iso": "isometric"}


def _q(
    rng: np.random.Generator, phrasings: list[tuple[str, str]], answer: str, cot: str | None = None
) -> Question:
    en, zh = phrasings[int(rng.integers(len(phrasings)))]
    return Question(Text2(en, zh), answer, cot)


def _spec(s: dict) -> dict | None:
    part = s.get("part")
    return part if isinstance(part, dict) and "kind" in part else None


def _brep(facts: dict) -> bool:
    """Facts read from a B-rep (a mesh's have no face count and no holes found)."""
    return facts.get("faces") is not None


def about(v: float, digits: int = 3) -> str:
    """v to `digits` significant figures, written plainly ("24400", "3.14")."""
    if v == 0:
        return "0"
    places = digits - 1 - math.floor(math.log10(abs(v)))
    return fmt(round(v, places)) if places > 0 else str(int(round(v, places)))


def _tally_text(holes: list[dict], unit: str = " mm") -> str:
    return " + ".join(f"{h['count']} × ø{fmt(h['diameter'])}{unit}" for h in holes)


# -- askers --------------------------------------------------------------------------------------


def _hole_total(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    holes = facts.get("holes") or []
    n = sum(h["count"] for h in holes)
    cot = f"Tallying the holes by diameter: {_tally_text(holes)} = {n}." if len(holes) > 1 else None
    if not holes:
        cot = "No cylindrical hole goes all the way round in any view, so there are 0."
    return _q(
        rng,
        [
            ("How many holes does the part have?", "该零件共有几个孔？"),
            (
                "Count the holes in this part, counterbored or not.",
                "数一数这个零件上一共有多少个孔（含沉孔）。",
            ),
        ],
        str(n),
        cot,
    )


def _hole_diameter(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    """How many holes share the largest (or smallest) diameter: answerable from an undimensioned
    drawing, where the circles' sizes compare but their millimetres do not show."""
    holes = sorted(facts.get("holes") or [], key=lambda h: h["diameter"])
    if len(holes) < 2:
        raise NotApplicable("one hole size: the count by size is the total")
    largest = bool(rng.integers(2))
    h = holes[-1] if largest else holes[0]
    unit = " mm" if _spec(s) is not None else ""
    cot = f"The holes by diameter: {_tally_text(holes, unit)}; the {'largest' if largest else 'smallest'} is ø{fmt(h['diameter'])}{unit}: {h['count']}."
    which = ("largest", "最大") if largest else ("smallest", "最小")
    return _q(
        rng,
        [
            (f"How many holes have the {which[0]} diameter?", f"直径{which[1]}的孔有几个？"),
            (f"The part has holes of {len(holes)} sizes. How many are of the {which[0]} size?",
             f"该零件的孔有{len(holes)}种尺寸，其中尺寸{which[1]}的孔有几个？"),
        ],
        str(h["count"]),
        cot,
    )  # fmt: skip


def _faces(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    return _q(
        rng,
        [
            ("How many faces does the solid's boundary have (counting each cylinder as one face)?",
             "该实体的边界共有多少个面（每个圆柱面算一个面）？"),
            ("How many faces make up the surface of this part?", "这个零件的表面由多少个面组成？"),
        ],
        str(facts["faces"]),
    )  # fmt: skip


def _size(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    w, d, h = (float(v) for v in facts["bbox_size"])
    longest = fmt(max(w, d, h))
    size = f"{fmt(w)} x {fmt(d)} x {fmt(h)} mm"
    views = [v for v in shown_views(s) if v != "iso"]
    cot = (
        f"Width is the horizontal extent of the front or top view, depth the top view's vertical (or the "
        f"right view's horizontal) extent, height the front or right view's vertical extent; the views share "
        f"one scale ({joined(views)} drawn), and the longest of the three is {longest} mm: {size}."
    )
    return _q(
        rng,
        [
            (f"The sheet is drawn to one scale and the part's longest overall dimension is {longest} mm. What are "
             f"its overall width x depth x height?",
             f"图中各视图比例相同，零件最大外形尺寸为{longest} mm。它的总宽×总深×总高是多少？"),
            (f"Its largest overall size is {longest} mm. Give the part's bounding box, width x depth x height.",
             f"已知零件最大外形尺寸为{longest} mm，求它的外形尺寸（宽×深×高）。"),
        ],
        size,
        cot,
    )  # fmt: skip


def _volume(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    part = describe_part(_spec(s), facts)
    v = float(facts["volume"])
    answer = f"about {about(v)} mm³"
    cot = f"The solid's volume is {fmt(round(v, 1))} mm³, about {about(v)} mm³ ({about(v / 1000)} cm³)."
    return _q(
        rng,
        [
            (f"{part.en} What is its volume?", f"{part.zh}它的体积是多少？"),
            (
                f"{part.en} How much material does it contain, in mm³?",
                f"{part.zh}它的材料体积是多少立方毫米？",
            ),
        ],
        answer,
        cot,
    )


def _which_view(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    return _q(
        rng,
        [
            ("Which view of the part is this: front, top, right or isometric?",
             "这是零件的哪个视图：主视图、俯视图、右视图还是轴测图？"),
            ("This drawing shows one view of a part, untitled. Which view is it?", "图中只画了零件的一个视图（无标题），它是哪个视图？"),
        ],
        ANSWER_VIEW[s["view"]],
    )  # fmt: skip


def projection_reason(angle: str, omit: str | None) -> str:
    """Where the views sit that tells the convention, from the views actually drawn."""
    third = angle == "third"
    if omit == "top":
        return f"the right view sits to the {'right' if third else 'left'} of the front view"
    if omit == "front":
        where = "above and to the left" if third else "below and to the right"
        return f"the top view sits {where} of the right view"
    return f"the top view sits {'above' if third else 'below'} the front view"


def _projection(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    angle = s["angle"]
    reason = projection_reason(angle, s.get("omit"))
    place = "free corner top right" if angle == "third" else "free corner bottom left"
    cot = (
        f"In third-angle projection the top view is drawn above the front view and the right view to its right; "
        f"in first-angle projection the top view goes below and the right view to the left. Here {reason} "
        f"({place}), so it is {angle} angle."
    )
    return _q(
        rng,
        [
            ("Is this sheet drawn in first-angle or third-angle projection?", "这张图采用第一角投影还是第三角投影？"),
            ("Which projection convention does this drawing use, first angle or third angle? Why?",
             "这张工程图用的是哪种投影法（第一角或第三角）？为什么？"),
        ],
        f"{angle} angle: {reason}",
        cot,
    )  # fmt: skip


def _through_blind(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    total = sum(h["count"] for h in facts.get("holes") or [])
    blind = sum(h["count"] for h in facts.get("blind_holes") or [])
    through = total - blind
    cot = (
        f"There are {total} holes in all; {blind} of them stop inside the material (their hidden lines end "
        f"in the part), so {total} - {blind} = {through} go through."
    )
    return _q(
        rng,
        [
            ("How many of the part's holes go right through, and how many are blind?",
             "该零件的孔中，通孔和盲孔各有几个？"),
            ("Count the through holes and the blind holes.", "分别数出通孔和盲孔的个数。"),
        ],
        f"{through} through, {blind} blind",
        cot,
    )  # fmt: skip


Asker = Callable[[np.random.Generator, dict, dict], Question]


ASKERS: dict[str, Asker] = {
    "holes": _hole_total,
    "holes_of_diameter": _hole_diameter,
    "faces": _faces,
    "size": _size,
    "volume": _volume,
    "view": _which_view,
    "projection": _projection,
    "through_blind": _through_blind,
}


def applicable(s: dict, facts: dict) -> list[str]:
    """The questions (ASKERS keys) this drawing can answer."""
    out: list[str] = []
    if _brep(facts):
        out += ["holes", "faces"]
        if facts.get("holes"):
            out.append("through_blind")
        if len(facts.get("holes") or []) > 1:
            out.append("holes_of_diameter")
    if _spec(s) is not None:
        out.append("volume")
        if s["layout"] == "sheet":
            out.append("size")
    out.append("view" if s["layout"] == "single" else "projection")
    return out


def ask(rng: np.random.Generator, s: dict, facts: dict) -> Question:
    """One question, drawn uniformly among those that apply, with its computed answer."""
    names = applicable(s, facts)
    if not names:
        raise NotApplicable("no question applies to this drawing")
    return ASKERS[names[int(rng.integers(len(names)))]](rng, s, facts)


__all__ = ["ASKERS", "about", "applicable", "ask", "projection_reason"]
