"""The preview gallery shows kept and rejected rows and escapes every text it shows."""

from __future__ import annotations

import numpy as np

from synth.imageio import encode_png
from synth.preview import write_preview
from synth.schema import image_value
from synth.writer import OutputDir, commit_unit

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_preview_escapes_untrusted_text(tmp_path):
    out = OutputDir(str(tmp_path / "o"))
    out.write_json("run.json", {"pipeline": "text_render", "plan": [[0, 2]], "config": {"note": EVIL}})
    image = image_value(encode_png(np.zeros((8, 8, 3), np.uint8)))
    rows = [
        {"sample_id": "a", "status": "kept", "instruction": EVIL, "target_image": image, "width": 8, "height": 8,
         "texts": [{"text": EVIL, "role": "title", "bbox": [0, 0, 1, 1], "polygon": [], "font": EVIL, "color": "#000000", "language": "en"}],
         "instructions": [{"style": EVIL, "language": "en", "text": EVIL}], "scores": {"ocr_ned_max": 0.0}},
        {"sample_id": "b", "status": "rejected", "reason": "ocr_mismatch", "detail": EVIL, "target_image": image, "width": 8, "height": 8},
    ]  # fmt: skip
    commit_unit(out, 0, rows, {})
    page = tmp_path / "o" / "preview" / "index.html"
    write_preview(out.uri)
    html = page.read_text()
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert html.count('<div class="card') == 2 and "ocr_mismatch" in html
    thumbs = list((tmp_path / "o" / "preview" / "img").glob("*.jpg"))
    assert len(thumbs) == 2
