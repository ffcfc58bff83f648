"""Tiny TrueType fonts built with fontTools, for tests that must not depend on a system font: a cased
face (lowercase drawn unlike the capitals), a caps-only face (lowercase mapped to copies of the
capitals, as Bebas Neue does) and a small-caps face (lowercase as smaller capitals)."""

from __future__ import annotations

import string
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

EM = 1000
CHARS = string.ascii_letters + string.digits + ".,:;!?'-&()\"/%"


def _glyph(capital: bool, k: int, scale: float = 1.0):
    """A closed outline: a capital is a triangle, a lowercase letter a notched square (unlike any
    triangle); the width varies with the letter (``k``) so lines have uneven lengths."""
    pen = TTGlyphPen(None)
    w = int((420 + 12 * (k % 10)) * scale)
    if capital:
        pen.moveTo((40, 0))
        pen.lineTo((40 + w // 2, int(700 * scale)))
        pen.lineTo((40 + w, 0))
    else:
        pen.moveTo((40, 0))
        pen.lineTo((40, 500))
        pen.lineTo((40 + w // 2, 300))
        pen.lineTo((40 + w, 500))
        pen.lineTo((40 + w, 0))
    pen.closePath()
    return pen.glyph(), w + 80


def build_font(path: Path, family: str, lowercase: str = "distinct") -> Path:
    """Write a TTF at ``path`` covering ASCII letters, digits and common punctuation.
    ``lowercase``: "distinct" (a cased face), "caps" (a-z drawn as A-Z) or "small_caps"."""
    order = [".notdef", "space"]
    glyphs, metrics, cmap = {}, {}, {ord(" "): "space"}
    empty = TTGlyphPen(None).glyph()
    glyphs[".notdef"], glyphs["space"] = empty, empty
    metrics[".notdef"], metrics["space"] = (500, 0), (300, 0)
    for k, ch in enumerate(CHARS):
        name = f"g{ord(ch):04x}"
        if ch.islower() and lowercase != "distinct":  # the capital's outline, at full or 0.7 size
            glyph, advance = _glyph(True, CHARS.index(ch.upper()), 1.0 if lowercase == "caps" else 0.7)
        else:
            glyph, advance = _glyph(not ch.islower(), k)
        glyphs[name], metrics[name] = glyph, (advance, 40)
        order.append(name)
        cmap[ord(ch)] = name
    fb = FontBuilder(EM, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap(cmap)
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics(metrics)
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": family, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    path.parent.mkdir(parents=True, exist_ok=True)
    fb.save(str(path))
    return path
