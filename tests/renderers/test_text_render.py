"""Text rendering: layout(spec) -> plan, draw(plan) -> pixels; pure, deterministic, readable."""

from __future__ import annotations

import json

import numpy as np
import pytest
from skimage import data as skdata

from renderers.text.backgrounds import render_background
from renderers.text.color import contrast, luminance, parse_hex
from renderers.text.render import PLAN_VERSION, RenderError, draw, render

LATIN = {"path": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "index": 0, "name": "DejaVu Sans Book"}
HAN = {
    "path": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "index": 2,
    "name": "Noto Sans CJK SC Regular",
}
W, H = 320, 240


def block(role, text, language, box=None, font=LATIN, color="#000000", **kw):
    b = {"role": role, "text": text, "language": language, "font": font, "color": color, **kw}
    if box is not None:
        b["box"] = box
    return b


def spec_with(background, blocks, width=W, height=H, min_contrast=4.5):
    return {
        "width": width,
        "height": height,
        "background": background,
        "blocks": blocks,
        "min_contrast": min_contrast,
    }


SOLID = spec_with(
    {"kind": "solid", "colors": ["#f5f0e6"]},
    [
        block(
            "title", "Data Engine", "en", [16, 12, 304, 80], color="#1e5adc", align="center", sizes=[14, 64]
        ),
        block(
            "body",
            "数据引擎为统一多模态模型生成样本，\n每个样本都由文字识别读回。",
            "zh",
            [24, 96, 296, 228],
            font=HAN,
            color="#404040",
            sizes=[12, 40],
            bullet="dot",
            max_lines=6,
        ),
    ],
)
GRADIENT = spec_with(
    {"kind": "gradient", "style": "linear", "angle": 30.0, "colors": ["#102040", "#406080"]},
    [
        # deliberately poor contrast: dark blue text on a dark gradient must be adjusted
        block("title", "Gradient Title", "en", [20, 30, 300, 120], color="#203050", valign="center"),
        block(
            "footer", "small print at the bottom", "en", [20, 180, 300, 220], color="#ffffff", align="right"
        ),
    ],
)
RADIAL = spec_with(
    {"kind": "gradient", "style": "radial", "colors": ["#ffffff", "#c8c8c8"]},
    [block("title", "Radial", "en", [40, 60, 280, 180], color="#808080", shadow=True)],
)
TEXTURE = spec_with(
    {"kind": "texture", "pattern": "noise", "seed": 7, "colors": ["#ebdcbe", "#c8b496"]},
    [block("title", "纹理背景上的标题", "zh", [20, 40, 300, 140], font=HAN, color="#804000", outline=True)],
)
STRIPES = spec_with(
    {"kind": "texture", "pattern": "stripes", "seed": 3, "period": 20, "colors": ["#e0e0e0", "#ffffff"]},
    [block("body", "Text on stripes", "en", [20, 40, 300, 200], color="#c81e1e")],
)
PHOTO = spec_with(
    {"kind": "photo", "crop": [0.3, 0.6]},
    [
        {
            "role": "title",
            "text": "Fresh Coffee",
            "language": "en",
            "font": LATIN,
            "color": "#ffffff",
            "align": "center",
            "valign": "center",
            "place": {"anchor": [0.5, 0.3], "size": [0.6, 0.2]},
            "sizes": [14, 60],
            "max_lines": 2,
        },
        {
            "role": "caption",
            "text": "现磨咖啡",
            "language": "zh",
            "font": HAN,
            "color": "#fae128",
            "align": "center",
            "valign": "center",
            "place": {"anchor": [0.5, 0.8], "size": [0.4, 0.15]},
            "sizes": [14, 48],
            "max_lines": 1,
            "outline": True,
            "shadow": True,
        },
    ],
)
SPECS = {
    "solid": SOLID,
    "gradient": GRADIENT,
    "radial": RADIAL,
    "texture": TEXTURE,
    "stripes": STRIPES,
    "photo": PHOTO,
}


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    return skdata.coffee()


def photo_for(spec, coffee):
    return coffee if spec["background"]["kind"] == "photo" else None


@pytest.mark.parametrize("name", list(SPECS))
def test_render(name, coffee):
    spec = SPECS[name]
    photo = photo_for(spec, coffee)
    out = render(spec, photo)
    assert out.image.shape == (H, W, 3) and out.image.dtype == np.uint8

    # one text instance per drawn line, every one inside the canvas
    n_lines = sum(len(b["lines"]) for b in out.plan["blocks"])
    assert len(out.texts) == n_lines > 0
    roles = {b["role"] for b in spec["blocks"]}
    for t in out.texts:
        x0, y0, x1, y1 = t["bbox"]
        assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H, t
        assert len(t["polygon"]) == 8
        assert t["role"] in roles
        assert t["text"].strip()
        assert t["color"].startswith("#") and len(t["color"]) == 7
    # the lines put back together give the block texts (modulo wrapping whitespace)
    for b, pb in zip(spec["blocks"], out.plan["blocks"], strict=True):
        drawn = "".join(ln["text"] for ln in pb["lines"]).replace(" ", "")
        assert drawn == b["text"].replace("\n", "").replace(" ", "")

    # contrast: never below the spec's minimum
    assert out.min_contrast >= spec["min_contrast"]
    for pb in out.plan["blocks"]:
        if pb["outline"] is None:
            continue
        fill, stroke = luminance(parse_hex(pb["color"])), luminance(parse_hex(pb["outline"]["color"]))
        assert contrast(fill, stroke) >= spec["min_contrast"]

    # block boxes: one per block, the union of its lines
    assert len(out.block_boxes) == len(spec["blocks"])
    for bb in out.block_boxes:
        assert 0 <= bb[0] < bb[2] <= W and 0 <= bb[1] < bb[3] <= H

    # the text actually changed pixels inside its boxes
    background = render_background(spec["background"], W, H, photo)
    for bb in out.block_boxes:
        x0, y0, x1, y1 = (int(v) for v in bb)
        assert (out.image[y0 : y1 + 1, x0 : x1 + 1] != background[y0 : y1 + 1, x0 : x1 + 1]).any()

    # determinism: the plan redraws the same pixels, also after a JSON round trip (it is stored so)
    again = draw(out.plan, background)
    np.testing.assert_array_equal(again, out.image)
    stored = json.loads(json.dumps(out.plan))
    np.testing.assert_array_equal(draw(stored, background), out.image)
    second = render(spec, photo)
    assert second.plan == out.plan
    assert second.texts == out.texts
    np.testing.assert_array_equal(second.image, out.image)
    assert out.plan["version"] == PLAN_VERSION
    assert out.plan["width"] == W and out.plan["height"] == H


def test_solid_blocks_stay_in_their_boxes():
    out = render(SOLID)
    for b, bb in zip(SOLID["blocks"], out.block_boxes, strict=True):
        x0, y0, x1, y1 = b["box"]
        # ink may overhang the box by a pixel or two (glyph side bearings), not more
        assert bb[0] >= x0 - 2 and bb[1] >= y0 - 2 and bb[2] <= x1 + 2 and bb[3] <= y1 + 2
    # the bullet block draws one bullet per item (two items)
    assert len(out.plan["blocks"][1]["bullets"]) == 2
    # the title fills its box: the largest size that fits in 288x68
    assert out.plan["blocks"][0]["size"] >= 30


def test_low_contrast_colour_is_adjusted():
    out = render(GRADIENT)
    first = out.plan["blocks"][0]
    assert first["color"] != "#203050" or first["outline"] is not None
    assert out.min_contrast >= 4.5


def test_photo_placement_and_edge_density(coffee):
    out = render(PHOTO, coffee)
    assert set(out.edge_density) == {0, 1}
    assert all(0.0 <= v <= 1.0 for v in out.edge_density.values())
    a, b = out.block_boxes
    # placed blocks never overlap
    assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_photo_warp_is_deterministic(coffee):
    spec = json.loads(json.dumps(PHOTO))
    spec["blocks"][0]["warp"] = [0.03, -0.02, -0.01, 0.02, 0.02, 0.01, -0.03, -0.02]
    out = render(spec, coffee)
    assert out.plan["blocks"][0]["matrix"] is not None
    assert len(out.plan["blocks"][0]["matrix"]) == 9
    background = render_background(spec["background"], W, H, coffee)
    np.testing.assert_array_equal(draw(out.plan, background), out.image)
    unwarped = render(PHOTO, coffee)
    assert not np.array_equal(unwarped.image, out.image)


def test_text_that_cannot_fit_raises():
    spec = spec_with(
        {"kind": "solid", "colors": ["#ffffff"]},
        [block("body", "far too much text for a tiny box " * 5, "en", [10, 10, 60, 30], sizes=[14, 40])],
    )
    with pytest.raises(RenderError, match="does not fit"):
        render(spec)


def test_max_lines_that_cannot_be_met_raises():
    spec = spec_with(
        {"kind": "solid", "colors": ["#ffffff"]},
        [
            block(
                "body",
                "one two three four five six seven eight",
                "en",
                [10, 10, 110, 230],
                sizes=[14, 40],
                max_lines=1,
            )
        ],
    )
    with pytest.raises(RenderError):
        render(spec)


def test_place_without_photo_raises():
    spec = json.loads(json.dumps(PHOTO))
    spec["background"] = {"kind": "solid", "colors": ["#ffffff"]}
    with pytest.raises(RenderError):
        render(spec)


def test_photo_background_needs_pixels():
    with pytest.raises(ValueError, match="photo"):
        render(PHOTO, None)


def test_render_error_is_a_value_error():
    assert issubclass(RenderError, ValueError)


@pytest.mark.parametrize(
    "background",
    [
        {"kind": "solid", "colors": ["#102030"]},
        {"kind": "gradient", "colors": ["#000000", "#ffffff"], "angle": 0},
        {"kind": "gradient", "style": "radial", "colors": ["#000000", "#ffffff"]},
        {"kind": "texture", "pattern": "noise", "seed": 1, "colors": ["#000000", "#ffffff"]},
        {"kind": "texture", "pattern": "paper", "seed": 1, "colors": ["#000000", "#ffffff"]},
        {"kind": "texture", "pattern": "stripes", "seed": 1, "colors": ["#000000", "#ffffff"]},
        {"kind": "texture", "pattern": "dots", "seed": 1, "colors": ["#000000", "#ffffff"]},
    ],
)
def test_backgrounds_are_pure_functions_of_their_spec(background):
    a = render_background(background, 64, 48)
    b = render_background(background, 64, 48)
    assert a.shape == (48, 64, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)


def test_solid_background_colour_and_linear_gradient_direction():
    solid = render_background({"kind": "solid", "colors": ["#102030"]}, 8, 4)
    assert (solid == (16, 32, 48)).all()
    grad = render_background({"kind": "gradient", "colors": ["#000000", "#ffffff"], "angle": 0}, 16, 4)
    assert grad[0, 0, 0] == 0 and grad[0, -1, 0] == 255
    assert (np.diff(grad[0, :, 0].astype(int)) >= 0).all()


def test_texture_seed_matters():
    spec = {"kind": "texture", "pattern": "noise", "seed": 1, "colors": ["#000000", "#ffffff"]}
    a = render_background(spec, 64, 48)
    b = render_background({**spec, "seed": 2}, 64, 48)
    assert not np.array_equal(a, b)


def test_unknown_background_raises():
    with pytest.raises(ValueError, match="unknown"):
        render_background({"kind": "video", "colors": ["#000000"]}, 8, 8)
    with pytest.raises(ValueError, match="pattern"):
        render_background({"kind": "texture", "pattern": "plaid", "seed": 0, "colors": ["#000000"]}, 8, 8)


def test_photo_is_cover_cropped(coffee):
    out = render_background({"kind": "photo", "crop": [0.0, 0.0]}, 100, 100, coffee)
    assert out.shape == (100, 100, 3)
    other = render_background({"kind": "photo", "crop": [1.0, 1.0]}, 100, 100, coffee)
    assert not np.array_equal(out, other)
