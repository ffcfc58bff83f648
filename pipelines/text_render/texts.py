"""Real text to render: the shipped corpus of fluent public-domain text (``corpus.py``) for
titles, lines and paragraphs; Faker's en_US and zh_CN providers for names, companies, places,
dates and contacts; and an optional user corpus. Every draw is seeded by the sample's own RNG."""

from __future__ import annotations

import functools
import re

import numpy as np
from faker import Faker

from pipelines.text_render.corpus import shipped
from synth.sampling import pick

# How often a role's text comes from the shipped corpus rather than Faker's templates (names,
# companies, places, dates); a paragraph always does, a footer (phone, url, email) never.
CORPUS_SHARE = {"title": 0.5, "subtitle": 0.5, "item": 0.6, "body": 1.0, "footer": 0.0}
GOODS = ["shoes", "books", "coats", "bags", "toys", "lamps", "watches", "plants"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@functools.lru_cache(maxsize=2)
def _faker(locale: str) -> Faker:
    return Faker(locale)


@functools.lru_cache(maxsize=4)
def load_corpus(path: str) -> dict[str, tuple[str, ...]]:
    """A corpus file split by script: lines with Han characters are ``zh``, the others ``en``."""
    with open(path, encoding="utf-8") as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    return {
        "zh": tuple(ln for ln in lines if _HAN.search(ln)),
        "en": tuple(ln for ln in lines if not _HAN.search(ln)),
    }


def _short(text: str, words: int) -> str:
    return " ".join(text.split()[:words])


class TextSource:
    """Draws text for a role (title, subtitle, body, item, footer; any other role is a body) in a
    language (``zh`` or ``en``)."""

    def __init__(self, corpus: str | None = None, corpus_share: float = 0.5):
        self.corpus = load_corpus(corpus) if corpus else None
        self.corpus_share = corpus_share

    def draw(self, rng: np.random.Generator, role: str, language: str) -> str:
        if self.corpus and self.corpus[language] and rng.random() < self.corpus_share:
            line = self.corpus[language][int(rng.integers(len(self.corpus[language])))]
            limit = {"title": 6, "subtitle": 10, "item": 8, "footer": 8}.get(role)
            if limit and language == "en":
                return _short(line, limit)
            return line[: limit * 2] if limit else line
        role = role if role in CORPUS_SHARE else "body"
        if rng.random() < CORPUS_SHARE[role]:
            return shipped(language).draw(rng, role)
        fake = _faker("zh_CN" if language == "zh" else "en_US")
        fake.seed_instance(int(rng.integers(2**31)))
        return (_zh if language == "zh" else _en)(fake, rng, role)


def _en(fake: Faker, rng: np.random.Generator, role: str) -> str:
    if role == "title":
        return pick(
            rng,
            [
                lambda: fake.company(),
                lambda: (
                    f"{fake.city()} {pick(rng, ['Festival', 'Market', 'Summit', 'Marathon', 'Book Fair'])}"
                ),
                lambda: pick(rng, ["Grand Opening", "Big Sale", "Welcome", "Open Day"]),
            ],
        )()
    if role == "subtitle":
        return pick(
            rng,
            [
                lambda: fake.date_between("-2y", "+2y").strftime("%B %d, %Y"),
                lambda: f"{fake.street_address()}, {fake.city()}",
                lambda: f"{int(rng.integers(10, 80))}% off {pick(rng, GOODS)}",
            ],
        )()
    if role == "item":
        return pick(rng, [fake.job, fake.company])()
    return pick(rng, [lambda: fake.url(), lambda: fake.phone_number(), lambda: fake.email()])()


def _zh(fake: Faker, rng: np.random.Generator, role: str) -> str:
    if role == "title":
        return pick(
            rng,
            [
                lambda: fake.company(),
                lambda: f"{fake.city()}{pick(rng, ['欢迎您', '美食节', '读书会', '马拉松', '音乐节'])}",
                lambda: pick(rng, ["盛大开业", "限时特惠", "新品上市", "年终大促", "开放日"]),
            ],
        )()
    if role == "subtitle":
        return pick(
            rng,
            [
                lambda: fake.address(),
                lambda: fake.date_between("-2y", "+2y").strftime("%Y年%m月%d日"),
                lambda: f"全场{int(rng.integers(3, 9))}折起",
                lambda: fake.job(),
            ],
        )()
    if role == "item":
        return pick(rng, [fake.job, fake.company])()
    return pick(rng, [lambda: f"电话：{fake.phone_number()}", lambda: fake.url(), fake.address])()
