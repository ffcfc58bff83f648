"""The humour plan: what makes a meme funny (situation, intent, setup, punchline) and where each
caption goes, in English and Chinese. It comes from the LLM (schema and grounding checks here) or
from the bundled plans (``plans.json``, for runs without a server), and becomes the row's ``cot``
in the format ``synth cot`` writes.

A plan is grounded: every caption names a region of its template (``top``, ``bottom``, or a
label region such as ``subject``), regions kept clear exist and are not labelled, and captions
fit the length limits a meme can carry. The same check holds a bundled plan and an LLM's answer.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.cot.plan import render

EDGES = ("top", "bottom")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_FREE_TEXT = 300


def schema(regions: list[str], max_chars: int, max_captions: int) -> dict[str, Any]:
    """The answer's JSON schema; region names are an enumeration of this template's regions, so
    guided decoding itself keeps placements grounded."""
    text = {"type": "string", "minLength": 1, "maxLength": _FREE_TEXT}
    labels = [r for r in regions if r not in EDGES]
    caption = {
        "type": "object",
        "properties": {
            "placement": {"type": "string", "enum": ["top", "bottom", "label"]},
            "region": {"type": "string", "enum": list(regions)},
            "en": {"type": "string", "minLength": 1, "maxLength": max_chars},
            "zh": {"type": "string", "minLength": 1, "maxLength": max(4, max_chars // 2)},
        },
        "required": ["placement", "region", "en", "zh"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "situation": text,
            "intent": text,
            "setup": text,
            "punchline": text,
            "captions": {"type": "array", "items": caption, "minItems": 1, "maxItems": max_captions},
            "keep_clear": {"type": "array", "items": {"type": "string", "enum": labels or ["none"]}},
        },
        "required": ["situation", "intent", "setup", "punchline", "captions"],
        "additionalProperties": False,
    }


def check(plan: Any, regions: list[str], max_chars: int, max_words: int, max_captions: int) -> dict[str, Any]:
    """The plan, normalised, or ValueError saying what is wrong (an ungrounded region, a caption
    too long for a meme, two top captions...)."""
    if not isinstance(plan, dict):
        raise ValueError("a plan is a JSON object")
    out: dict[str, Any] = {}
    for key in ("situation", "intent", "setup", "punchline"):
        value = plan.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > _FREE_TEXT:
            raise ValueError(f"{key!r} must be a non-empty text of at most {_FREE_TEXT} characters")
        out[key] = " ".join(value.split())
    captions = plan.get("captions")
    if not isinstance(captions, list) or not 1 <= len(captions) <= max_captions:
        raise ValueError(f"a plan has 1 to {max_captions} captions")
    seen: set[str] = set()
    out["captions"] = []
    for c in captions:
        if not isinstance(c, dict):
            raise ValueError("a caption is an object")
        placement, region = c.get("placement"), c.get("region")
        if placement in EDGES and region != placement:
            raise ValueError(f"a {placement} caption has region {placement!r}, not {region!r}")
        if placement == "label" and (region in EDGES or region not in regions):
            raise ValueError(f"label on {region!r}, which is not a region of this template ({regions})")
        if placement not in (*EDGES, "label"):
            raise ValueError(f"unknown placement {placement!r}")
        if region in seen:
            raise ValueError(f"two captions at {region!r}")
        seen.add(region)
        en, zh = (" ".join(str(c.get(k) or "").split()) for k in ("en", "zh"))
        if not en or len(en) > max_chars or len(en.split()) > max_words:
            raise ValueError(
                f"English caption {en!r}: 1 to {max_chars} characters, at most {max_words} words"
            )
        if not _HAN.search(zh) or len(zh) > max(4, max_chars // 2):
            raise ValueError(
                f"Chinese caption {zh!r}: Chinese text of at most {max(4, max_chars // 2)} characters"
            )
        out["captions"].append({"placement": placement, "region": region, "en": en, "zh": zh})
    clear = [r for r in plan.get("keep_clear") or [] if r != "none"]
    for r in clear:
        if r not in regions or r in EDGES:
            raise ValueError(f"keep_clear names {r!r}, which is not a region of this template")
        if r in seen:
            raise ValueError(f"{r!r} is both labelled and kept clear")
    out["keep_clear"] = sorted(set(clear))
    return out


def validator(regions: list[str], max_chars: int, max_words: int, max_captions: int) -> Callable[[str], dict]:
    """What the LLM client checks each answer with (a failing answer is asked again with the next seed)."""

    def parse(text: str) -> dict[str, Any]:
        try:
            plan = json.loads(text)
        except ValueError as e:
            raise ValueError(f"not JSON: {e}") from e
        return check(plan, regions, max_chars, max_words, max_captions)

    return parse


@functools.cache
def bundled() -> tuple[dict[str, Any], ...]:
    """The bundled plans (``plans.json``): generic jokes that suit any photo."""
    with open(Path(__file__).with_name("plans.json"), encoding="utf-8") as f:
        return tuple(json.load(f))


def bundled_plan(rng: np.random.Generator, regions: list[str]) -> dict[str, Any]:
    """A bundled plan whose regions this template has (label plans need a ``subject``)."""
    usable = [p for p in bundled() if all(c["region"] in regions for c in p["captions"])]
    plan = usable[int(rng.integers(len(usable)))]
    return check(plan, regions, 200, 40, 4)


def cot_text(plan: dict[str, Any], language: str) -> str:
    """The plan as the ``cot`` column, in the format of ``synth cot``'s meme flavour."""
    where = {"top": "at the top", "bottom": "at the bottom"}
    captions = [(c, c[language]) for c in plan["captions"]]
    steps = [{"action": "set_scene", "target": "template", "detail": plan["situation"]}]
    steps += [{"action": "setup", "target": "joke", "detail": plan["setup"]},
              {"action": "twist", "target": "joke", "detail": plan["punchline"]}]  # fmt: skip
    for c, text in captions:
        place = where.get(c["placement"], f"as a label on the {c['region']}")
        steps.append({"action": "place_caption", "target": text, "detail": place})
        steps.append({"action": "write", "target": text, "detail": f'"{text}"'})
    return render(
        {
            "objective": f"A meme. {plan['intent']}",
            "subtasks": [f"Setup: {plan['setup']}", f"Punchline: {plan['punchline']}",
                         "Place each caption where it reads in order, legible over the picture."],
            "constraints": [{"subject": text, "requirement": f"{where.get(c['placement'], 'label on the ' + c['region'])}, inside the image"}
                            for c, text in captions]
            + [{"subject": r, "requirement": "kept clear of captions"} for r in plan["keep_clear"]],
            "operations": steps,
        }
    )  # fmt: skip
