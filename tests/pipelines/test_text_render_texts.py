"""The text that text-render draws is fluent: whole titles, lines and runs of lines of the shipped
public-domain corpus, or Faker's names, companies, places and contacts; never Faker's word salad."""

from __future__ import annotations

import functools
import json
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest
from faker import Faker

from pipelines.text_render import corpus, texts
from pipelines.text_render.corpus import BODY, ROLE_MAX, shipped, size
from pipelines.text_render.texts import TextSource

ROLES = ("title", "subtitle", "item", "body", "footer", "list")
ZH_LINE = re.compile(r"^[\u4e00-\u9fff，。？！；：、“”‘’《》·]+$")
EN_LINE = re.compile(r"^[A-Za-z0-9 ,.;:!?'\"()—-]+$")
ROOT = Path(__file__).resolve().parents[2]


def _draws(seed: int, role: str, language: str, n: int = 200) -> list[str]:
    rng = np.random.default_rng([seed])
    source = TextSource()
    return [source.draw(rng, role, language) for _ in range(n)]


def _runs(language: str) -> set[str]:
    """Every run of consecutive whole lines of one work: what a body may be."""
    sep = "" if language == "zh" else " "
    out = set()
    for _, lines in shipped(language).works:
        for i in range(len(lines)):
            for j in range(i + 1, len(lines) + 1):
                out.add(sep.join(lines[i:j]))
    return out


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_paragraph_is_consecutive_whole_lines_of_one_work(language):
    runs = _runs(language)
    lo, hi = BODY[language]
    for text in _draws(1, "body", language, 300):
        assert text in runs, text
        assert lo <= size(text, language) <= hi


@pytest.mark.parametrize("language", ["zh", "en"])
def test_corpus_titles_and_lines_are_whole_and_fit_their_role(language):
    works = shipped(language)
    titles = {t for t, _ in works.works}
    lines = {ln for _, ls in works.works for ln in ls}
    rng = np.random.default_rng([2])
    for role in ("title", "subtitle", "item"):
        for _ in range(200):
            text = works.draw(rng, role)
            assert text in (titles if role == "title" else titles | lines), (role, text)
            assert size(text, language) <= ROLE_MAX[language][role]


SALAD = ("word", "words", "sentence", "sentences", "paragraph", "paragraphs", "text", "bs", "catch_phrase")


def _salad(*args, **kwargs):
    raise AssertionError("word salad: Faker's random words were drawn")


@pytest.fixture
def no_word_salad(monkeypatch):
    """TextSource's Faker has its random-word providers raise: a draw that uses one fails."""

    @functools.lru_cache(maxsize=2)
    def faker(locale: str) -> Faker:
        fake = Faker(locale)
        for generator in fake._factories:
            for name in SALAD:
                setattr(generator, name, _salad)
        return fake

    monkeypatch.setattr(texts, "_faker", faker)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_role_draws_from_fakers_random_words(no_word_salad, language):
    for role in ROLES:
        assert all(_draws(3, role, language, 150))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_draws_are_deterministic_per_seed(language):
    for role in ROLES:
        assert _draws(7, role, language, 40) == _draws(7, role, language, 40)
    assert _draws(7, "body", language, 40) != _draws(8, "body", language, 40)


def test_shipped_lines_are_clean_text():
    for language, pattern in (("zh", ZH_LINE), ("en", EN_LINE)):
        works = shipped(language).works
        assert len(works) >= 300
        for title, lines in works:
            for text in (title, *lines):
                assert pattern.match(text), (language, text)
                if language == "zh":
                    text.encode("gb2312")  # every simplified-Chinese font covers it
                    assert text.count("“") == text.count("”"), text
                else:
                    assert text.count('"') % 2 == 0, text
                    assert "Gutenberg" not in text


def test_corpus_and_its_licence_ship_as_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    for path in (*corpus.FILES.values(), corpus.LICENSE):
        assert path.is_file() and path.parent == Path(corpus.__file__).resolve().parent
        assert any(fnmatch(path.name, g) for g in globs), path.name
    text = corpus.LICENSE.read_text(encoding="utf-8")
    assert "public domain" in text and "MIT License" in text
    for path in corpus.FILES.values():
        assert "CORPUS_LICENSE.txt" in json.loads(path.read_text(encoding="utf-8"))["note"]
