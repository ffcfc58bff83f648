"""Text matching for OCR verification."""

from __future__ import annotations

import pytest

from synth.evaluate.text import edit_distance, ned, normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("你好，世界！", "你好,世界!"),  # full-width punctuation to ASCII
        ("（测试）：１２３", "(测试):123"),  # full-width brackets, colon and digits
        ("Ｈｅｌｌｏ", "hello"),  # full-width Latin, case folded
        ("Hello World", "helloworld"),
        ("  a \t b\n c  ", "abc"),
        ("数 据　引 擎", "数据引擎"),  # ideographic space too
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_normalize_text_options():
    assert normalize_text("  Hello   World ", ignore_space=False) == "hello world"
    assert normalize_text("Hello World", casefold=False) == "HelloWorld"


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("数据引擎", "数据引擊", 1),
        ("abc", "abc", 0),
    ],
)
def test_edit_distance(a, b, d):
    assert edit_distance(a, b) == d
    assert edit_distance(b, a) == d


def test_ned_exact_and_normalised_reads_are_zero():
    assert ned("Hello, World!", "Hello, World!") == 0.0
    assert ned("Hello World", "helloworld") == 0.0  # spaces and case ignored
    assert ned("你好，世界", "你好,世 界") == 0.0  # full-width comma equals ASCII comma
    assert ned("", "") == 0.0
    assert ned("   ", "") == 0.0


def test_ned_values():
    assert ned("abcd", "abcx") == pytest.approx(0.25)
    assert ned("abc", "") == 1.0
    assert ned("", "xyz") == 1.0
    assert ned("abc", "xyz") == 1.0
    assert ned("kitten", "sitting") == pytest.approx(3 / 7)
    assert 0.0 <= ned("数据引擎", "数据") <= 1.0
    assert ned("数据引擎", "数据") == pytest.approx(0.5)


def test_ned_options_pass_through():
    assert ned("Hello", "hello", casefold=False) == pytest.approx(0.2)
    assert ned("a b", "ab", ignore_space=False) == pytest.approx(1 / 3)
