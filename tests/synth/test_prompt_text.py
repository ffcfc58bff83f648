"""The texts a prompt asks for, and their reads in an image that wraps and orders text its own way."""

from __future__ import annotations

import pytest

from synth.evaluate.prompt_text import Expected, expected_texts, score_reads, words_of
from synth.evaluate.text import normalize_text


def line(text: str, language: str = "en", role: str = "body") -> dict:
    return {"text": text, "language": language, "role": role}


def test_lines_the_prompt_says_form_blocks_even_with_quotes_inside():
    """A quoted paragraph holding quotes of its own is found from the texts column, wrapped
    lines joined back into the block the prompt quotes."""
    prompt = ('A text page. The title reads "The Ass" in black. A paragraph reads "He said: "Hardly," '
              'and went on his way." in grey.')  # fmt: skip
    texts = [line("The Ass", role="title"), line('He said: "Hardly,"'), line("and went on his way.")]
    blocks, source = expected_texts(prompt, texts)
    assert source == "texts"
    assert [b.text for b in blocks] == ["The Ass", 'He said: "Hardly," and went on his way.']


def test_short_labels_must_be_whole_words_and_unsaid_lines_are_left_out():
    prompt = "A ray diagram about a force F = 5 N on m1; the values are 12 and 7."
    texts = [line("a"), line("ab"), line("12"), line("m1"), line("F = 5 N"), line("not in the prompt")]
    blocks, _ = expected_texts(prompt, texts)
    # "a" is one character, "ab" only occurs inside "about"
    assert [b.text for b in blocks] == ["12", "m1", "F = 5 N"]


def test_chinese_lines_join_without_spaces_and_keep_their_language():
    prompt = "一张海报，标题“开放日”，正文“吟笺赋笔，犹记燕台句。知谁伴”。"
    texts = [line("开放日", "zh", "title"), line("吟笺赋笔，犹记燕台", "zh"), line("句。知谁伴", "zh")]
    blocks, _ = expected_texts(prompt, texts)
    assert blocks == [Expected("开放日", "zh"), Expected("吟笺赋笔，犹记燕台句。知谁伴", "zh")]


def test_rows_without_texts_fall_back_to_quotes():
    blocks, source = expected_texts("A sign that reads \"OPEN\" and a chart titled 'Sales 2024'.", None)
    assert source == "prompt" and [b.text for b in blocks] == ["OPEN", "Sales 2024"]
    assert expected_texts("A cat on a mat.", [])[1] == "none"


def test_words_of_latin_and_cjk():
    text = "Taylor, Wood and 燕台 v2.0"
    spans = words_of(text)
    norm = normalize_text(text)
    assert [norm[a:b] for a, b in spans] == ["taylor", "wood", "and", "燕", "台", "v2", "0"]


def test_reads_in_any_order_and_wrap_score_perfectly():
    """Two columns read line by line, interleaved, and a title drawn on one line that the prompt
    wrapped: every block reads exactly."""
    expected = [Expected("Grand Opening Day", "en"), Expected("first column text goes here", "en"),
                Expected("second column words", "en")]  # fmt: skip
    reads = ["second column", "first column", "Grand Opening Day", "words", "text goes here"]
    for b in score_reads(expected, reads):
        assert b.ned == 0 and b.words_correct == b.words, b


def test_a_read_holding_two_blocks_is_split():
    expected = [Expected("Grand Opening", "en"), Expected("June 5", "en")]
    scores = score_reads(expected, ["GRAND OPENING JUNE 5"])
    assert [s.ned for s in scores] == [0, 0]


def test_misread_and_missing_text_cost():
    expected = [Expected("Better poverty without care", "en"), Expected("Miller", "en")]
    scores = score_reads(expected, ["Betler poverty withoot care", "a stray sign"])
    assert scores[0].words == 4 and scores[0].words_correct == 2  # "betler" and "withoot" are wrong
    assert scores[0].ned == pytest.approx(2 / 24, abs=1e-6)
    assert scores[1].ned == 1.0 and scores[1].words_correct == 0  # never drawn
