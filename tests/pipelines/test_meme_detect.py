"""Meme captions found, styled and erased: synthetic memes (bundled photos, Bebas Neue Bold captions
with a black outline, drawn here with Pillow) read by the offline OCR, plus pure checks of the
grouping, the mask and the removal check on hand-made OCR results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.meme.detect import FoundCaption, detect_captions, group_captions
from pipelines.meme.remove import caption_mask, check_removal, remove_captions
from synth.evaluate.text import ned
from synth.models.erase import telea
from synth.ocr import OcrConfig, OcrText, make_ocr
from synth.sources import skimage_pixels

BEBAS = Path("/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf")
SERIF = Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf")
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
TOP, BOTTOM = "WHEN THE CODE COMPILES", "BUT NOTHING WORKS"
TWO_LINES, LABEL = ("ONE DOES NOT SIMPLY", "WALK INTO MORDOR"), "LABEL TEXT"


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    if not path.exists():
        pytest.skip(f"font {path} is not installed")
    return ImageFont.truetype(str(path), size)


def _meme(photo: str, top: tuple[str, ...] = (), bottom: str = "", label: str = "") -> np.ndarray:
    """Classic captions: white Bebas Neue Bold at H/9 with a black outline, centred; ``top`` lines
    stacked from the top margin, ``bottom`` on the bottom margin, ``label`` mid-height."""
    img = Image.fromarray(skimage_pixels(photo))
    w, h = img.size
    size, margin = h // 9, h // 30
    style = {
        "font": _font(BEBAS, size),
        "fill": "white",
        "stroke_width": max(2, size // 12),
        "stroke_fill": "black",
    }
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(top):
        draw.text((w / 2, margin + i * size * 1.05), line, anchor="mt", **style)
    if bottom:
        draw.text((w / 2, h - margin), bottom, anchor="mb", **style)
    if label:
        draw.text((w / 2, h / 2), label, anchor="mm", **style)
    return np.asarray(img)


def _telea(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return telea(image, mask, 5)


@pytest.fixture(scope="module")
def ocr():
    return make_ocr(OcrConfig())


@pytest.fixture(scope="module")
def classic(ocr) -> dict[str, tuple[np.ndarray, list[FoundCaption]]]:
    """Each photo with a top and a bottom caption, and what detection found in it."""
    out = {}
    for photo in PHOTOS:
        image = _meme(photo, top=(TOP,), bottom=BOTTOM)
        out[photo] = image, detect_captions(image, ocr)
    return out


# ---------------------------------------------------------------------------------------------
# with OCR


@pytest.mark.parametrize("photo", PHOTOS)
def test_top_and_bottom_found_and_styled(classic, photo):
    image, found = classic[photo]
    assert [c.placement for c in found] == ["top", "bottom"], [(c.placement, c.text) for c in found]
    for caption, truth in zip(found, (TOP, BOTTOM), strict=True):
        assert ned(truth, caption.text) <= 0.15, caption.text
        rgb = [int(caption.color[i : i + 2], 16) for i in (1, 3, 5)]
        assert min(rgb) >= 200, caption.color  # white fill, not the black outline
        assert caption.stroke >= 1
        assert caption.font_class == "impact"
        assert caption.size == pytest.approx(image.shape[0] / 9, rel=0.35)


@pytest.mark.parametrize("photo", PHOTOS)
def test_removal_is_clean_and_local(classic, ocr, photo):
    image, found = classic[photo]
    template, mask = remove_captions(image, found, _telea, pad=0.2)
    check = check_removal(template, image, mask, found, ocr)
    assert check.clean == [True, True], check.residue
    assert check.outside_changed == 0.0
    assert (template[mask > 0] != image[mask > 0]).any()


@pytest.mark.parametrize("photo", ["chelsea", "rocket"])
def test_two_line_caption_is_one_caption(ocr, photo):
    found = detect_captions(_meme(photo, top=TWO_LINES, label=LABEL), ocr)
    assert [(c.placement, len(c.lines)) for c in found] == [("top", 2), ("label", 1)], found
    assert ned(" ".join(TWO_LINES), found[0].text) <= 0.15, found[0].text
    assert ned(LABEL, found[1].text) <= 0.15, found[1].text


@pytest.mark.parametrize(
    "font, text, expected",
    [
        (BEBAS, "PLAIN CAPS HERE", "impact"),
        (SERIF, "plain words here", "other"),
        (SERIF, "PLAIN CAPS HERE", "other"),
    ],
)
def test_plain_dark_text_has_no_outline(ocr, font, text, expected):
    img = Image.fromarray(skimage_pixels("coffee"))
    w, h = img.size
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, h // 2 - h // 8, w, h // 2 + h // 8], fill=(235, 235, 225))
    draw.text((w / 2, h / 2), text, font=_font(font, h // 9), fill=(30, 30, 30), anchor="mm")
    found = detect_captions(np.asarray(img), ocr)
    assert len(found) == 1 and found[0].placement == "label", found
    caption = found[0]
    assert caption.stroke == 0
    assert max(int(caption.color[i : i + 2], 16) for i in (1, 3, 5)) <= 80, caption.color
    assert caption.font_class == expected


@pytest.mark.parametrize("photo", ["astronaut", "rocket"])
def test_photo_without_text_has_no_captions(ocr, photo):
    assert detect_captions(skimage_pixels(photo), ocr) == []


# ---------------------------------------------------------------------------------------------
# pure: hand-made OCR results


def _line(text: str, x0: float, y0: float, x1: float, y1: float, conf: float = 0.9) -> OcrText:
    return OcrText(text, [x0, y0, x1, y0, x1, y1, x0, y1], conf)


def test_group_captions_merges_stacked_lines_and_places_them():
    shape = (600, 400, 3)
    found = [
        _line("BOTTOM", 100, 540, 300, 590),
        _line("SIMPLY", 60, 10, 340, 60),  # first line of the top caption
        _line("WALK", 130, 65, 270, 115),  # 5 px below, centred: the same caption
        _line("MIDDLE", 120, 280, 280, 330),
        _line("faint", 100, 400, 300, 450, conf=0.3),  # below min_confidence
        _line("", 10, 200, 50, 240),  # nothing to read
    ]
    found_caps = group_captions(found, shape)
    assert [(c.placement, c.text) for c in found_caps] == [
        ("top", "SIMPLY WALK"),
        ("label", "MIDDLE"),
        ("bottom", "BOTTOM"),
    ]
    top = found_caps[0]
    assert top.polygon == [60, 10, 340, 10, 340, 115, 60, 115]
    assert [ln.text for ln in top.lines] == ["SIMPLY", "WALK"]
    assert top.confidence == 0.9


def test_group_captions_keeps_apart_what_is_not_one_caption():
    shape = (600, 400, 3)
    gap = [_line("ONE", 100, 10, 300, 60), _line("TWO", 100, 110, 300, 160)]  # gap 50 > 0.8 * 50
    assert len(group_captions(gap, shape)) == 2
    near = [_line("ONE", 100, 10, 300, 60), _line("TWO", 100, 95, 300, 145)]  # gap 35 < 40
    assert len(group_captions(near, shape)) == 1
    aside = [_line("LEFT", 0, 10, 100, 60), _line("RIGHT", 250, 70, 400, 120)]  # stacked, not aligned
    assert len(group_captions(aside, shape)) == 2
    sizes = [_line("BIG", 50, 10, 350, 110), _line("tiny.com", 150, 115, 250, 135)]  # another size
    assert len(group_captions(sizes, shape)) == 2


def test_group_captions_joins_a_line_cut_in_two_in_reading_order():
    found = [_line("CODE", 230, 12, 330, 60), _line("WHEN THE", 50, 10, 210, 58)]
    (caption,) = group_captions(found, (600, 400, 3))
    assert caption.text == "WHEN THE CODE"
    assert caption.placement == "top"


def test_group_captions_band_and_confidence():
    found = [_line("MIDDLE", 100, 280, 300, 330, conf=0.6)]
    assert group_captions(found, (600, 400, 3))[0].placement == "label"
    assert group_captions(found, (600, 400, 3), band=0.5)[0].placement == "bottom"  # centre 305 > 300
    assert group_captions(found, (600, 400, 3), min_confidence=0.7) == []
    assert group_captions([_line("8", 100, 280, 130, 330)], (600, 400, 3)) == []  # one glyph


def _caption(*lines: OcrText, stroke: int = 0) -> FoundCaption:
    return FoundCaption("x", "top", [], tuple(lines), 0.9, stroke=stroke)


def test_caption_mask_follows_lines_not_the_box():
    lines = (_line("A", 100, 10, 300, 50), _line("B", 160, 55, 240, 95))
    mask = caption_mask((200, 400), [_caption(*lines)], pad=0.1)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 255}
    assert mask[30, 200] == 255 and mask[75, 200] == 255
    assert mask[30, 96] == 255 and mask[30, 90] == 0  # grown by 0.1 x 40 px
    assert mask[80, 110] == 0  # inside the caption's box, beside the short line
    wider = caption_mask((200, 400), [_caption(*lines, stroke=4)], pad=0.1)
    assert wider[30, 93] == 255 and (wider >= mask).all()


def test_remove_captions_copies_back_outside_the_mask():
    image = np.random.default_rng(0).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    captions = [_caption(_line("A", 40, 20, 160, 50))]
    template, mask = remove_captions(image, captions, lambda im, m: np.zeros_like(im), pad=0.2)
    assert (template[mask > 0] == 0).all()
    assert (template[mask == 0] == image[mask == 0]).all()
    same, empty = remove_captions(image, [], lambda im, m: np.zeros_like(im), pad=0.2)
    assert (same == image).all() and not empty.any()


class _FakeOcr:
    def __init__(self, found: list[OcrText]):
        self.found = found

    def detect(self, image: np.ndarray) -> list[OcrText]:
        return self.found


def test_check_removal_finds_residue_over_a_caption_only():
    image = np.zeros((200, 300, 3), np.uint8)
    captions = [_caption(_line("TOP", 50, 10, 250, 50)), _caption(_line("BOTTOM", 50, 150, 250, 190))]
    mask = caption_mask(image.shape, captions, pad=0.1)
    template = image.copy()
    template[60:62, 0:10] = 255  # 20 pixels changed outside the mask
    residue = [
        _line("TO", 60, 12, 120, 48),  # on the top caption's erased pixels
        _line("ELSEWHERE", 50, 90, 250, 120),  # not over any caption
        _line("BO", 60, 152, 120, 188, conf=0.2),  # too faint to count
        _line("B", 130, 152, 150, 188),  # one character
    ]
    check = check_removal(template, image, mask, captions, _FakeOcr(residue))
    assert check.clean == [False, True]
    assert check.residue == ["TO"]
    assert check.outside_changed == pytest.approx(20 / (mask == 0).sum())
    assert check_removal(image, image, mask, captions, _FakeOcr([])).clean == [True, True]
