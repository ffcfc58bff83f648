"""Font registry over fontconfig and configured folders, knowing which characters each face has.

A text is only ever drawn with a face whose character map covers every character of it, so a
sample never shows tofu boxes, and text with lowercase letters only with a face that draws them
distinctly from capitals (a caps-only display face such as Bebas Neue maps ``a`` to a copy of
``A``: its lowercase would read as capitals). Faces are sorted, so a seeded choice picks the same
face on every machine with the same fonts. A run records its whole font set (:func:`font_set`) in ``run.json``
when it starts, and every later invocation and worker chooses from that record
(:meth:`FontRegistry.pinned`), so a font installed later never changes a sample and a missing or
changed file is an error naming it, never a silent substitute.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, ImageDraw, ImageFont

from synth.identity import file_digest
from synth.pipeline import PinError

SCRIPT_PROBES = {
    "latin": "AaBbEeMmQqZz0123456789",
    "han": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年数据引擎",
}
CASE_PROBE = "abdegnr"  # lowercase forms that differ from their capitals in every cased design
SAME_FORM_IOU = 0.85  # cased faces measured at most 0.71 on these letters, caps-only faces 1.00
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
CJK_HELP = (
    "no installed font covers Chinese text. Install one (as root: apt-get install fonts-noto-cjk, "
    "or fonts-wqy-microhei), or add a folder of fonts with --set fonts.dirs=[/path/to/fonts]"
)


class FontError(RuntimeError):
    pass


class FontSetError(FontError, PinError):
    """A face of a run's recorded font set is missing or differs on this machine."""


@dataclass(frozen=True, order=True)
class FontFace:
    family: str
    style: str
    path: str
    index: int = 0

    @property
    def name(self) -> str:
        return f"{self.family} {self.style}"

    @property
    def bold(self) -> bool:
        return "bold" in self.style.lower() or "black" in self.style.lower()

    @property
    def italic(self) -> bool:
        return any(w in self.style.lower() for w in ("italic", "oblique"))

    @property
    def kind(self) -> str:
        """serif / sans-serif / monospace, from the family name (what prompts call it)."""
        fam = self.family.lower()
        if "mono" in fam:
            return "monospace"
        if "serif" in fam and "sans" not in fam:
            return "serif"
        return "sans-serif"


@functools.lru_cache(maxsize=256)
def charset(path: str, index: int) -> frozenset[int]:
    """Code points the face maps to a glyph (read once per process)."""
    font = (
        TTFont(path, fontNumber=index, lazy=True)
        if path.lower().endswith((".ttc", ".otc"))
        else TTFont(path, lazy=True)
    )
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def covers(face: FontFace, text: str) -> bool:
    return _maps(face.path, face.index, text)


def _maps(path: str, index: int, text: str) -> bool:
    chars = charset(path, index)
    return all(ord(c) in chars for c in text if not c.isspace())


def needs_lowercase(text: str) -> bool:
    """Whether ``text`` has a letter whose capital differs from it (it must be drawn in lowercase)."""
    return any(c.islower() and c.upper() != c for c in text)


def _form(font: ImageFont.FreeTypeFont, ch: str) -> np.ndarray | None:
    """The glyph's ink cropped and scaled to 32 x 32: its form whatever its size, so a small
    capital counts as a capital."""
    canvas = Image.new("L", (160, 160))
    ImageDraw.Draw(canvas).text((32, 16), ch, font=font, fill=255)
    ink = np.asarray(canvas) > 127
    ys, xs = np.nonzero(ink)
    if not len(ys):
        return None
    crop = Image.fromarray(ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.uint8) * 255)
    return np.asarray(crop.resize((32, 32), Image.Resampling.BOX)) > 127


@functools.lru_cache(maxsize=256)
def has_lowercase(path: str, index: int) -> bool:
    """Whether the face draws lowercase letters distinctly from its capitals: most of the letters
    of :data:`CASE_PROBE` must differ in form (IoU of the scaled ink below :data:`SAME_FORM_IOU`)
    from their capitals. Caps-only and small-caps faces fail; read once per face and process."""
    chars = charset(path, index)
    if not all(ord(c) in chars for c in CASE_PROBE):
        return False
    font = ImageFont.truetype(path, 64, index=index)
    differ = 0
    for ch in CASE_PROBE:
        low, cap = _form(font, ch), _form(font, ch.upper())
        if low is None or cap is None:
            continue
        differ += (low & cap).sum() / max(1, (low | cap).sum()) < SAME_FORM_IOU
    return differ > len(CASE_PROBE) / 2


def draws(path: str, index: int, text: str) -> bool:
    """Whether the face draws ``text`` as written: a glyph for every character and, when the text
    has lowercase letters, lowercase distinct from capitals."""
    return _maps(path, index, text) and (not needs_lowercase(text) or has_lowercase(path, index))


def face_digest(path: str) -> str:
    """First 16 hex of the file's sha256; raises OSError for a missing file. Cached by size and
    modification time, so a file replaced while a worker lives is hashed again."""
    st = os.stat(path)
    return _digest(path, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=1024)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return file_digest(path)[:16]


def _fc_list() -> list[FontFace]:
    if not shutil.which("fc-list"):
        return []
    out = subprocess.run(
        ["fc-list", "--format", "%{file}\t%{index}\t%{family[0]}\t%{style[0]}\n"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    faces = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0].lower().endswith(FONT_SUFFIXES):
            faces.append(FontFace(parts[2], parts[3], parts[0], int(parts[1] or 0)))
    return faces


def _scan_dir(folder: str) -> list[FontFace]:
    faces = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue
        try:
            fonts = (
                TTCollection(str(path)).fonts if path.suffix.lower() in (".ttc", ".otc") else [TTFont(path)]
            )
        except Exception:  # noqa: BLE001 - a broken font file is skipped, never fatal
            continue
        for i, font in enumerate(fonts):
            name = font["name"]
            family = name.getDebugName(1) or path.stem
            style = name.getDebugName(2) or "Regular"
            faces.append(FontFace(family, style, str(path), i))
    return faces


class FontRegistry:
    """All usable faces, filtered by the configured exclusions, sorted for determinism."""

    def __init__(self, dirs: Iterable[str] = (), exclude: Iterable[str] = (), system: bool = True):
        found = (_fc_list() if system else []) + [f for d in dirs for f in _scan_dir(d)]
        excluded = [e.lower() for e in exclude]
        self.faces = sorted({f for f in found if not any(e in f.name.lower() for e in excluded)})
        self.by_script = {
            script: [f for f in self.faces if covers(f, probe)] for script, probe in SCRIPT_PROBES.items()
        }

    @classmethod
    def pinned(cls, record: list[dict[str, Any]]) -> FontRegistry:
        """The faces of a recorded font set (:func:`font_set`), after :func:`check_font_set`: the
        same faces in the same order as the registry that recorded it, whatever is installed now."""
        check_font_set(record)
        registry = cls.__new__(cls)
        scripts = {_face(r): set(r["scripts"]) for r in record}
        registry.faces = sorted(scripts)
        names = list(SCRIPT_PROBES) + sorted({s for r in record for s in r["scripts"]} - set(SCRIPT_PROBES))
        registry.by_script = {s: [f for f in registry.faces if s in scripts[f]] for s in names}
        return registry

    def require(self, script: str) -> list[FontFace]:
        faces = self.by_script.get(script, [])
        if not faces:
            raise FontError(CJK_HELP if script == "han" else f"no installed font covers {script} text")
        return faces

    def for_text(self, text: str, script: str) -> list[FontFace]:
        """Faces of ``script`` that draw ``text`` as written (:func:`draws`): a glyph for every
        character, and distinct lowercase where the text has lowercase letters."""
        return [f for f in self.require(script) if draws(f.path, f.index, text)]


def _face(record: dict[str, Any]) -> FontFace:
    return FontFace(record["family"], record["style"], record["path"], int(record["index"]))


def _packages(paths: Iterable[str]) -> dict[str, str]:
    """The Debian package that installed each file, where dpkg knows one (for error messages)."""
    paths = sorted(set(paths))
    if not paths or not shutil.which("dpkg-query"):
        return {}
    try:
        out = subprocess.run(
            ["dpkg-query", "-S", *paths], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found = {}
    for line in out.splitlines():
        owners, sep, path = line.partition(": ")
        if sep and not owners.startswith("diversion"):
            found[path.strip()] = owners.split(",")[0].strip()
    return found


def font_set(registry: FontRegistry) -> list[dict[str, Any]]:
    """What ``run.json`` records about every face ``registry`` may choose from: family, style, file
    and collection index, the file's digest, the scripts it covers and the package it came from."""
    packages = _packages(f.path for f in registry.faces)
    return [
        {
            "family": f.family,
            "style": f.style,
            "path": f.path,
            "index": f.index,
            "digest": face_digest(f.path),
            "scripts": [s for s, faces in registry.by_script.items() if f in faces],
            "package": packages.get(f.path),
        }
        for f in registry.faces
    ]


def _fix(record: dict[str, Any], changed: bool) -> str:
    package = record.get("package")
    if package:
        version = " in the version the run started with" if changed else ""
        return f"install the Debian package {package}{version} (as root: apt-get install {package})"
    return "copy that file from the machine that started the run (it is not from a system package)"


def check_font_set(record: list[dict[str, Any]]) -> None:
    """Raise :class:`FontSetError` naming every recorded face whose file is missing here or whose
    digest differs: a run never draws with a substitute."""
    problems = []
    for r in record:
        name = f"{r['family']} {r['style']}"
        try:
            digest = face_digest(r["path"])
        except OSError:
            problems.append(f"'{name}' ({r['path']}) is missing: {_fix(r, False)}")
            continue
        if digest != r["digest"]:
            problems.append(
                f"'{name}' ({r['path']}) differs from the run's file (digest {digest}, recorded "
                f"{r['digest']}): {_fix(r, True)}"
            )
    if problems:
        shown = "\n  ".join(problems[:8]) + (
            f"\n  ... and {len(problems) - 8} more" if len(problems) > 8 else ""
        )
        raise FontSetError(
            f"the run's font set (recorded in its run.json when it started) does not match the fonts on "
            f"{os.uname().nodename}:\n  {shown}\nEvery machine of a run needs the same font files; "
            "a new --out records this machine's fonts instead."
        )
