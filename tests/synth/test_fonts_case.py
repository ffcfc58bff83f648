"""Caps-only faces: the registry knows which faces draw lowercase unlike their capitals and never
offers one that does not for text with lowercase letters (fonts built in the test, no system font
needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
from fontTools.ttLib import TTFont

from synth.fonts import FontRegistry, draws, has_lowercase, needs_lowercase
from tests.tiny_fonts import build_font


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("fonts")
    return {
        kind: str(build_font(folder / f"{kind}.ttf", f"Tiny {kind}", kind))
        for kind in ("distinct", "caps", "small_caps")
    }


@pytest.fixture(scope="module")
def registry(tiny) -> FontRegistry:
    return FontRegistry(dirs=[str(Path(tiny["caps"]).parent)], system=False)


def test_has_lowercase_tells_cased_from_caps_only_faces(tiny):
    assert has_lowercase(tiny["distinct"], 0)
    assert not has_lowercase(tiny["caps"], 0)
    assert not has_lowercase(tiny["small_caps"], 0)  # smaller capitals still read as capitals
    shipped = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # real faces from a PyPI package
    for name in ("DejaVuSans.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "cmr10.ttf"):
        assert has_lowercase(str(shipped / name), 0), name


def test_needs_lowercase():
    assert needs_lowercase("Grand opening")
    assert not needs_lowercase("GRAND OPENING 2024!")
    assert not needs_lowercase("数据引擎")


def test_caps_only_face_is_offered_for_capitals_only(registry, tiny):
    names = {f.path for f in registry.for_text("GRAND OPENING", "latin")}
    assert names == set(tiny.values())
    for text in ("grand opening", "Grand Opening", "SALe"):
        assert {f.path for f in registry.for_text(text, "latin")} == {tiny["distinct"]}
    assert not draws(tiny["caps"], 0, "grand opening")
    assert draws(tiny["caps"], 0, "GRAND OPENING")


def test_a_face_without_lowercase_glyphs_is_not_cased(tmp_path):
    path = build_font(tmp_path / "upper.ttf", "Tiny upper", "distinct")
    font = TTFont(path)
    for table in font["cmap"].tables:
        table.cmap = {c: g for c, g in table.cmap.items() if not chr(c).islower()}
    font.save(path)
    assert not has_lowercase(str(path), 0)
    assert not draws(str(path), 0, "abc")
