"""The humour plan of a (template, plan index): from the LLM, or from the bundled plans."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, ClassVar

import cv2
import numpy as np

from pipelines.meme import plan as plans
from pipelines.meme.common import Memo, downscale, plan_draws
from pipelines.meme.config import MemeConfig
from synth.llm import Answer, Failure, Request
from synth.llm_stage import LlmStage, record_answer
from synth.stage import Resources, Row, Stage, mark


class BundledPlan(Stage):
    """The humour plan from the bundled plans (no LLM): for the demo and template-only checks."""

    name = "plan"
    reads = ("_g", "_group", "_group_seed", "_plan_index")
    writes = ("_p",)

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg

    def process_row(self, row: Row) -> Row:
        rng, language, style = plan_draws(row, self.cfg)
        plan = plans.bundled_plan(rng, list(row["_g"]["regions"]))
        row["_p"] = {"key": (row["_group"], row["_plan_index"]), "plan": plan, "language": language,
                     "style": style, "source": "bundled"}  # fmt: skip
        return row


class Joke(LlmStage, Stage):
    """The humour plan from the LLM: one request per (template, plan index), shared by its rows;
    an off-schema or ungrounded answer is asked again with the next seed, then the rows are
    ``llm_invalid_output``."""

    name = "joke"
    resources: ClassVar = Resources(cpus=0.5)
    reads = ("_g", "_group", "_group_seed", "_plan_index", "meta")
    writes = ("_p", "meta")

    def __init__(self, cfg: MemeConfig):
        self.cfg = cfg
        self.llm_cfg = cfg.llm

    def setup(self) -> None:
        super().setup()
        self.memo = Memo(256)

    @property
    def requests_per_unit(self) -> int:
        """One request per plan, shared by the plan's rows (the memo is thread-safe)."""
        return max(1, self.cfg.runtime.unit_size // max(1, len(self.cfg.rows)))

    def request(self, row: Row) -> Request:
        j, g = self.cfg.joke, row["_g"]
        names = list(g["regions"])
        h, w = g["template"].shape[:2]
        where = {
            n: [round(v / s, 2) for v, s in zip(b, (w, h, w, h), strict=True)]
            for n, b in g["regions"].items()
        }
        user = {
            "template": g["description"].get("en") or "a picture (described by its regions only)",
            "regions": {n: f"box {where[n]} as fractions of width and height" for n in names},
            "old_captions": [c.text for c in g["found"]],
            "limits": {"max_chars": j.max_chars, "max_words": j.max_words, "max_captions": j.max_captions},
        }
        content: Any = json.dumps(user, ensure_ascii=False)
        if j.vision:
            content = [{"type": "text", "text": content},
                       {"type": "image_url", "image_url": {"url": _data_uri(g["template"])}}]  # fmt: skip
        rng, _, _ = plan_draws(row, self.cfg)
        return Request(
            [{"role": "system", "content": j.prompt}, {"role": "user", "content": content}],
            schema=plans.schema(names, j.max_chars, j.max_captions),
            seed=int(rng.integers(2**31)),
            validate=plans.validator(names, j.max_chars, j.max_words, j.max_captions),
        )

    def submit_batch(self, rows: list[Row]) -> Callable[[], None] | None:
        futures = []
        for row in rows:
            key = (row["_group"], row["_plan_index"])
            futures.append(self.memo.get(key, lambda row=row: self.client.submit([self.request(row)])[0]))

        def collect() -> None:
            for row, future in zip(rows, futures, strict=True):
                got = future.result()
                if isinstance(got, Failure):
                    mark(row, got.reason, got.detail)
                    continue
                self.apply(row, got, None)

        return collect

    def apply(self, row: Row, got: Answer, context: Any) -> None:
        _, language, style = plan_draws(row, self.cfg)
        row["_p"] = {"key": (row["_group"], row["_plan_index"]), "plan": got.value, "language": language,
                     "style": style, "source": "llm"}  # fmt: skip
        record_answer(row, "joke", self.client.model, got)


def _data_uri(image: np.ndarray) -> str:
    small, _ = downscale(image, 512)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()
