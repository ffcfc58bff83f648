"""The stage of ``synth rewrite``: ask for phrasings, keep those that keep every protected text."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from pipelines.rewrite.config import RewriteConfig
from synth.llm import Answer, Request, string_list
from synth.llm_stage import Job, LlmStage, record_answer
from synth.stage import Resources, Row, Stage, mark

LANGUAGE = {"zh": "Simplified Chinese", "en": "English"}
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|「([^」]+)」")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")


def _scalars(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _scalars(v)]
    if isinstance(value, list):
        return [s for v in value for s in _scalars(v)]
    if isinstance(value, bool) or value is None:
        return []
    return [str(value)]


def protected(row: Row) -> list[str]:
    """What every phrasing must keep: texts drawn in the image, quoted strings and numbers of the
    instruction, and the values the edit names (a node, a state, a colour's name) where the
    instruction mentions them as words."""
    text = row["instruction"]
    keep = {t["text"] for t in row.get("texts") or [] if t.get("text") and t["text"] in text}
    keep |= {next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)}
    keep |= set(_NUMBER.findall(text))
    spec = json.loads(row["spec"]) if isinstance(row.get("spec"), str) else row.get("spec") or {}
    named = {k: v for k, v in (spec.get("edit") or {}).items() if k != "op"}  # the verb may be paraphrased
    for value in _scalars(named):
        if value and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text):
            keep.add(value)
    return sorted((k for k in keep if k.strip()), key=lambda k: (-len(k), k))


class Rewrite(LlmStage, Stage):
    name = "rewrite"
    resources: ClassVar = Resources(cpus=0.5)

    def __init__(self, cfg: RewriteConfig):
        self.cfg = cfg
        self.llm_cfg = cfg.llm
        self.schema, self.parse = string_list("rewrites", cfg.variants, cfg.max_chars)

    def ask(self, rows: list[Row]) -> list[Job]:
        jobs = []
        for row in rows:
            if row.get("task") not in self.cfg.tasks or not row.get("instruction"):
                continue
            lang = "zh" if row.get("language") == "zh" else "en"
            system = self.cfg.prompt.format(n=self.cfg.variants, language=LANGUAGE[lang])
            user = json.dumps({"instruction": row["instruction"], "keep": protected(row)}, ensure_ascii=False)
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            request = Request(messages, schema=self.schema, seed=row["seed"] % 2**31, validate=self.parse)
            jobs.append((row, request, None))
        return jobs

    def apply(self, row: Row, got: Answer, context: None) -> None:
        keep = protected(row)
        seen = {row["instruction"].strip()}
        good, dropped = [], []
        for text in got.value:
            text = text.strip()
            missing = [k for k in keep if k not in text]
            if missing:
                dropped.append(missing[0])
            elif text and text not in seen:
                seen.add(text)
                good.append(text)
        record_answer(row, "rewrite", self.client.model, got, kept=len(good), dropped=len(dropped))
        if not good:
            reason = f"{dropped[0]!r} is missing" if dropped else "every phrasing repeats the instruction"
            mark(row, "verify_failed", f"rewrite: no phrasing kept every protected text ({reason})")
            return
        lang = "zh" if row.get("language") == "zh" else "en"
        row["instructions"] = [
            *(row.get("instructions") or []),
            *({"style": "rewrite", "language": lang, "text": t} for t in good),
        ]


def build_stages(cfg: RewriteConfig) -> list[Stage]:
    return [Rewrite(cfg)]
