"""Text layout: wrapping by measured width and fitting a size to a box."""

from __future__ import annotations

import pytest

from renderers.text.layout import fit, line_height, load_font, tokenize, wrap, wrap_text

LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_INDEX = 2  # Noto Sans CJK SC

EN = "The quick brown fox jumps over the lazy dog while the data engine renders every sample twice"
ZH = "数据引擎为统一多模态模型生成训练样本，每个样本都由光学字符识别读回验证。渲染器绝不显示缺字方框"


@pytest.fixture(scope="module")
def latin():
    return load_font(LATIN, 0, 24)


@pytest.fixture(scope="module")
def han():
    return load_font(CJK, CJK_INDEX, 20)


def fits(text, path, index, box, size, spacing=1.15, max_lines=None) -> bool:
    font = load_font(path, index, size)
    lines = wrap_text(text, font, box[0])
    return (
        bool(lines)
        and len(lines) * line_height(font, spacing) <= box[1]
        and max(font.getlength(s) for s in lines) <= box[0]
        and (max_lines is None or len(lines) <= max_lines)
    )


def test_tokenize():
    assert tokenize("Hello, big world") == ["Hello,", " ", "big", " ", "world"]
    assert tokenize("数据ab 引") == ["数", "据", "ab", " ", "引"]


@pytest.mark.parametrize("width", [100, 150, 233, 400, 900])
def test_latin_lines_fit_and_break_at_spaces(latin, width):
    # every word of EN alone is narrower than 100 px at 24 px, so no word may be split
    assert max(latin.getlength(w) for w in EN.split()) < 100
    lines = wrap(EN, latin, width)
    assert all(latin.getlength(line) <= width for line in lines)
    assert " ".join(lines) == EN  # no word split, nothing lost, no stray spaces
    words = set(EN.split())
    for line in lines:
        assert line == line.strip()
        assert all(w in words for w in line.split(" "))
    # greedy: the first word of the next line would not have fitted on this one
    for a, b in zip(lines, lines[1:], strict=False):
        assert latin.getlength(a + " " + b.split(" ")[0]) > width


WORD = "Supercalifragilisticexpialidocious"


def test_latin_long_first_word_is_split(latin):
    width = latin.getlength(WORD) / 3
    lines = wrap(f"{WORD} b", latin, width)
    assert all(latin.getlength(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == f"{WORD}b"
    assert len(lines) >= 3


def test_latin_long_word_after_other_words_is_split(latin):
    # "inside a word only when the word alone is too wide": also when it is not the first word
    width = latin.getlength(WORD) / 3
    lines = wrap(f"a {WORD} b", latin, width)
    assert "".join(lines).replace(" ", "") == f"a{WORD}b"
    assert all(latin.getlength(line) <= width for line in lines), lines


def test_wide_box_gives_one_line(latin, han):
    assert wrap(EN, latin, 10_000) == [EN]
    assert wrap(ZH, han, 10_000) == [ZH]


def test_spaces_collapse(latin):
    assert wrap("  many    spaces   here ", latin, 10_000) == ["many spaces here"]
    assert wrap("", latin, 100) == []
    assert wrap("   ", latin, 100) == []


@pytest.mark.parametrize("chars", [3, 5, 7.5, 12])
def test_chinese_breaks_between_characters(han, chars):
    width = 20 * chars
    lines = wrap(ZH, han, width)
    assert "".join(lines) == ZH
    assert all(han.getlength(line) <= width for line in lines)
    assert len(lines) > 1
    # lines are filled per character: most lines hold as many characters as fit
    full = int(chars)
    assert max(len(line) for line in lines) == full
    assert sum(len(line) >= full - 1 for line in lines) >= len(lines) - 1


def test_chinese_closing_punctuation_never_starts_a_line(han):
    # With 5 characters per line the comma would be the 6th character: it must pull "五" along.
    text = "一二三四五，六七八九十。一二三四"
    lines = wrap(text, han, 100)
    assert "".join(lines) == text
    assert all(han.getlength(line) <= 100 for line in lines)
    assert lines[0] == "一二三四"
    assert lines[1].startswith("五，")
    for line in lines:
        assert line[0] not in "，。"


@pytest.mark.parametrize("chars", range(3, 30))
def test_chinese_comma_and_full_stop_never_start_a_line(han, chars):
    width = 20 * chars + 1
    lines = wrap(ZH, han, width)
    assert "".join(lines) == ZH
    for line in lines:
        assert han.getlength(line) <= width
        assert line[0] not in "，。", lines


def test_consecutive_closing_punctuation_never_starts_a_line(han):
    # "。）" ends a sentence inside brackets: when "）" does not fit, "。" must not lead the next line.
    text = "我们一起去公园吧！（好的。）数据引擎，很强大。"
    for chars in range(3, 20):
        width = 20 * chars + 1
        lines = wrap(text, han, width)
        assert "".join(lines) == text
        for line in lines:
            assert line[0] not in "，。）！", (width, lines)


def test_wrap_text_keeps_explicit_newlines(latin):
    lines = wrap_text("first item\nsecond item", latin, 10_000)
    assert lines == ["first item", "second item"]


def test_mixed_script_line_fits(han):
    text = "数据引擎 Data Engine 使用 Ray 分布式运行"
    for width in (120, 200, 330):
        lines = wrap(text, han, width)
        assert all(han.getlength(line) <= width for line in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "path", "index", "box"),
    [
        (EN, LATIN, 0, (300, 200)),
        (EN, LATIN, 0, (900, 60)),
        ("Title", LATIN, 0, (400, 120)),
        (ZH, CJK, CJK_INDEX, (240, 300)),
        (ZH, CJK, CJK_INDEX, (600, 90)),
    ],
)
def test_fit_returns_the_largest_size_that_fits(text, path, index, box):
    result = fit(text, path, index, box, (8, 160))
    assert result is not None
    size, lines = result
    assert 8 <= size < 160
    assert fits(text, path, index, box, size)
    assert not fits(text, path, index, box, size + 1)
    font = load_font(path, index, size)
    assert lines == wrap_text(text, font, box[0])
    assert len(lines) * line_height(font, 1.15) <= box[1]
    assert all(font.getlength(line) <= box[0] for line in lines)


def test_fit_respects_the_upper_bound():
    size, lines = fit("Hi", LATIN, 0, (2000, 2000), (10, 40))
    assert size == 40
    assert lines == ["Hi"]


def test_fit_respects_max_lines():
    free = fit(EN, LATIN, 0, (300, 400), (8, 160))
    capped = fit(EN, LATIN, 0, (300, 400), (8, 160), max_lines=2)
    assert free is not None and capped is not None
    assert len(capped[1]) <= 2
    assert capped[0] < free[0]
    assert not fits(EN, LATIN, 0, (300, 400), capped[0] + 1, max_lines=2)


def test_fit_spacing_changes_the_size():
    tight = fit(EN, LATIN, 0, (300, 200), (8, 160), spacing=1.0)
    loose = fit(EN, LATIN, 0, (300, 200), (8, 160), spacing=2.0)
    assert tight is not None and loose is not None
    assert loose[0] < tight[0]


def test_fit_returns_none_when_impossible():
    assert fit(EN, LATIN, 0, (40, 10), (12, 160)) is None
    assert fit(ZH, CJK, CJK_INDEX, (100, 12), (12, 160)) is None
    assert fit("", LATIN, 0, (400, 400), (12, 160)) is None
