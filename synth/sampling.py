"""Seeded draws every generator shares: a weighted choice from a weight table, a uniform pick, the
check that makes a weight table usable, and the signal that a draw found nothing to work on.

Each takes the sample's own ``numpy.random.Generator`` and consumes it the same way whatever the
caller, so moving a draw here never changes a sample.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


class NotApplicable(ValueError):
    """This scene or structure cannot take this operation (an empty stack has nothing to pop, a
    scene has no word to replace): the caller draws another."""


def check_weights(value: dict[Any, float]) -> dict[Any, float]:
    """A weight table's validator (``field_validator(...)(check_weights)``): weights are relative
    frequencies, so none may be negative and not all zero."""
    if not value or any(v < 0 for v in value.values()) or sum(value.values()) <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    return value


def choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key of ``weights``, drawn in proportion to its weight; keys are sorted first, so the
    draw never depends on the order a config listed them in."""
    keys = sorted(weights)
    p = np.array([weights[k] for k in keys], np.float64)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def pick(rng: np.random.Generator, items: Iterable[T]) -> T:
    """One element, uniformly (a set is sorted first, so the draw is deterministic); raises
    :class:`NotApplicable` when there is nothing to choose from."""
    options = sorted(items) if isinstance(items, set | frozenset) else list(items)
    if not options:
        raise NotApplicable("nothing to choose from")
    return options[int(rng.integers(len(options)))]
