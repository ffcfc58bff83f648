"""The format of the ``cot`` column: a plan (objective, sub-tasks, constraints, ordered operations)
as text. ``synth cot`` writes it from the LLM's plans; domains that know their own plan (the meme
pipeline's humour plan) write theirs in the same format, so one reader parses both."""

from __future__ import annotations

from typing import Any


def render(plan: dict[str, Any]) -> str:
    """The plan as the ``cot`` text: objective, sub-tasks, constraints, ordered operations."""
    lines = [f"Objective: {plan['objective'].strip()}", "Sub-tasks:"]
    lines += [f"{i}. {s.strip()}" for i, s in enumerate(plan["subtasks"], 1)]
    lines += ["Constraints:"] + [f"- {c['subject']}: {c['requirement'].strip()}" for c in plan["constraints"]]
    lines += ["Operations:"] + [
        f"{i}. {o['action']} {o['target']}: {o['detail'].strip()}"
        for i, o in enumerate(plan["operations"], 1)
    ]
    return "\n".join(lines)
