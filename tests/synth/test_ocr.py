"""Each OCR backend reads real rendered text; misconfigured backends fail with what to do."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from synth.evaluate.text import ned
from synth.ocr import OcrConfig, OcrSetupError, make_ocr, recognize_crops

LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def line_image(text: str, font_path: str, index: int = 0) -> np.ndarray:
    font = ImageFont.truetype(font_path, 40, index=index)
    img = Image.new("RGB", (40 + int(font.getlength(text)), 80), "white")
    ImageDraw.Draw(img).text((20, 15), text, font=font, fill="black")
    return np.asarray(img)


@pytest.fixture(scope="module")
def rapid():
    return make_ocr(OcrConfig())


def test_rapidocr_recognizes_known_crops_in_a_batch(rapid):
    texts = ["Grand Opening 2027", "数据引擎欢迎您"]
    crops = [line_image(texts[0], LATIN), line_image(texts[1], CJK, 2)]
    reads = rapid.recognize(crops)
    assert [ned(t, r) for t, (r, _) in zip(texts, reads, strict=True)] == [0.0, 0.0]
    assert all(conf > 0.8 for _, conf in reads)
    assert rapid.recognize([]) == []


def test_rapidocr_detects_lines_with_polygons(rapid):
    canvas = np.full((300, 700, 3), 255, np.uint8)
    line = line_image("Hello World", LATIN)
    canvas[40 : 40 + line.shape[0], 20 : 20 + line.shape[1]] = line
    found = rapid.detect(canvas)
    assert any(ned("Hello World", f.text) < 0.1 for f in found)
    for f in found:
        assert len(f.polygon) == 8 and min(f.polygon) >= 0


@pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract-ocr is installed by `make setup`")
def test_tesseract_backend_reads_english():
    ocr = make_ocr(OcrConfig(backend="tesseract", tesseract_langs="eng"))
    [(text, conf)] = ocr.recognize([line_image("Quarterly Report", LATIN)])
    assert ned("Quarterly Report", text) <= 0.1 and conf > 0.5
    found = ocr.detect(line_image("Quarterly Report", LATIN))
    assert found and len(found[0].polygon) == 8


def test_paddleocr_without_model_folders_says_what_to_set():
    with pytest.raises(OcrSetupError, match=r"ocr\.det_model_dir, ocr\.rec_model_dir"):
        make_ocr(OcrConfig(backend="paddleocr"))


def test_paddleocr_with_missing_folder_names_it(tmp_path):
    with pytest.raises(OcrSetupError, match="is not a folder"):
        make_ocr(
            OcrConfig(backend="paddleocr", det_model_dir=str(tmp_path), rec_model_dir=str(tmp_path / "nope"))
        )


class CountingOcr:
    """Stands in for a backend: reads a crop as its first pixel's value, counting calls."""

    name = "counting"

    def __init__(self):
        self.calls: list[int] = []

    def recognize(self, crops):
        self.calls.append(len(crops))
        return [(str(int(c[0, 0, 0])), 0.5) for c in crops]


def test_recognize_crops_reads_every_row_in_one_call_and_scatters_in_order():
    ocr = CountingOcr()
    crop = lambda v: np.full((4, 4, 3), v, np.uint8)  # noqa: E731
    jobs = [((0, "new"), crop(1)), ((1, "new"), crop(2)), ((0, "new"), crop(3)), ((0, "old"), crop(4))]
    got = recognize_crops(ocr, iter(jobs))
    assert ocr.calls == [4]
    assert got == {(0, "new"): [("1", 0.5), ("3", 0.5)], (1, "new"): [("2", 0.5)], (0, "old"): [("4", 0.5)]}
    assert recognize_crops(ocr, []) == {} and ocr.calls == [4]  # nothing to read: no call
