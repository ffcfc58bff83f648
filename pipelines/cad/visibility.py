"""Is a feature seen in a view? Answered by the kernel, not by geometry rules: the part is drawn
again without the feature (the same spec minus it, rebuilt) and the view's strokes compared.
Visible strokes that differ mean the feature shows in solid lines; only hidden ones, that it lies
behind the material (dashed lines); none, that the view does not show it at all."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from pipelines.cad import edits
from pipelines.cad.text import FEATURE_NAMES, VIEW_NAMES
from pipelines.diagram.kind import Question, Text2
from renderers.cad.drawing import Place, single_layout
from renderers.cad.part import PartViews
from synth.sampling import NotApplicable

SIDE = 512  # px: the views are compared as drawn at this size
MIN_PIXELS = 6  # drawn pixels that must differ before a difference counts as seen


def _ink(part: PartViews, view: str, place: Place, visible: bool) -> np.ndarray:
    image = Image.new("1", (SIDE, SIDE), 0)
    draw = ImageDraw.Draw(image)
    for s in part.strokes[view]:
        if s.visible == visible:
            draw.line([tuple(p) for p in place.px(s.points).tolist()], fill=1, width=1)
    return np.asarray(image, dtype=bool)


def seen(full: PartViews, bare: PartViews, view: str) -> str:
    """ "visible", "hidden" or "absent": how ``view`` shows what ``full`` has and ``bare`` lacks,
    by the drawn lines (a fillet whose outline falls on the box's edge draws nothing new)."""
    place = single_layout([full, bare], view, (SIDE, SIDE), title=False)[view]
    for visible, how in ((True, "visible"), (False, "hidden")):
        if view == "iso" and not visible:
            break
        if (_ink(full, view, place, visible) ^ _ink(bare, view, place, visible)).sum() >= MIN_PIXELS:
            return how
    return "absent"


ANSWERS = {
    "visible": Text2("yes", "是"),
    "hidden": Text2("no", "否"),
    "absent": Text2("no", "否"),
}


def ask_visible(rng: np.random.Generator, s: dict, part_views) -> Question:
    """ "Is the <feature> visible in the <view>?" for a removable feature of a parametric part and
    a view the drawing shows; the working says which lines show it."""
    spec = s["part"]
    names = edits.removable(spec) if "kind" in spec else []
    views = [s["view"]] if s["layout"] == "single" else [v for v in ("front", "top", "right", "iso")
                                                        if v != s["omit"] and (v != "iso" or s["iso"])]  # fmt: skip
    if not names or not views:
        raise NotApplicable("no removable feature to ask about")
    name, view = names[int(rng.integers(len(names)))], views[int(rng.integers(len(views)))]
    bare = part_views(edits.apply(spec, {"op": "remove_feature", "feature": name}))
    how = seen(part_views(spec), bare, view)
    f, v = FEATURE_NAMES[name], VIEW_NAMES[view]
    text = Text2(
        f"Can {f.en} be seen in the {v.en}? Answer yes or no.",
        f"在{v.zh}中能看到{f.zh}吗？请回答是或否。",
    )
    cot = {
        "visible": f"The {v.en} draws {f.en} with visible (solid) lines: yes.",
        "hidden": f"The {v.en} draws {f.en} only with hidden (dashed) lines, behind the material in "
        "front: no.",
        "absent": f"The {v.en} draws no line of {f.en} (from this direction its edges fall on other "
        "edges): no.",
    }[how]
    return Question(text, ANSWERS[how].en, cot)
