"""Alternating repeats: the one way our benchmarks compare two sides on a shared machine.

One run of each side decides nothing on a 2-core machine whose load drifts by 5-10% (issue 17:
0.76 and 0.918 for the same text-edit ratio), so every comparison runs both sides ``repeats``
times, alternating which goes first, and reports the median with every run's figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any


def alternating(steps: dict[str, Callable[[int], Any]], repeats: int) -> list[dict[str, Any]]:
    """Run every step once per repeat, in the given order on even repeats and reversed on odd
    ones; each step gets the repeat's index. Returns one dict of results per repeat."""
    order = list(steps)
    reps = []
    for i in range(repeats):
        names = order if i % 2 == 0 else order[::-1]
        reps.append({name: steps[name](i) for name in names})
    return reps


def medians(values: list[dict[str, float]]) -> dict[str, float]:
    """The median of each key over a list of dicts of figures with the same keys."""
    return {k: float(statistics.median(v[k] for v in values)) for k in values[0]}
