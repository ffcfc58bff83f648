"""A VLM as judge of a generated image: instruction following, consistency and quality, 0 to 10
each, with a reason, as a JSON-schema structured answer through :class:`synth.llm.LlmClient`
(any OpenAI-compatible server: ``synth llm serve`` or one already running).

The judge sees the prompt and the image; for an edit also the input image, so consistency means
"what the instruction does not mention is unchanged". Its figures are a model's opinion, kept
beside the measured ones, never instead of them.
"""

from __future__ import annotations

import json
from typing import Any

from synth.imageio import data_uri
from synth.llm import Request

JUDGED = ("instruction_following", "consistency", "quality")
MAX_SIDE = 768  # images are sent downscaled to this side: a judge needs no more

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{k: {"type": "integer", "minimum": 0, "maximum": 10} for k in JUDGED},
        "reason": {"type": "string", "minLength": 1, "maxLength": 600},
    },
    "required": [*JUDGED, "reason"],
    "additionalProperties": False,
}

SYSTEM = (
    "You grade images made by an image generation model. Answer with JSON only: integers from 0 "
    "(worst) to 10 (best) for instruction_following (does the image do what the prompt asks, "
    "every quoted text spelled exactly), consistency (for an edit: everything the instruction does "
    "not mention is unchanged from the input image; for a new image: its parts agree with each "
    "other, no contradictory or broken elements), quality (sharp, clean, free of artefacts), and a "
    "one- or two-sentence reason."
)


def request(prompt: str, image: bytes, source: bytes | None = None, seed: int = 0) -> Request:
    """The judge's request for one row (``source`` for an edit: the input image, shown first)."""
    content: list[dict[str, Any]] = []
    if source is not None:
        content += [
            {"type": "text", "text": "Input image:"},
            {"type": "image_url", "image_url": {"url": data_uri(source, MAX_SIDE)}},
            {"type": "text", "text": f"Edit instruction: {prompt}\nEdited image:"},
        ]
    else:
        content.append({"type": "text", "text": f"Prompt: {prompt}\nGenerated image:"})
    content.append({"type": "image_url", "image_url": {"url": data_uri(image, MAX_SIDE)}})
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}]
    return Request(messages, schema=SCHEMA, seed=seed, validate=parse)


def parse(text: str) -> dict[str, Any]:
    """The judged scores and reason, or ValueError (the client then asks again)."""
    try:
        value = json.loads(text)
    except ValueError as e:
        raise ValueError(f"not JSON: {e}") from e
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    out: dict[str, Any] = {}
    for key in JUDGED:
        v = value.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 10:
            raise ValueError(f"{key} must be a number from 0 to 10, got {v!r}")
        out[key] = float(v)
    reason = value.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must be non-empty text")
    out["reason"] = reason.strip()[:600]
    return out
