"""The stage of ``synth translate``: one structured request per row, every source text in it, and
the check that texts drawn in the image (the row's ``texts``) survive the translation verbatim."""

from __future__ import annotations

import json
from typing import ClassVar

from pipelines.translate.config import TranslateConfig
from synth.llm import Answer, Request, string_list
from synth.llm_stage import Job, LlmStage, record_answer
from synth.stage import Resources, Row, Stage, mark

LANGUAGE = {"zh": "Simplified Chinese", "en": "English"}


def sources(row: Row, fields: list[str], to: str) -> list[tuple[str, str, str]]:
    """(field, style, text) of every text to translate: those not yet in the target language."""
    source = "en" if to == "zh" else "zh"
    out = []
    if "instruction" in fields and row.get("instruction") and row.get("language") == source:
        out.append(("instructions", "instruction", row["instruction"]))
    for field in ("instructions", "captions"):
        if field not in fields:
            continue
        have = {(v["style"], v["language"]) for v in row.get(field) or []}
        for v in row.get(field) or []:
            if v["language"] == source and (v["style"], to) not in have:
                out.append((field, v["style"], v["text"]))
    return out


def protected(row: Row, texts: list[str]) -> list[str]:
    """The row's drawn texts that occur in the texts to translate: they must come back verbatim."""
    # Longest first, ties by text: a set's order changes with the process (PYTHONHASHSEED), and
    # this list goes into the request, so it must not, or a rerun would miss the cache.
    drawn = sorted({t["text"] for t in row.get("texts") or [] if t.get("text")}, key=lambda t: (-len(t), t))
    return [d for d in drawn if any(d in s for s in texts)]


def broken_quotes(originals: list[str], translations: list[str], keep: list[str]) -> str | None:
    for src, out in zip(originals, translations, strict=True):
        for text in keep:
            if text in src and text not in out:
                return f"{text!r} is missing from the translation of {src[:60]!r}"
    return None


class Translate(LlmStage, Stage):
    name = "translate"
    resources: ClassVar = Resources(cpus=0.5)

    def __init__(self, cfg: TranslateConfig):
        self.cfg = cfg
        self.llm_cfg = cfg.llm

    def ask(self, rows: list[Row]) -> list[Job]:
        system = self.cfg.prompt.format(language=LANGUAGE[self.cfg.to])
        jobs = []
        for row in rows:
            items = sources(row, self.cfg.fields, self.cfg.to)
            if not items:  # nothing to translate: kept as it is
                continue
            texts = [t for _, _, t in items]
            user = json.dumps({"strings": texts, "protected": protected(row, texts)}, ensure_ascii=False)
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            rule, parse = string_list("translations", len(texts), self.cfg.max_chars)
            request = Request(messages, schema=rule, seed=row["seed"] % 2**31, validate=parse)
            jobs.append((row, request, items))
        return jobs

    def apply(self, row: Row, got: Answer, items: list[tuple[str, str, str]]) -> None:
        translations = got.value
        texts = [t for _, _, t in items]
        problem = broken_quotes(texts, translations, protected(row, texts))
        record_answer(row, "translate", self.client.model, got, to=self.cfg.to)
        if problem:
            mark(row, "translation_mismatch", problem)
            return
        for (field, style, _), text in zip(items, translations, strict=True):
            row[field] = [*(row.get(field) or []), {"style": style, "language": self.cfg.to, "text": text}]


def build_stages(cfg: TranslateConfig) -> list[Stage]:
    return [Translate(cfg)]
