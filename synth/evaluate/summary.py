"""Figures of ``synth eval generation`` over groups of rows (all, per domain, subdomain, task and
language), and the table the CLI prints.

A group's metric is the mean over its scored rows that have it (a t2i row has no PSNR, a row
whose prompt asks for no text has no OCR figure); the number of rows behind each mean is kept
(``n_<metric>``). Per language, OCR figures are over the text blocks of that language: word
accuracy is words read right over words asked for (so a long paragraph weighs more than a
title), NED the mean over blocks.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

METRICS = (
    "ocr_word_acc", "ocr_ned", "clip_score", "psnr_outside",
    "te_oa", "te_op", "te_or", "te_f1", "te_ned", "te_placed", "te_correctness_ned",
    "judge_instruction_following", "judge_consistency", "judge_quality",
)  # fmt: skip
GROUPS = (("by_domain", "domain"), ("by_subdomain", "subdomain"), ("by_task", "task"))
COLUMNS = (  # (header, metric) of the printed table
    ("WordAcc", "ocr_word_acc"), ("NED", "ocr_ned"), ("CLIP", "clip_score"), ("PSNRout", "psnr_outside"),
    ("OA", "te_oa"), ("Placed", "te_placed"), ("corrNED", "te_correctness_ned"),
    ("judgeIF", "judge_instruction_following"), ("judgeCons", "judge_consistency"), ("judgeQual", "judge_quality"),
)  # fmt: skip


def group_figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    status = Counter(r["status"] for r in records)
    out: dict[str, Any] = {
        "rows": len(records),
        **{s: status.get(s, 0) for s in ("scored", "error", "skipped")},
    }
    scored = [r for r in records if r["status"] == "scored"]
    for m in METRICS:
        vals = [r[m] for r in scored if r.get(m) is not None]
        if vals:
            out[m] = round(float(np.mean(vals)), 4)
            out[f"n_{m}"] = len(vals)
    return out


def language_figures(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by: dict[str, list[dict[str, Any]]] = {}
    rows: dict[str, set[int]] = {}
    for k, r in enumerate(records):
        for b in r.get("blocks") or []:
            by.setdefault(b["language"], []).append(b)
            rows.setdefault(b["language"], set()).add(k)
    out = {}
    for lang in sorted(by):
        blocks = by[lang]
        words = sum(b["words"] for b in blocks)
        out[lang] = {
            "rows": len(rows[lang]),
            "blocks": len(blocks),
            "words": words,
            "ocr_word_acc": round(sum(b["correct"] for b in blocks) / words, 4) if words else None,
            "ocr_ned": round(float(np.mean([b["ned"] for b in blocks])), 4),
        }
    return out


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """``summary`` (all rows), ``by_domain``, ``by_subdomain``, ``by_task``, ``by_language`` and
    the error reasons with one example detail each."""
    out: dict[str, Any] = {"summary": group_figures(records)}
    for name, field in GROUPS:
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in records:
            groups.setdefault(str(r.get(field)), []).append(r)
        out[name] = {k: group_figures(v) for k, v in sorted(groups.items())}
    out["by_language"] = language_figures(records)
    reasons: dict[str, dict[str, Any]] = {}
    for r in records:
        if r["status"] == "error":
            entry = reasons.setdefault(
                r["reason"], {"rows": 0, "example": f"{r.get('sample_id')}: {r['detail']}"}
            )
            entry["rows"] += 1
    out["errors"] = dict(sorted(reasons.items()))
    return out


def table(report: dict[str, Any]) -> str:
    """The figures as a table: overall, per domain, subdomain and task, then per language; only
    the columns some group has."""
    groups = [("all", report["summary"])]
    for name, label in (("by_domain", "domain"), ("by_subdomain", "sub"), ("by_task", "task")):
        groups += [(f"{label}:{k}", v) for k, v in report[name].items()]
    cols = [(h, m) for h, m in COLUMNS if any(m in g for _, g in groups)]
    width = max([17, *(len(n) + 1 for n, _ in groups)])
    head = f"{'group':<{width}}{'rows':>6}{'err':>5}" + "".join(f"{h:>10}" for h, _ in cols)
    lines = [head, "-" * len(head)]
    for name, g in groups:
        cells = "".join(f"{g[m]:>10.3f}" if m in g else f"{'-':>10}" for _, m in cols)
        lines.append(f"{name:<{width}}{g['rows']:>6}{g['error']:>5}{cells}")
    if report.get("by_language"):
        lines += ["", f"{'language':<10}{'rows':>6}{'blocks':>8}{'words':>8}{'WordAcc':>10}{'NED':>10}"]
        for lang, g in report["by_language"].items():
            acc = f"{g['ocr_word_acc']:>10.3f}" if g["ocr_word_acc"] is not None else f"{'-':>10}"
            lines.append(f"{lang:<10}{g['rows']:>6}{g['blocks']:>8}{g['words']:>8}{acc}{g['ocr_ned']:>10.3f}")
    s = report["summary"]
    lines += ["", f"rows {s['rows']}: scored {s['scored']}, error {s['error']}, skipped {s['skipped']}"]
    for reason, e in report.get("errors", {}).items():
        lines.append(f"  error {reason}: {e['rows']} (e.g. {e['example'][:120]})")
    lines += [f"note: {n}" for n in report.get("notes", [])]
    return "\n".join(lines)
