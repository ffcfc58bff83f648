from __future__ import annotations

import os

import numpy as np
import pytest

from renderers.meme import Caption, CaptionFitError, MemeFonts, draw_meme, wrap
from renderers.text.layout import load_font
from synth.evaluate.text import crop_box, ned
from synth.fonts import FontFace
from synth.ocr import OcrConfig, make_ocr
from synth.sources import skimage_pixels

BEBAS = FontFace("Bebas Neue", "Bold", "/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf")
NARROW = FontFace(
    "Liberation Sans Narrow", "Bold", "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf"
)
DEJAVU = FontFace(
    "DejaVu Sans", "Condensed Bold", "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"
)
CJK = FontFace("Noto Sans CJK SC", "Bold", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2)
LONG = "when you finally fix the bug at three in the morning and then the tests fail again"


def fonts(latin: FontFace, cjk: FontFace = CJK) -> MemeFonts:
    for face in (latin, cjk):
        if not os.path.exists(face.path):
            pytest.skip(f"font file {face.path} ({face.name}) is not installed")
    return MemeFonts(latin, cjk)


@pytest.fixture(scope="module")
def ocr():
    return make_ocr(OcrConfig())


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_pixels("astronaut")


def read_ned(ocr, image, lines) -> list[float]:
    reads = ocr.recognize([crop_box(image, d.bbox) for d in lines])
    return [ned(d.text, text) for d, (text, _) in zip(lines, reads, strict=True)]


def inside(bbox, box) -> bool:
    return box[0] <= bbox[0] and box[1] <= bbox[1] and bbox[2] <= box[2] and bbox[3] <= box[3]


def test_classic_top_and_bottom_read_back(ocr, astronaut):
    h, w = astronaut.shape[:2]
    captions = [
        Caption("when the code works on the first try", "top"),
        Caption("and nobody knows why", "bottom"),
    ]
    meme = draw_meme(astronaut, captions, "classic", fonts(BEBAS))
    assert meme.image.shape == astronaut.shape and meme.offset == 0
    assert {d.caption for d in meme.lines} == {0, 1}
    for d in meme.lines:
        assert d.text == d.text.upper() and d.color == "#ffffff" and d.stroke == max(1, round(d.size / 12))
        assert inside(d.bbox, (0, 0, w, h))
        if d.caption == 0:
            assert d.bbox[3] <= 0.45 * h
        else:
            assert d.bbox[1] >= 0.55 * h
    assert " ".join(d.text for d in meme.lines if d.caption == 0) == captions[0].text.upper()
    assert max(read_ned(ocr, meme.image, meme.lines)) <= 0.15


def test_long_caption_shrinks_and_wraps(astronaut):
    h, w = astronaut.shape[:2]
    assert len(LONG.split()) >= 14
    meme = draw_meme(astronaut, [Caption(LONG, "top")], "classic", fonts(NARROW))
    margin = round(w * 0.03)
    assert 2 <= len(meme.lines) <= 3
    assert " ".join(d.text for d in meme.lines) == LONG.upper()
    assert all(d.bbox[2] - d.bbox[0] <= w - 2 * margin for d in meme.lines)
    assert meme.lines[0].size < round(h / 9)
    assert meme.areas[0][3] <= 0.45 * h


def test_blocks_keep_to_their_share_of_a_short_image(astronaut):
    strip = np.ascontiguousarray(astronaut[:160])  # wide and short: height, not width, limits the size
    captions = [Caption(LONG, "top"), Caption(LONG, "bottom")]
    meme = draw_meme(strip, captions, "classic", fonts(NARROW), max_lines=8, size_ratio=1 / 4)
    assert meme.areas[0][3] <= 0.45 * 160 and meme.areas[1][1] >= 0.55 * 160
    assert all(d.size < 40 for d in meme.lines)


@pytest.mark.parametrize(
    "text",
    [" ".join(["meme"] * 200), "m" * 60],
    ids=["200-words", "60-letter-word"],
)
def test_caption_that_cannot_fit_raises(astronaut, text):
    with pytest.raises(CaptionFitError):
        draw_meme(astronaut, [Caption(text, "bottom")], "classic", fonts(DEJAVU))


def test_wrap_keeps_ascii_words_whole_in_han_text():
    font = load_font(CJK.path, CJK.index, 24)
    lines = wrap("我们都爱用Python写代码，因为它简单又好用", font, 150, 10)
    assert lines and len(lines) > 1
    assert "".join(lines) == "我们都爱用Python写代码，因为它简单又好用"
    assert any("Python" in s for s in lines)
    assert not any(s.startswith("，") for s in lines)
    assert all(font.getbbox(s)[2] - font.getbbox(s)[0] <= 150 for s in lines)
    assert wrap("a" * 60, font, 150, 3) is None
    assert wrap("我们都爱用Python写代码", font, 40, 2) is None


def test_chinese_caption_reads_back(ocr, astronaut):
    captions = [Caption("老板说今天不用加班", "top"), Caption("当你以为终于可以准时下班的时候", "bottom")]
    meme = draw_meme(astronaut, captions, "classic", fonts(BEBAS, CJK))
    assert {d.font for d in meme.lines} == {CJK.name}
    assert "".join(d.text for d in meme.lines if d.caption == 1) == captions[1].text
    assert max(read_ned(ocr, meme.image, meme.lines)) <= 0.2


def test_modern_band_above_template():
    coffee = skimage_pixels("coffee")
    h, w = coffee.shape[:2]
    text = "Me explaining to my cat why the deploy failed again"
    meme = draw_meme(coffee, [Caption(text, "top")], "modern", fonts(DEJAVU))
    image = meme.image
    assert image.shape[0] > h and image.shape[0] == meme.offset + h
    assert np.array_equal(image[meme.offset : meme.offset + h], coffee)
    assert " ".join(d.text for d in meme.lines) == text  # case kept
    band = image[: meme.offset]
    mask = np.zeros(band.shape[:2], bool)
    for d in meme.lines:
        assert d.color == "#000000" and d.stroke == 0 and d.bbox[0] == round(w * 0.03)
        x0, y0, x1, y1 = (int(v) for v in d.bbox)
        assert band[y0:y1, x0:x1].min() < 40  # black ink
        mask[y0:y1, x0:x1] = True
    assert (band[~mask] == 255).all()  # white band


def test_modern_bottom_band_and_label_shift():
    coffee = skimage_pixels("coffee")
    h, w = coffee.shape[:2]
    region = (40.0, 100.0, 260.0, 180.0)
    captions = [Caption("top text", "top"), Caption("bottom text", "bottom"), Caption("hot", "label", region)]
    meme = draw_meme(coffee, captions, "modern", fonts(DEJAVU))
    assert meme.image.shape[0] > meme.offset + h > h
    assert all(d.bbox[1] >= meme.offset + h for d in meme.lines if d.caption == 1)
    shifted = (region[0], region[1] + meme.offset, region[2], region[3] + meme.offset)
    assert [d.text for d in meme.lines if d.caption == 2] == ["HOT"]
    assert all(inside(d.bbox, shifted) for d in meme.lines if d.caption == 2)


def test_label_fits_its_region(astronaut):
    region = (300.0, 200.0, 470.0, 400.0)
    meme = draw_meme(astronaut, [Caption("me looking at the bug", "label", region)], "classic", fonts(BEBAS))
    assert meme.lines and all(inside(d.bbox, region) for d in meme.lines)
    assert inside(meme.areas[0], region)
    x0, y0, x1, y1 = meme.areas[0]
    # centred: exactly across, and down to the slack the accent and descender room leaves
    assert abs((x0 + x1) - (region[0] + region[2])) <= 2
    assert abs((y0 + y1) - (region[1] + region[3])) / 2 <= 0.15 * meme.lines[0].size
    for bad in [(400.0, 400.0, 600.0, 480.0), (10.0, 10.0, 40.0, 15.0)]:  # outside; too small
        with pytest.raises(CaptionFitError):
            draw_meme(astronaut, [Caption("me", "label", bad)], "classic", fonts(BEBAS))


def test_classic_touches_only_line_boxes(astronaut):
    captions = [Caption(LONG, "top"), Caption("", "bottom"), Caption("ok", "label", (20, 300, 200, 360))]
    meme = draw_meme(astronaut, captions, "classic", fonts(BEBAS))
    assert meme.areas[1] == (0, 0, 0, 0) and not [d for d in meme.lines if d.caption == 1]
    mask = np.zeros(astronaut.shape[:2], bool)
    for d in meme.lines:
        x0, y0, x1, y1 = (int(v) for v in d.bbox)
        mask[y0:y1, x0:x1] = True
    assert np.array_equal(meme.image[~mask], astronaut[~mask])
    assert not np.array_equal(meme.image[mask], astronaut[mask])


def test_same_inputs_same_bytes(astronaut):
    captions = [Caption("one does not simply", "top"), Caption("write a pure renderer", "bottom")]
    a = draw_meme(astronaut, captions, "classic", fonts(BEBAS))
    b = draw_meme(astronaut.copy(), captions, "classic", fonts(BEBAS))
    assert a.image.tobytes() == b.image.tobytes() and a.lines == b.lines
