"""Font registry: finds the machine's faces and only offers faces that cover the text; a recorded
font set is used as recorded, or refused with the face named."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib
import pytest

from synth.fonts import (
    CJK_HELP,
    SCRIPT_PROBES,
    FontError,
    FontFace,
    FontRegistry,
    FontSetError,
    charset,
    check_font_set,
    covers,
    face_digest,
    font_set,
)
from synth.pipeline import PinError

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NOTO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
ZH = "数据引擎生成的样本，清晰可读。"


@pytest.fixture(scope="module")
def registry() -> FontRegistry:
    return FontRegistry()


def test_finds_latin_and_han_faces(registry):
    latin = registry.require("latin")
    han = registry.require("han")
    assert latin and han
    assert any(f.path == DEJAVU for f in latin)
    assert any(f.path == NOTO_CJK for f in han)
    for face in latin:
        assert covers(face, SCRIPT_PROBES["latin"])
    for face in han:
        assert covers(face, SCRIPT_PROBES["han"])
    # DejaVu has no Chinese glyphs
    assert not any(f.path == DEJAVU for f in han)


def test_faces_are_sorted_and_unique(registry):
    assert registry.faces == sorted(registry.faces)
    assert len(set(registry.faces)) == len(registry.faces)


def test_for_text_only_returns_covering_faces(registry):
    faces = registry.for_text(ZH, "han")
    assert faces
    for face in faces:
        chars = charset(face.path, face.index)
        assert all(ord(c) in chars for c in ZH)
    assert set(faces) <= set(registry.require("han"))


def test_for_text_excludes_faces_missing_a_character(registry):
    rare = "𠀀"  # CJK Extension B: absent from the common faces
    faces = registry.for_text("数据" + rare, "han")
    for face in faces:
        assert ord(rare) in charset(face.path, face.index)
    assert len(faces) < len(registry.for_text("数据", "han"))


def test_for_text_latin_ignores_spaces(registry):
    faces = registry.for_text("Hello World", "latin")
    assert faces
    assert all(covers(f, "HelloWorld") for f in faces)


def test_exclude_filters_by_name():
    reg = FontRegistry(exclude=["DejaVu"])
    assert reg.faces
    assert not any("dejavu" in f.name.lower() for f in reg.faces)


def test_scan_dirs_without_system(tmp_path):
    shutil.copy(DEJAVU, tmp_path / "DejaVuSans.ttf")
    (tmp_path / "broken.ttf").write_bytes(b"not a font")
    (tmp_path / "readme.txt").write_text("ignored")
    reg = FontRegistry(dirs=[str(tmp_path)], system=False)
    assert [f.path for f in reg.faces] == [str(tmp_path / "DejaVuSans.ttf")]
    face = reg.faces[0]
    assert face.family == "DejaVu Sans" and face.index == 0
    assert reg.require("latin") == [face]
    with pytest.raises(FontError):
        reg.require("han")


def test_no_fonts_han_error_mentions_the_package():
    reg = FontRegistry(system=False)
    assert reg.faces == []
    with pytest.raises(FontError) as exc:
        reg.require("han")
    assert "fonts-noto-cjk" in str(exc.value)
    assert str(exc.value) == CJK_HELP
    with pytest.raises(FontError, match="latin"):
        reg.require("latin")
    with pytest.raises(FontError):
        reg.for_text("数据", "han")


def test_font_face_properties():
    bold = FontFace("Noto Serif CJK SC", "Bold", "/x.ttc", 2)
    assert bold.name == "Noto Serif CJK SC Bold"
    assert bold.bold and not bold.italic
    assert bold.kind == "serif"
    assert FontFace("DejaVu Sans", "Oblique", "/y.ttf").italic
    assert FontFace("DejaVu Sans Mono", "Book", "/z.ttf").kind == "monospace"
    assert FontFace("DejaVu Sans", "Book", "/z.ttf").kind == "sans-serif"
    assert FontFace("Noto Sans CJK SC", "Black", "/z.ttf").bold


def test_charset_of_collection_member():
    sc = charset(NOTO_CJK, 2)
    assert ord("数") in sc and ord("A") in sc
    assert ord("数") not in charset(DEJAVU, 0)


def test_face_digest_is_stable():
    assert face_digest(DEJAVU) == face_digest(DEJAVU)
    assert len(face_digest(DEJAVU)) == 16


def _copy_dejavu(folder) -> str:
    folder.mkdir(exist_ok=True)
    return str(shutil.copy(DEJAVU, folder / "DejaVuSans.ttf"))


def test_font_set_records_every_face_and_pins_the_same_registry(registry):
    record = font_set(registry)
    assert [(r["family"], r["style"], r["path"], r["index"]) for r in record] == [
        (f.family, f.style, f.path, f.index) for f in registry.faces
    ]
    dejavu = next(r for r in record if r["path"] == DEJAVU)
    assert dejavu["digest"] == face_digest(DEJAVU) and dejavu["scripts"] == ["latin"]
    assert dejavu["package"] == "fonts-dejavu-core"  # dpkg knows the file
    assert "han" in next(r for r in record if r["path"] == NOTO_CJK)["scripts"]
    pinned = FontRegistry.pinned(record)
    assert pinned.faces == registry.faces and pinned.by_script == registry.by_script
    assert pinned.for_text(ZH, "han") == registry.for_text(ZH, "han")


def test_pinned_registry_ignores_fonts_added_later(tmp_path):
    folder = tmp_path / "fonts"
    _copy_dejavu(folder)
    record = font_set(FontRegistry(dirs=[str(folder)], system=False))
    stix = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "STIXGeneral.ttf"
    shutil.copy(stix, folder / "STIXGeneral.ttf")
    assert len(FontRegistry(dirs=[str(folder)], system=False).faces) == 2  # a live scan sees it
    assert [f.family for f in FontRegistry.pinned(record).faces] == ["DejaVu Sans"]


def test_missing_recorded_face_is_an_error_naming_it_and_the_fix(tmp_path, registry):
    path = _copy_dejavu(tmp_path / "fonts")
    record = font_set(FontRegistry(dirs=[str(tmp_path / "fonts")], system=False))
    system = [r for r in font_set(registry) if r["path"] == DEJAVU]
    missing = {**system[0], "path": str(tmp_path / "gone" / "DejaVuSans.ttf")}  # as on a node without it
    Path(path).unlink()
    with pytest.raises(FontSetError) as exc:
        FontRegistry.pinned(record + [missing])
    text = str(exc.value)
    assert f"'DejaVu Sans Book' ({path}) is missing" in text and "copy that file" in text
    assert "apt-get install fonts-dejavu-core" in text  # the face a package installed names it
    assert isinstance(exc.value, FontError) and isinstance(exc.value, PinError)


def test_changed_recorded_face_is_an_error(tmp_path):
    path = _copy_dejavu(tmp_path / "fonts")
    record = font_set(FontRegistry(dirs=[str(tmp_path / "fonts")], system=False))
    check_font_set(record)  # unchanged: fine
    shutil.copy(Path(DEJAVU).with_name("DejaVuSans-Bold.ttf"), path)  # same name, other bytes
    with pytest.raises(FontSetError, match=r"'DejaVu Sans Book' .* differs from the run's file \(digest "):
        check_font_set(record)
