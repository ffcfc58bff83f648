"""Instructions and questions of rotation pairs, in English and Chinese. Directions are the
viewer's (poses.py), so no phrasing says "its left": the object's own left is the viewer's right
when it faces the viewer."""

from __future__ import annotations

from dataclasses import dataclass

#: Chinese names of the objects the sample assets and common files carry; others are "物体".
ZH_NAMES = {
    "toy car": "玩具车",
    "car": "汽车",
    "chair": "椅子",
    "vase": "花瓶",
    "table": "桌子",
    "lamp": "台灯",
    "cup": "杯子",
    "mug": "马克杯",
    "bottle": "瓶子",
    "shoe": "鞋子",
}
ZH_DIRECTION = {"left": "向左", "right": "向右", "up": "向上", "down": "向下"}
EN_TURN = ("Rotate the {o} {a} degrees to the {d}.", "Turn the {o} {a}° to the {d}.",
           "Rotate the {o} to the {d} by {a} degrees.", "Spin the {o} {a} degrees to the {d}.")  # fmt: skip
EN_TILT = ("Rotate the {o} {a} degrees {d}ward.", "Tilt the {o} {d} by {a} degrees.",
           "Turn the {o} {a}° {d}ward.")  # fmt: skip
ZH_TURN = ("将{o}{d}旋转{a}度。", "把{o}{d}转动{a}度。", "让{o}{d}转{a}°。")
ZH_TILT = ("将{o}{d}旋转{a}度。", "把{o}{d}翻转{a}度。", "让{o}{d}倾斜{a}°。")
EN_TURNTABLE = (
    "Show the {o} from {n} views, turning it {a} degrees to the {d} from one view to the next, starting "
    "with this one; lay them out in a grid of {c} columns and {r} rows, left to right, top to bottom.",
    "Make a turntable of the {o}: {n} views {a}° apart as it turns to the {d}, the first as shown here, "
    "in {r} rows of {c}.",
    "Draw the {o} in {n} views, each turned {a} degrees further to the {d}, beginning with the current "
    "view, arranged {c} across and {r} down.",
)
ZH_TURNTABLE = (
    "以当前视角为第一个视图，将{o}每次{d}旋转{a}度，共画出{n}个视图，按{r}行{c}列从左到右、从上到下排列。",
    "生成{o}的{n}个环绕视图：从当前视图开始，每个视图比前一个{d}多转{a}°，排成{r}行，每行{c}个。",
)


@dataclass(frozen=True)
class Question:
    kind: str  # "direction" or "angle"
    en: str
    zh: str
    answer: str


Names = tuple[str, str]  # (English, Chinese) name of the object


def object_names(name: str | None) -> Names:
    """(English, Chinese) name of the object: the asset's own, else "object" / "物体"."""
    en = (name or "").strip().lower() or "object"
    return en, ZH_NAMES.get(en, "物体")


def degrees(angle: float) -> str:
    return f"{angle:g}"


def instructions(names: Names, direction: str, angle: float) -> list[dict[str, str]]:
    """Every phrasing of the edit, English first; the first is the row's instruction unless the
    caller picks another."""
    en, zh = names
    a = degrees(angle)
    tilt = direction in ("up", "down")
    out = [{"style": "concise", "language": "en", "text": t.format(o=en, a=a, d=direction)}
           for t in (EN_TILT if tilt else EN_TURN)]  # fmt: skip
    out += [{"style": "concise", "language": "zh", "text": t.format(o=zh, a=a, d=ZH_DIRECTION[direction])}
            for t in (ZH_TILT if tilt else ZH_TURN)]  # fmt: skip
    return out


def turntable_instructions(
    names: Names, direction: str, step: float, columns: int, rows: int
) -> list[dict[str, str]]:
    """Every phrasing of a turntable row (one view in, a grid of views around the object out)."""
    en, zh = names
    fill = {"a": degrees(step), "n": columns * rows, "c": columns, "r": rows}
    return [{"style": "concise", "language": "en", "text": t.format(o=en, d=direction, **fill)}
            for t in EN_TURNTABLE] + [
           {"style": "concise", "language": "zh", "text": t.format(o=zh, d=ZH_DIRECTION[direction], **fill)}
            for t in ZH_TURNTABLE]  # fmt: skip


def question(kind: str, names: Names, direction: str, angle: float, angles: list[float]) -> Question:
    """A question about a side-by-side pair (the source on the left, the target on the right)."""
    en, zh = names
    if kind == "direction":
        turn = direction in ("left", "right")
        en_q = "turned to the left or to the right" if turn else "tilted up or down"
        zh_q = "向左还是向右转动" if turn else "向上还是向下翻转"
        return Question(
            kind,
            f"Compared with the left image, is the {en} in the right image {en_q}? Answer with one word.",
            f"与左图相比，右图中的{zh}是{zh_q}的？只回答一个词。",
            direction,
        )
    names = [degrees(a) for a in angles]
    options = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    return Question(
        kind,
        f"By how many degrees is the {en} in the right image rotated relative to the left image: {options}? "
        "Answer with the number.",
        f"右图中的{zh}相对左图旋转了多少度：{options.replace(', ', '、').replace(' or ', '或')}？只回答数字。",
        degrees(angle),
    )


PHRASINGS = 3  # English phrasings an edit or turntable row draws among (each kind has at least 3)


def write_texts(row: dict, names: Names, angles: list[float]) -> None:
    """instruction, instructions (and an und row's response) from the spec's record and the
    object's names: called again when a model names an object its file did not."""
    spec = row["spec"]
    direction, angle = spec["direction"], spec["angle_deg"]
    if "question" in spec:
        q = question(spec["question"], names, direction, angle, angles)
        row.update(
            instruction=q.en,
            instructions=[
                {"style": "question", "language": "en", "text": q.en},
                {"style": "question", "language": "zh", "text": q.zh},
            ],
            response=q.answer,
        )
        spec["answer"] = q.answer
        return
    if "grid" in spec:
        g = spec["grid"]
        variants = turntable_instructions(names, direction, angle, g["columns"], g["rows"])
    else:
        variants = instructions(names, direction, angle)
    english = [v["text"] for v in variants if v["language"] == "en"]
    row.update(instruction=english[spec["phrasing"] % len(english)], instructions=variants)
