"""Text layout: wrapping by measured glyph widths and fitting a font size to a box.

CJK text breaks between any two characters (never putting closing punctuation at a line start);
Latin text breaks between words, and inside a word only when the word alone is too wide.
"""

from __future__ import annotations

import functools
import re

from PIL import ImageFont

_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+|\s+")
NO_LINE_START = set("，。、！？；：）》」』”’〉】,.!?;:)%")


@functools.lru_cache(maxsize=512)
def load_font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


def line_height(font: ImageFont.FreeTypeFont, spacing: float) -> int:
    ascent, descent = font.getmetrics()
    return int(round((ascent + descent) * spacing))


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy wrap of one paragraph (no newlines) into lines no wider than ``max_width``."""
    lines: list[list[str]] = [[]]
    for token in tokenize(text):
        current = lines[-1]
        if token.isspace():
            if current:
                current.append(" ")
            continue
        if not current or font.getlength("".join([*current, token]).rstrip()) <= max_width:
            current.append(token)
        else:
            new = [token]
            # closing punctuation never starts a line: carry tokens down until it would not
            while new[0] in NO_LINE_START and len([t for t in current if t != " "]) > 1:
                carried = current.pop()
                if carried != " ":
                    new.insert(0, carried)
            while current and current[-1] == " ":
                current.pop()
            lines.append(new)
        last = lines[-1]
        if len(last) == 1 and len(last[0]) > 1 and font.getlength(last[0]) > max_width:
            lines[-1:] = [[part] for part in _split_word(last[0], font, max_width)]
    return [s for s in ("".join(line).strip() for line in lines) if s]


def _split_word(word: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    parts, current = [], ""
    for ch in word:
        if current and font.getlength(current + ch) > max_width:
            parts.append(current)
            current = ""
        current += ch
    return [*parts, current] if current else parts


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Wrap text that may hold explicit newlines (list items, paragraphs)."""
    return [line for para in text.split("\n") for line in wrap(para, font, max_width)]


def fit(
    text: str,
    path: str,
    index: int,
    box: tuple[float, float],
    sizes: tuple[int, int],
    spacing: float = 1.15,
    max_lines: int | None = None,
) -> tuple[int, list[str]] | None:
    """The largest font size in ``sizes`` (min, max) at which ``text`` wraps into ``box`` (w, h),
    with its lines; None when even the smallest size does not fit."""
    box_w, box_h = box
    lo, hi = sizes
    best = None
    while lo <= hi:
        size = (lo + hi) // 2
        font = load_font(path, index, size)
        lines = wrap_text(text, font, box_w)
        fits = (
            lines
            and len(lines) * line_height(font, spacing) <= box_h
            and max(font.getlength(s) for s in lines) <= box_w
            and (max_lines is None or len(lines) <= max_lines)
        )
        if fits:
            best = (size, lines)
            lo = size + 1
        else:
            hi = size - 1
    return best
