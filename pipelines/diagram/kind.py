"""The contract of a kind of figure.

What every kind of figure provides: a seeded structure, its drawing, its edits and questions.

A kind is a small object of pure functions. The pipeline asks it for a structure (``sample``),
draws one or two structures with one shared layout (``draw``), proposes an edit's parameters
(``propose``), replays the edit (``apply``), checks a pair against what the instruction says
(``check``: by independent means, e.g. key sets or edge sets, not by calling ``apply`` again), and
asks a question whose answer it computes (``ask``). A structure is a JSON-able dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Text2:
    """A text in English and Chinese."""

    en: str
    zh: str


@dataclass(frozen=True)
class Question:
    text: Text2
    answer: str
    cot: str | None = None  # the working, where the answer takes steps


class Kind:
    name: ClassVar[str]

    @property
    def subdomain(self) -> str:
        """The row's subdomain below the pipeline's prefix, e.g. "bst", "mechanics/incline"."""
        return self.name

    edits: ClassVar[tuple[str, ...]]

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        raise NotImplementedError

    def sample_for(self, rng: np.random.Generator, op: str | None) -> dict[str, Any]:
        """A structure to draw a row of ``op`` on (None: a t2i or und row); most kinds take any."""
        return self.sample(rng)

    def draw(self, structures: list[dict[str, Any]]):
        """One drawing per structure, all from one layout (the union of the structures)."""
        raise NotImplementedError

    def describe(self, s: dict[str, Any]) -> Text2:
        raise NotImplementedError

    def propose(self, rng: np.random.Generator, op: str, s: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def apply(self, s: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, source: dict[str, Any], target: dict[str, Any], edit: dict[str, Any]) -> str | None:
        raise NotImplementedError

    def scope(self, source: dict[str, Any], target: dict[str, Any], edit: dict[str, Any]) -> set[str] | None:
        """Element ids the edit may change; None where it may change any."""
        return None

    def verify(self, structures: list[dict[str, Any]], drawings: list) -> str | None:
        """A check of the drawings against their structures, on every row (a geometry figure
        re-derives its visibility by ray casting); what is wrong, or None."""
        return None

    def instruct(self, edit: dict[str, Any]) -> Text2:
        raise NotImplementedError

    def ask(self, rng: np.random.Generator, s: dict[str, Any]) -> Question:
        raise NotImplementedError


def seq(items, sep: str = ", ") -> str:
    return sep.join(str(i) for i in items)
