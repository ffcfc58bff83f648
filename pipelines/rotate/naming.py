"""Names for objects their files do not name (``--set name_with_llm=true``): the source view goes
to a vision-language model behind any OpenAI-compatible endpoint (the one ``synth caption`` uses),
which answers what the object is in English and Chinese; the row's instructions, or its question,
are then written with that name instead of "the object".

The answer is untrusted text that ends up in every phrasing: it must be one to four lowercase
English words (letters, single spaces or hyphens) and one to eight Han characters, else the row
is ``llm_invalid_output``. One asset gets one name: every row of it asks with the same seed, and
the first answer is kept for the worker's later rows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pipelines.rotate.config import RotateConfig
from pipelines.rotate.text import Names, write_texts
from synth.imageio import data_uri, encode_png
from synth.llm import Answer, Request
from synth.llm_stage import Job, LlmStage, record_answer
from synth.stage import Row, Stage, mark

PROMPT_VERSION = "rotate-name/1"
SYSTEM = (
    "You name the single object shown in a 3D render, for image-editing instructions such as 'Rotate the "
    "<name> 90 degrees to the left'. Answer as JSON with `en`: its common English name, lowercase, one to "
    "four words, no article (e.g. 'office chair', 'toy car'); `zh`: its common Chinese name (e.g. '椅子')."
)
EN = re.compile(r"[a-z]{1,20}(?:[ -][a-z]{1,20}){0,3}")
ZH = re.compile(r"[\u4e00-\u9fff]{1,8}")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "en": {"type": "string", "pattern": f"^{EN.pattern}$", "maxLength": 40},
        "zh": {"type": "string", "pattern": f"^{ZH.pattern}$"},
    },
    "required": ["en", "zh"],
    "additionalProperties": False,
}
MAX_SIDE = 384  # pixels of the view sent: a name needs no detail


def parse(text: str) -> Names:
    """(en, zh) from the answer, or ValueError when it is not exactly the asked form."""
    try:
        value = json.loads(text)
        en, zh = value["en"].strip(), value["zh"].strip()
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"not the name object: {e}") from e
    if not EN.fullmatch(en) or len(en) > 40:
        raise ValueError(f"en must be one to four lowercase words, not {en[:60]!r}")
    if not ZH.fullmatch(zh):
        raise ValueError(f"zh must be one to eight Han characters, not {zh[:30]!r}")
    return en, zh


class NameObject(LlmStage, Stage):
    """Asks for the names of unnamed assets and rewrites those rows' texts with them."""

    name = "name"
    reads = ("spec", "meta", "_views")
    writes = ("instruction", "instructions", "response", "spec", "meta")

    def __init__(self, cfg: RotateConfig):
        self.cfg = cfg
        self.llm_cfg = cfg.llm

    def setup(self) -> None:
        super().setup()
        self.names: dict[str, tuple[Names, Answer | None]] = {}  # asset digest -> names it was given

    def submit_batch(self, rows: list[Row]) -> Callable[[], None]:
        """One request per unnamed asset of the batch; its other rows follow the answer."""
        collect = super().submit_batch(rows)

        def done() -> None:
            if collect is not None:
                collect()
            self.follow(rows)

        return done

    def ask(self, rows: list[Row]) -> list[Job]:
        jobs, asking = [], set()
        for row in rows:
            if row["spec"].get("asset"):
                continue  # the file names it
            digest = row["meta"]["digest"]
            if digest in self.names:
                self.rename(row, self.names[digest][0], None)
                continue
            if digest in asking:
                continue  # follows the batch's request for this asset
            asking.add(digest)
            uri = data_uri(encode_png(row["_views"][0].rgb), MAX_SIDE, "JPEG")
            content = [
                {"type": "image_url", "image_url": {"url": uri}},
                {"type": "text", "text": "What is this object called?"},
            ]
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}]
            jobs.append(
                (row, Request(messages, schema=SCHEMA, seed=int(digest[:8], 16), validate=parse), None)
            )
        return jobs

    def apply(self, row: Row, got: Answer, context: None) -> None:
        names = self.names.setdefault(row["meta"]["digest"], (got.value, got))[0]
        self.rename(row, names, got)

    def follow(self, rows: list[Row]) -> None:
        """Rows that waited on another row's request: its names, or its failure."""
        for row in rows:
            if row.get("status") is not None or row["spec"].get("asset") or "asset_name" in row["spec"]:
                continue
            digest = row["meta"]["digest"]
            if digest in self.names:
                self.rename(row, self.names[digest][0], None)
                continue
            leader = next(r for r in rows if r["meta"]["digest"] == digest and r.get("status") is not None)
            mark(
                row,
                leader["reason"],
                f"as row {leader.get('sample_id')} of the same asset: {leader['detail']}",
            )

    def rename(self, row: Row, names: Names, got: Answer | None) -> None:
        row["spec"]["asset_name"] = {"en": names[0], "zh": names[1], "by": "vision-language model"}
        write_texts(row, names, self.cfg.angles)
        if got is not None:
            record_answer(row, "name", self.client.model, got, prompt=PROMPT_VERSION)
