"""Font registry over fontconfig and configured folders, knowing which characters each face has.

A text is only ever drawn with a face whose character map covers every character of it, so a
sample never shows tofu boxes. Faces are sorted, so a seeded choice picks the same face on every
machine with the same fonts; ``run.json`` records the digest of each file used.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

from synth.identity import file_digest

SCRIPT_PROBES = {
    "latin": "AaBbEeMmQqZz0123456789",
    "han": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年数据引擎",
}
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
CJK_HELP = (
    "no installed font covers Chinese text. Install one (as root: apt-get install fonts-noto-cjk, "
    "or fonts-wqy-microhei), or add a folder of fonts with --set fonts.dirs=[/path/to/fonts]"
)


class FontError(RuntimeError):
    pass


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
    chars = charset(face.path, face.index)
    return all(ord(c) in chars for c in text if not c.isspace())


@functools.lru_cache(maxsize=256)
def face_digest(path: str) -> str:
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

    def require(self, script: str) -> list[FontFace]:
        faces = self.by_script.get(script, [])
        if not faces:
            raise FontError(CJK_HELP if script == "han" else f"no installed font covers {script} text")
        return faces

    def for_text(self, text: str, script: str) -> list[FontFace]:
        """Faces of ``script`` that have a glyph for every character of ``text``."""
        return [f for f in self.require(script) if covers(f, text)]
