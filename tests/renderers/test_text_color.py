"""Colours: WCAG contrast, contrast-preserving adjustment, names."""

from __future__ import annotations

import numpy as np
import pytest

from renderers.text.color import (
    NAMED,
    color_name,
    contrast,
    ensure_contrast,
    hex_color,
    luminance,
    parse_hex,
    region_luminance_range,
    worst_contrast,
)


def test_black_on_white_is_21():
    assert luminance((0, 0, 0)) == 0.0
    assert luminance((255, 255, 255)) == pytest.approx(1.0)
    assert contrast(luminance((0, 0, 0)), luminance((255, 255, 255))) == pytest.approx(21.0)
    assert contrast(1.0, 0.0) == contrast(0.0, 1.0)
    assert contrast(0.3, 0.3) == 1.0


def test_known_wcag_values():
    # WCAG reference: #777777 on white is about 4.48:1, pure red on white about 4.0:1
    assert contrast(luminance((0x77, 0x77, 0x77)), 1.0) == pytest.approx(4.48, abs=0.01)
    assert contrast(luminance((255, 0, 0)), 1.0) == pytest.approx(4.0, abs=0.01)
    assert luminance((0, 255, 0)) == pytest.approx(0.7152)


def test_luminance_vectorised():
    arr = np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8)
    lum = luminance(arr)
    assert lum.shape == (1, 2)
    np.testing.assert_allclose(lum, [[0.0, 1.0]])


def test_hex_round_trip():
    assert hex_color((255, 0, 16)) == "#ff0010"
    assert parse_hex("#ff0010") == (255, 0, 16)
    assert parse_hex("0a0b0c") == (10, 11, 12)
    for _, _, rgb in NAMED:
        assert parse_hex(hex_color(rgb)) == rgb


def test_region_luminance_range():
    pixels = np.zeros((10, 10, 3), np.uint8)
    pixels[:, 5:] = 255
    lo, hi = region_luminance_range(pixels)
    assert lo == pytest.approx(0.0) and hi == pytest.approx(1.0)
    flat = np.full((4, 4, 3), 128, np.uint8)
    lo, hi = region_luminance_range(flat)
    assert lo == pytest.approx(hi)


def test_ensure_contrast_keeps_a_good_colour():
    white = (1.0, 1.0)
    rgb, ratio = ensure_contrast((0, 0, 0), white, 4.5)
    assert rgb == (0, 0, 0)
    assert ratio == pytest.approx(21.0)


@pytest.mark.parametrize("start", [(128, 128, 128), (120, 120, 140), (200, 30, 30), (150, 160, 150)])
@pytest.mark.parametrize("gray", [110, 128, 150])
def test_ensure_contrast_reaches_the_minimum_on_mid_gray(start, gray):
    lum = luminance((gray, gray, gray))
    rgb, ratio = ensure_contrast(start, (lum, lum), 4.5)
    assert ratio >= 4.5
    assert rgb != start
    assert worst_contrast(rgb, (lum, lum)) == pytest.approx(ratio)
    assert all(0 <= v <= 255 for v in rgb)


def test_ensure_contrast_darkens_on_light_and_lightens_on_dark():
    light = luminance((230, 230, 230))
    rgb, ratio = ensure_contrast((200, 200, 200), (light, light), 4.5)
    assert ratio >= 4.5 and luminance(rgb) < luminance((200, 200, 200))
    dark = luminance((20, 20, 40))
    rgb, ratio = ensure_contrast((40, 40, 60), (dark, dark), 4.5)
    assert ratio >= 4.5 and luminance(rgb) > luminance((40, 40, 60))


def test_ensure_contrast_on_a_wide_range_returns_the_best_it_can():
    # text over pixels from black to white can never reach 4.5 against both ends
    rgb, ratio = ensure_contrast((128, 128, 128), (0.0, 1.0), 4.5)
    assert ratio < 4.5
    assert ratio >= worst_contrast((128, 128, 128), (0.0, 1.0))


@pytest.mark.parametrize(
    ("rgb", "en", "zh"),
    [
        ((0, 0, 0), "black", "黑色"),
        ((255, 255, 255), "white", "白色"),
        ((225, 25, 35), "red", "红色"),
        ((25, 85, 225), "blue", "蓝色"),
        ((10, 20, 5), "black", "黑色"),
        ((130, 128, 126), "gray", "灰色"),
        ((0, 130, 125), "teal", "青色"),
    ],
)
def test_color_name(rgb, en, zh):
    assert color_name(rgb) == en
    assert color_name(rgb, "en") == en
    assert color_name(rgb, "zh") == zh


def test_every_named_colour_names_itself():
    for en, zh, rgb in NAMED:
        assert color_name(rgb) == en
        assert color_name(rgb, "zh") == zh
