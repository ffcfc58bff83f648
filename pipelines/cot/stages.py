"""The stage of ``synth cot``: a structured plan per row, grounded in the row's own spec and texts.

The answer's schema is built per row: the subjects of constraints and the targets of operations
are enumerations of that row's objects and texts, so guided decoding itself keeps the plan
grounded. The validator checks it again (a server without guided decoding is held to the same
standard): every target and subject must be the row's, and every number a constraint states must
be a value in the row's spec or texts.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from pipelines.cot.config import ACTIONS, FLAVOUR_BY_DOMAIN, CotConfig
from pipelines.cot.plan import render
from synth.llm import Answer, Request
from synth.llm_stage import Job, LlmStage, record_answer
from synth.stage import Resources, Row, Stage

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NAME = re.compile(r"^[^\s{}\[\]\"]{1,40}$|^[\w\s'.,°=+\-/()%]{1,40}$")


def _spec(row: Row) -> dict[str, Any]:
    spec = row.get("spec")
    return json.loads(spec) if isinstance(spec, str) else spec or {}


def _scalars(value: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [kv for k, v in value.items() for kv in _scalars(v, str(k))]
    if isinstance(value, list):
        return [kv for v in value for kv in _scalars(v, key)]
    return [(key, value)]


def vocabulary(row: Row) -> tuple[list[str], set[float]]:
    """(names the plan may refer to, numbers it may state): the row's drawn texts, the spec's short
    string values (ids, labels, categories, states) and its numbers."""
    names, numbers = set(), set()
    for t in row.get("texts") or []:
        if t.get("text"):
            names.add(t["text"])
            numbers |= {float(n) for n in _NUMBER.findall(t["text"])}
    for key, value in _scalars(_spec(row)):
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            numbers.add(float(value))
        elif (
            isinstance(value, str) and key not in ("op", "kind", "path", "font", "ref") and _NAME.match(value)
        ):
            names.add(value)
            numbers |= {float(n) for n in _NUMBER.findall(value)}
    return sorted(names), numbers


def schema(names: list[str], actions: list[str], max_items: int, max_chars: int) -> dict[str, Any]:
    text = {"type": "string", "maxLength": max_chars}
    ref = {"type": "string", "enum": names} if names else text
    return {
        "type": "object",
        "properties": {
            "objective": text,
            "subtasks": {"type": "array", "items": text, "minItems": 1, "maxItems": max_items},
            "constraints": {
                "type": "array", "maxItems": max_items,
                "items": {"type": "object", "properties": {"subject": ref, "requirement": text},
                          "required": ["subject", "requirement"], "additionalProperties": False},
            },
            "operations": {
                "type": "array", "minItems": 1, "maxItems": max_items,
                "items": {"type": "object", "properties": {"action": {"type": "string", "enum": actions}, "target": ref, "detail": text},
                          "required": ["action", "target", "detail"], "additionalProperties": False},
            },
        },
        "required": ["objective", "subtasks", "constraints", "operations"],
        "additionalProperties": False,
    }  # fmt: skip


def validator(names: list[str], numbers: set[float], actions: list[str]):
    allowed = set(names)

    def check(text: str) -> dict[str, Any]:
        try:
            plan = json.loads(text)
            objective, subtasks, constraints, operations = (
                plan[k] for k in ("objective", "subtasks", "constraints", "operations")
            )
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"not a plan: {e}") from e
        if not (isinstance(objective, str) and objective.strip() and subtasks and operations):
            raise ValueError("a plan needs an objective, sub-tasks and operations")
        for c in constraints:
            if allowed and c["subject"] not in allowed:
                raise ValueError(f"constraint on {c['subject']!r}, which is not in this row")
            for n in _NUMBER.findall(c["requirement"]):
                if float(n) not in numbers:
                    raise ValueError(f"constraint states {n}, a value this row does not have")
        for op in operations:
            if op["action"] not in actions:
                raise ValueError(f"unknown action {op['action']!r}")
            if allowed and op["target"] not in allowed:
                raise ValueError(f"operation on {op['target']!r}, which is not in this row")
        return plan

    return check


class ExpandCot(LlmStage, Stage):
    name = "cot"
    resources: ClassVar = Resources(cpus=0.5)

    def __init__(self, cfg: CotConfig):
        self.cfg = cfg
        self.llm_cfg = cfg.llm

    def flavour(self, row: Row) -> str:
        return (
            self.cfg.flavour
            if self.cfg.flavour != "auto"
            else FLAVOUR_BY_DOMAIN.get(row.get("domain") or "", "general")
        )

    def ask(self, rows: list[Row]) -> list[Job]:
        jobs = []
        for row in rows:
            if row.get("task") not in self.cfg.tasks or not row.get("instruction"):
                continue
            flavour = self.flavour(row)
            names, numbers = vocabulary(row)
            user = json.dumps(
                {"request": row["instruction"], "task": row["task"], "elements": names}, ensure_ascii=False
            )
            messages = [
                {"role": "system", "content": self.cfg.prompts[flavour]},
                {"role": "user", "content": user},
            ]
            rule = schema(names, ACTIONS[flavour], self.cfg.max_items, self.cfg.max_chars)
            check = validator(names, numbers, ACTIONS[flavour])  # each row is held to its own vocabulary
            request = Request(messages, schema=rule, seed=row["seed"] % 2**31, validate=check)
            jobs.append((row, request, flavour))
        return jobs

    def apply(self, row: Row, got: Answer, flavour: str) -> None:
        row["cot"] = render(got.value)
        record_answer(row, "cot", self.client.model, got, flavour=flavour, plan=got.value)


def build_stages(cfg: CotConfig) -> list[Stage]:
    return [ExpandCot(cfg)]
