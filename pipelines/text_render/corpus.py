"""The shipped corpus of fluent text: public-domain classical Chinese (Tang and Song poems, the
Analects, Tang-to-Ming prose) and English (Aesop's fables in Townsend's translation).

Faker's sentences are real words in random order, and a model trained on rendered text learns the
prompt-text pairing, so whatever is longer than a name or an address comes from here. Sources,
licence and how the files were extracted: ``CORPUS_LICENSE.txt`` beside this module.

Every text drawn is one whole title, one whole line, or a run of consecutive lines of one work,
so it reads as its author wrote it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FILES = {"zh": HERE / "corpus_zh.json", "en": HERE / "corpus_en.json"}
LICENSE = HERE / "CORPUS_LICENSE.txt"

# The longest text a role takes: Han characters (zh) or words (en). Bodies also have a floor, so
# a paragraph block never holds a three-word scrap.
ROLE_MAX = {
    "zh": {"title": 12, "subtitle": 14, "item": 16},
    "en": {"title": 6, "subtitle": 7, "item": 8},
}
BODY = {"zh": (16, 64), "en": (12, 48)}


def size(text: str, language: str) -> int:
    """Characters of a Chinese text, words of an English one."""
    return len(text) if language == "zh" else len(text.split())


def join(lines: tuple[str, ...], language: str) -> str:
    return ("" if language == "zh" else " ").join(lines)


@dataclass(frozen=True)
class Works:
    """One language's works, with the texts each role may draw precomputed in file order."""

    language: str
    works: tuple[tuple[str, tuple[str, ...]], ...]  # (title, lines)
    pools: dict[str, tuple[str, ...]]

    def draw(self, rng: np.random.Generator, role: str) -> str:
        pool = self.pools[role if role in self.pools else "body"]
        return pool[int(rng.integers(len(pool)))]


def _pools(language: str, works: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, tuple[str, ...]]:
    limits = ROLE_MAX[language]
    titles = dict.fromkeys(t for t, _ in works if size(t, language) <= limits["title"])
    lines = [line for _, ls in works for line in ls]
    pools = {"title": tuple(titles)}
    for role in ("subtitle", "item"):
        pools[role] = tuple(dict.fromkeys(ln for ln in lines if size(ln, language) <= limits[role]))
    # titles make a list too (a table of contents), and English has few sentences of list length
    pools["item"] = tuple(
        dict.fromkeys([*pools["item"], *(t for t in titles if size(t, language) <= limits["item"])])
    )
    lo, hi = BODY[language]
    runs = []
    for _, ls in works:
        for start in range(len(ls)):
            for end in range(start + 1, len(ls) + 1):
                n = size(join(ls[start:end], language), language)
                if n > hi:
                    break
                if n >= lo:
                    runs.append(join(ls[start:end], language))
    pools["body"] = tuple(dict.fromkeys(runs))
    return pools


@functools.lru_cache(maxsize=2)
def shipped(language: str) -> Works:
    """The shipped works of ``language`` (``zh`` or ``en``), read once per process."""
    with open(FILES[language], encoding="utf-8") as f:
        data = json.load(f)
    works = tuple((w["title"], tuple(w["lines"])) for w in data["works"])
    return Works(language, works, _pools(language, works))
