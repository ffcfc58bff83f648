"""The stage of ``synth caption``: each row's image goes to a VLM as a data URI; the structured
answer becomes concise, dense and (when people are present) human-centric captions."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pipelines.caption.config import CaptionConfig
from synth.imageio import DecodeError, data_uri
from synth.llm import Answer, Request
from synth.llm_stage import Job, LlmStage, record_answer
from synth.stage import Resources, Row, Stage, mark


def schema(max_chars: int) -> dict[str, Any]:
    text = {"type": "string", "maxLength": max_chars}
    some = {**text, "minLength": 1}
    return {
        "type": "object",
        "properties": {
            "concise": some,
            "dense": some,
            "people_present": {"type": "boolean"},
            "human_centric": text,
        },
        "required": ["concise", "dense", "people_present", "human_centric"],
        "additionalProperties": False,
    }


def parse(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
        concise, dense, people, human = (
            value[k] for k in ("concise", "dense", "people_present", "human_centric")
        )
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"not the caption object: {e}") from e
    if not (isinstance(concise, str) and concise.strip() and isinstance(dense, str) and dense.strip()):
        raise ValueError("concise and dense captions must be non-empty text")
    if not isinstance(people, bool) or not isinstance(human, str) or (people and not human.strip()):
        raise ValueError("people_present must be a boolean, with a human-centric caption when true")
    return value


def shown_image(row: Row) -> bytes | None:
    """The image a row is about: the result, or the image asked about for an understanding row."""
    cell = row.get("source_image") if row.get("task") == "und" else row.get("target_image")
    return (cell or {}).get("bytes")


class Caption(LlmStage, Stage):
    name = "caption"
    resources: ClassVar = Resources(cpus=0.5)

    def __init__(self, cfg: CaptionConfig):
        self.cfg = cfg
        self.llm_cfg = cfg.llm
        self.schema = schema(cfg.max_chars)

    def ask(self, rows: list[Row]) -> list[Job]:
        jobs = []
        for row in rows:
            data = shown_image(row)
            if data is None:
                mark(row, "decode_error", "the row has no image to caption")
                continue
            try:
                uri = data_uri(data, self.cfg.max_side, "JPEG")
            except DecodeError as e:
                mark(row, e.reason, str(e))
                continue
            content = [
                {"type": "image_url", "image_url": {"url": uri}},
                {"type": "text", "text": "Caption this image."},
            ]
            messages = [{"role": "system", "content": self.cfg.prompt}, {"role": "user", "content": content}]
            request = Request(messages, schema=self.schema, seed=row["seed"] % 2**31, validate=parse)
            jobs.append((row, request, None))
        return jobs

    def apply(self, row: Row, got: Answer, context: None) -> None:
        v = got.value
        captions = [("concise", v["concise"]), ("dense", v["dense"])]
        if v["people_present"]:
            captions.append(("human-centric", v["human_centric"]))
        row["captions"] = [
            *(row.get("captions") or []),
            *({"style": s, "language": "en", "text": t.strip()} for s, t in captions),
        ]
        record_answer(row, "caption", self.client.model, got, prompt=self.cfg.prompt_version)


def build_stages(cfg: CaptionConfig) -> list[Stage]:
    return [Caption(cfg)]
