"""Caps-only faces in text editing and rendering: never chosen for a case edit or for text with
lowercase letters, in drawn scenes, in real scenes (the font matched to a sign) and in text-render
specs (fonts built in the test, so no system font has to be installed)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.text_edit.ops import Context, case, pin, replace
from pipelines.text_edit.real import font_candidates
from pipelines.text_render import PIPELINE as TEXT_RENDER
from pipelines.text_render.sampler import font_ref, sample_spec
from pipelines.text_render.texts import TextSource
from renderers.text.render import render
from synth.config import default_config_path, load_config
from synth.fonts import FontRegistry
from synth.sampling import NotApplicable
from tests.tiny_fonts import build_font


@pytest.fixture(scope="module")
def fonts(tmp_path_factory) -> FontRegistry:
    folder = tmp_path_factory.mktemp("fonts")
    build_font(folder / "caps.ttf", "Tiny Caps", "caps")
    build_font(folder / "cased.ttf", "Tiny Cased", "distinct")
    return FontRegistry(dirs=[str(folder)], system=False)


def _face(fonts: FontRegistry, family: str):
    return next(f for f in fonts.faces if f.family == family)


def _sign(fonts: FontRegistry, family: str, text: str = "GRAND OPENING") -> tuple[dict, object]:
    """A one-block scene in ``family``, pinned, and its rendering."""
    spec = {
        "width": 640, "height": 480, "language": "en", "layout": "title",
        "background": {"kind": "solid", "colors": ["#ffffff"]}, "min_contrast": 4.5,
        "blocks": [{"role": "title", "text": text, "language": "en", "font": font_ref(_face(fonts, family)),
                    "color": "#000000", "align": "center", "valign": "center", "box": [40, 120, 600, 360],
                    "sizes": [20, 80], "max_lines": 2}],
    }  # fmt: skip
    rendered = render(spec)
    return pin(spec, rendered), rendered


def test_case_edit_refuses_a_caps_only_block(fonts):
    ctx = Context(fonts, TextSource())
    pinned, rendered = _sign(fonts, "Tiny Caps")
    for seed in range(6):
        with pytest.raises(NotApplicable):
            case(np.random.default_rng(seed), pinned, rendered, ctx)
    pinned, rendered = _sign(fonts, "Tiny Cased")
    edit = case(np.random.default_rng(0), pinned, rendered, ctx)
    assert edit.target["blocks"][0]["text"] != "GRAND OPENING"


def test_no_edit_writes_lowercase_in_a_caps_only_face(fonts):
    ctx = Context(fonts, TextSource())
    pinned, rendered = _sign(fonts, "Tiny Caps")
    outcomes = []
    for seed in range(20):
        try:
            edit = replace(np.random.default_rng(seed), pinned, rendered, ctx)
        except NotApplicable:
            outcomes.append("refused")
            continue
        text = edit.target["blocks"][0]["text"]
        assert text.upper() == text, text  # only capitals were written in the caps-only face
        outcomes.append("kept")
    assert "refused" in outcomes  # a whole new line has lowercase: refused, the scene is redrawn


def test_real_scene_never_matches_a_caps_only_face_for_lowercase(fonts):
    caps, cased = _face(fonts, "Tiny Caps"), _face(fonts, "Tiny Cased")
    assert font_candidates(fonts, "GRAND OPENING", "grand opening", "latin", 12) == [cased]
    assert font_candidates(fonts, "GRAND OPENING", "GRAND CLOSING", "latin", 12) == [caps, cased]


def test_text_render_specs_draw_lowercase_in_cased_faces(fonts):
    cfg = load_config(
        TEXT_RENDER.config_model,
        default_config_path("text_render"),
        ["render.languages={en: 1}", "render.backgrounds={solid: 1}"],
    )
    lowercase = 0
    for seed in range(30):
        spec = sample_spec(np.random.default_rng(seed), cfg, fonts, TextSource(), [])
        for block in spec["blocks"]:
            if any(c.islower() for c in block["text"]):
                lowercase += 1
                assert block["font"]["name"] == "Tiny Cased Regular", block["text"]
    assert lowercase >= 30
