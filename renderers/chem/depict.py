"""Molecules depicted by RDKit, regrouped into our elements: one per atom, one per bond.

RDKit's ``MolDraw2DSVG`` (noFreetype, so atom labels are ``<text>``) tags every bond stroke with
``class='bond-N atom-A atom-B'`` and every label glyph with ``class='atom-N'``. We regroup those
by a persistent atom id (the int property ``aid``, which edits carry over), so an element's id
names the same atom or bond in both images of an edit pair, whatever RDKit's indices became.

Edit pairs share one layout: the target's atoms that the source has keep the source's exact 2D
coordinates (RDKit places only the new ones), and both are drawn with one scale and offset
(``SetScale`` on the union box), so an atom or bond an edit does not touch is byte-identical.

A label's glyphs (RDKit writes one ``<text>`` per glyph, "C" and "l" for Cl) become one
``<text>`` in DejaVu Sans centred on RDKit's label box, a little smaller than RDKit's glyphs so it
stays inside the gap RDKit leaves in the bonds; OCR reads these back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D
from rdkit.Geometry import Point2D

from renderers.svg.text import advance

AID = "aid"
FONT = "DejaVu Sans"
MAX_PPU = 84.0  # pixels per coordinate unit at most (CoordGen's bonds are 1 unit long)
PAD = 36.0  # pixels kept clear at each side of a panel
LABEL_SCALE = 0.76  # our glyphs' size over RDKit's

_CLASS = re.compile(r"class='([^']*)'")
_NUM = re.compile(r"[-+]?\d+(?:\.\d+)?")
_TEXT = re.compile(r"<text x='([^']+)' y='([^']+)' class='atom-(\d+)' style='([^']*)' >([^<]*)</text>")


class DepictError(ValueError):
    """A molecule RDKit cannot lay out or draw."""


# -- persistent atom ids ----------------------------------------------------------------------


def tag(mol: Chem.Mol) -> Chem.Mol:
    """A copy whose atoms carry ``aid`` 1..n in index order (kept where they already have one)."""
    mol = Chem.Mol(mol)
    used = [a.GetIntProp(AID) for a in mol.GetAtoms() if a.HasProp(AID)]
    nxt = max(used, default=0) + 1
    for a in mol.GetAtoms():
        if not a.HasProp(AID):
            a.SetIntProp(AID, nxt)
            nxt += 1
    return mol


def aids(mol: Chem.Mol) -> list[int]:
    return [a.GetIntProp(AID) for a in mol.GetAtoms()]


def to_tagged_smiles(mol: Chem.Mol) -> str:
    """SMILES with each atom's ``aid`` as its map number: a JSON-able structure that keeps ids."""
    m = Chem.Mol(mol)
    for a in m.GetAtoms():
        a.SetAtomMapNum(a.GetIntProp(AID))
    return Chem.MolToSmiles(m)


def from_tagged_smiles(smiles: str) -> Chem.Mol:
    """The molecule of :func:`to_tagged_smiles`, atoms in ``aid`` order (so a pair's atoms come in
    one order and RDKit's Kekulé structures and wedges agree on what did not change)."""
    m = Chem.MolFromSmiles(smiles)
    if m is None:
        raise DepictError(f"unparsable SMILES {smiles!r}")
    for a in m.GetAtoms():
        a.SetIntProp(AID, a.GetAtomMapNum())
        a.SetAtomMapNum(0)
    order = sorted(range(m.GetNumAtoms()), key=lambda i: m.GetAtomWithIdx(i).GetIntProp(AID))
    return Chem.RenumberAtoms(m, order)


# -- layout -----------------------------------------------------------------------------------


def coords(mol: Chem.Mol) -> np.ndarray:
    conf = mol.GetConformer()
    return np.array(
        [[conf.GetAtomPosition(i).x, conf.GetAtomPosition(i).y] for i in range(mol.GetNumAtoms())]
    )


def layout(mols: list[Chem.Mol]) -> list[Chem.Mol]:
    """Copies with 2D coordinates: the first laid out by RDKit, each later one with the atoms it
    shares (by ``aid``) with the first pinned at the first's exact coordinates."""
    rdDepictor.SetPreferCoordGen(True)
    out: list[Chem.Mol] = []
    pinned: dict[int, tuple[float, float]] = {}
    for k, mol in enumerate(mols):
        m = Chem.Mol(mol)
        shared = {i: pinned[a] for i, a in enumerate(aids(m)) if a in pinned}
        if k and shared:
            rdDepictor.Compute2DCoords(m, coordMap={i: Point2D(*p) for i, p in shared.items()})
            conf = m.GetConformer()
            for i, (x, y) in shared.items():
                conf.SetAtomPosition(i, (x, y, 0.0))
        else:
            rdDepictor.Compute2DCoords(m)
        if k == 0:
            pinned = {a: (float(x), float(y)) for a, (x, y) in zip(aids(m), coords(m), strict=True)}
        out.append(m)
    return out


def kekulize_like(mols: list[Chem.Mol]) -> list[Chem.Mol]:
    """Kekulé copies, each later one taking the first's single/double pattern on the aromatic
    bonds they share (RDKit alone may flip an unchanged ring's double bonds after an edit); where
    the copied pattern does not fit the valences, RDKit's own."""
    out = []
    ref: dict[tuple[int, int], Chem.BondType] = {}
    for k, mol in enumerate(mols):
        m = Chem.Mol(mol)
        aromatic = {b.GetIdx() for b in m.GetBonds() if b.GetIsAromatic()}
        try:
            Chem.Kekulize(m, clearAromaticFlags=True)
        except Exception as e:  # noqa: BLE001 - RDKit's kekulisation errors
            raise DepictError(f"cannot kekulise: {e}") from None
        ids = aids(m)
        key = {
            b.GetIdx(): tuple(sorted((ids[b.GetBeginAtomIdx()], ids[b.GetEndAtomIdx()])))
            for b in m.GetBonds()
        }
        if k == 0:
            ref = {key[i]: m.GetBondWithIdx(i).GetBondType() for i in aromatic}
        else:
            copy = Chem.RWMol(m)
            for i in aromatic:
                if key[i] in ref:
                    copy.GetBondWithIdx(i).SetBondType(ref[key[i]])
            if all(_valence(copy, a) == _valence(m, a) for a in range(m.GetNumAtoms())):
                m = copy.GetMol()
        out.append(m)
    return out


def _valence(m: Chem.Mol, i: int) -> float:
    return sum(b.GetBondTypeAsDouble() for b in m.GetAtomWithIdx(i).GetBonds())


# -- drawing ----------------------------------------------------------------------------------


@dataclass
class Element:
    """One atom's or bond's SVG (or a caption, an arrow) with its conservative pixel box."""

    id: str
    markup: str
    box: list[float]
    text: str | None = None


@dataclass
class Panel:
    """Where a molecule is drawn: a ``w`` x ``h`` panel at ``(x, y)`` of the canvas, with the
    coordinate box ``lo``..``hi`` mapped onto it (one box for every molecule of a pair)."""

    x: float
    y: float
    w: float
    h: float
    lo: tuple[float, float]
    hi: tuple[float, float]


def fit_panel(
    xy: np.ndarray, x: float, y: float, w: float, h: float, max_ppu: float = MAX_PPU, pad: float = PAD
) -> Panel:
    """A panel showing the coordinates ``xy`` (of every molecule of a pair) centred, as large as fits
    but at most ``max_ppu`` pixels per unit."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    ppu = min((w - 2 * pad) / span[0], (h - 2 * pad) / span[1], max_ppu)
    c = (lo + hi) / 2
    half = np.array([w, h]) / 2 / ppu
    return Panel(x, y, w, h, tuple((c - half).tolist()), tuple((c + half).tolist()))


def _fill(style: str) -> str:
    m = re.search(r"fill:(#[0-9A-Fa-f]{6})", style)
    return m.group(1) if m else "#000000"


def _path_box(line: str, pad: float) -> list[float]:
    d = re.search(r"d='([^']*)'", line)
    pts = np.array([float(v) for v in _NUM.findall(d.group(1) if d else "")]).reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return [float(lo[0] - pad), float(lo[1] - pad), float(hi[0] + pad), float(hi[1] + pad)]


def _union(boxes: list[list[float]]) -> list[float]:
    b = np.array(boxes)
    return [float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())]


def _shift(box: list[float], dx: float, dy: float) -> list[float]:
    return [box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy]


def _label(
    glyphs: list[tuple[float, float, float, str, str]], k: float = LABEL_SCALE
) -> tuple[str, str, list[float]]:
    """One ``<text>`` for an atom's glyphs ``(x, y, size, char, fill)``, each glyph a ``<tspan>``
    where RDKit put it, shrunk by LABEL_SCALE about the label's centre (so the label stays inside
    the gap RDKit leaves in the bonds, with a margin): (text, markup, box)."""
    main = max(g[2] for g in glyphs)
    order = sorted(glyphs, key=lambda g: (round(g[0], 1), -g[1]))
    text = "".join(g[3] for g in order)
    base = max(g[1] for g in glyphs if g[2] == main)
    x0 = min(g[0] for g in glyphs)
    x1 = max(g[0] + advance(g[3], g[2]) for g in glyphs)
    cx, cy = (x0 + x1) / 2, base - 0.35 * main

    def at(x: float, y: float) -> tuple[float, float]:
        return cx + (x - cx) * k, cy + (y - cy) * k

    spans = []
    for x, y, size, ch, _ in order:
        sx, sy = at(x, y)
        extra = f' font-size="{size * k:.1f}"' if size != main else ""
        spans.append(f'<tspan x="{sx:.1f}" y="{sy:.1f}"{extra}>{escape(ch)}</tspan>')
    lx, ly = at(x0, base)
    size = main * k
    markup = (
        f'<text x="{lx:.1f}" y="{ly:.1f}" font-family="{FONT}" font-size="{size:.1f}" '
        f'fill="{glyphs[0][4]}">{"".join(spans)}</text>'
    )
    right = max(at(x1, base)[0], lx + advance(text, size))
    box = [lx - 2, ly - 0.8 * size - 2, right + 2, ly + 0.25 * size + 2]
    return text, markup, box


def draw_molecule(mol: Chem.Mol, panel: Panel, label_scale: float = LABEL_SCALE) -> list[Element]:
    """Our elements of one molecule (with 2D coordinates and ``aid``s) drawn by RDKit in a panel:
    ``a{aid}`` per atom (its label, where it has one, and RDKit's joins at it), ``b{aid}-{aid}``
    per bond (lower id first), in canvas coordinates."""
    w, h = round(panel.w), round(panel.h)
    drawer = rdMolDraw2D.MolDraw2DSVG(w, h, -1, -1, True)
    opts = drawer.drawOptions()
    opts.padding = 0.0
    opts.clearBackground = False
    opts.addStereoAnnotation = False
    opts.prepareMolsBeforeDrawing = False  # our Kekulé structure (kekulize_like), RDKit's wedges
    mol = rdMolDraw2D.PrepareMolForDrawing(mol, kekulize=False, addChiralHs=False)
    drawer.SetScale(w, h, Point2D(*panel.lo), Point2D(*panel.hi))
    try:
        drawer.DrawMolecule(mol)
    except RuntimeError as e:
        raise DepictError(f"RDKit could not draw the molecule: {e}") from e
    drawer.FinishDrawing()
    svg = drawer.GetDrawingText()
    ids = aids(mol)
    at = np.array([[drawer.GetDrawCoords(i).x, drawer.GetDrawCoords(i).y] for i in range(mol.GetNumAtoms())])
    parts: dict[str, list[str]] = {}
    boxes: dict[str, list[list[float]]] = {}
    glyphs: dict[int, list] = {}
    for line in svg.splitlines():
        line = line.strip()
        if line.startswith("<text"):
            m = _TEXT.match(line)
            if not m:
                raise DepictError(f"unexpected RDKit text {line[:80]!r}")
            x, y, idx, style, ch = m.groups()
            size = float(re.search(r"font-size:([\d.]+)px", style).group(1))
            glyphs.setdefault(int(idx), []).append((float(x), float(y), size, ch, _fill(style)))
            continue
        if not (line.startswith("<path") or line.startswith("<ellipse") or line.startswith("<polygon")):
            continue
        cls = _CLASS.search(line)
        names = cls.group(1).split() if cls else []
        if names and names[0].startswith("bond-"):
            a, b = sorted(ids[int(n.split("-")[1])] for n in names[1:3])
            eid = f"b{a}-{b}"
        elif names and names[0].startswith("atom-"):
            eid = f"a{ids[int(names[0].split('-')[1])]}"
        else:  # a join RDKit draws at an atom: its middle point is that atom
            pts = np.array([float(v) for v in _NUM.findall(re.search(r"d='([^']*)'", line).group(1))])
            mid = pts.reshape(-1, 2).mean(axis=0)
            eid = f"a{ids[int(np.argmin(((at - mid) ** 2).sum(axis=1)))]}"
        # RDKit's class names its indices, which shift after an edit: our id replaces it
        parts.setdefault(eid, []).append(_CLASS.sub("", line).replace("'", '"').replace("  ", " "))
        boxes.setdefault(eid, []).append(_path_box(line, 2.5))
    texts: dict[str, str] = {}
    for idx, gl in glyphs.items():
        eid = f"a{ids[idx]}"
        text, markup, box = _label(gl, label_scale)
        parts.setdefault(eid, []).append(markup)
        boxes.setdefault(eid, []).append(box)
        texts[eid] = text
    dx, dy = panel.x, panel.y
    out = []
    for eid in sorted(parts, key=_order):
        body = "".join(parts[eid])
        markup = (
            f'<g id="{eid}" transform="translate({dx:g},{dy:g})">{body}</g>'
            if (dx or dy)
            else f'<g id="{eid}">{body}</g>'
        )
        out.append(Element(eid, markup, _shift(_union(boxes[eid]), dx, dy), texts.get(eid)))
    return out


def _order(eid: str) -> tuple:
    """Bonds under atoms (labels on top), each by id."""
    nums = tuple(int(v) for v in re.findall(r"\d+", eid))
    return (eid[0] == "a", nums)


def prefix(elements: list[Element], p: str) -> list[Element]:
    """The same elements with ids prefixed (several molecules on one canvas)."""
    return [
        Element(p + e.id, e.markup.replace(f'id="{e.id}"', f'id="{p}{e.id}"', 1), e.box, e.text)
        for e in elements
    ]


# -- figure -----------------------------------------------------------------------------------


SNAP_PX = 0.15  # an element of an edit's target this close to the source's is the source's


def snap(source: list[Element], target: list[Element]) -> list[Element]:
    """The target's elements, each replaced by the source's element of the same id where the two
    differ only in their numbers, by at most SNAP_PX: RDKit recomputes an untouched bond's inner
    line from float coordinates, and a last-digit difference (291.95 printed as 292.0 or 291.9)
    would otherwise count as a change of a bond the edit did not touch."""
    by_id = {e.id: e for e in source}
    out = []
    for e in target:
        s = by_id.get(e.id)
        if s is not None and s.markup != e.markup and _NUM.sub("#", s.markup) == _NUM.sub("#", e.markup):
            a, b = (np.array([float(x) for x in _NUM.findall(m.markup)]) for m in (s, e))
            if len(a) == len(b) and np.abs(a - b).max() <= SNAP_PX + 1e-9:
                e = s
        out.append(e)
    return out


@dataclass
class ChemFigure:
    """A drawing for the diagram stages: SVG, its elements by id (the markup is the signature, so
    an unchanged atom or bond is identical), its program, and each element's pixel box."""

    elements_: list[Element]
    size: tuple[int, int]
    measures: dict[str, float] = field(default_factory=dict)
    record: dict = field(default_factory=dict)

    def elements(self) -> dict[str, tuple]:
        return {e.id: (e.markup,) for e in self.elements_}

    def boxes_of(self, ids: set[str]) -> list[list[float]]:
        return [e.box for e in self.elements_ if e.id in ids]

    def svg(self, timeout: float = 20.0) -> str:
        w, h = self.size
        body = "".join(e.markup for e in self.elements_)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
            f'<rect width="{w}" height="{h}" fill="#ffffff"/>{body}</svg>'
        )

    def program(self) -> tuple[str, str]:
        return "svg", self.svg()


def text_element(
    eid: str, x: float, y: float, text: str, size: float = 22.0, color: str = "#222222"
) -> Element:
    """A centred caption (a name, a reaction's conditions)."""
    width = advance(text, size)
    markup = (
        f'<g id="{eid}"><text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size:g}" '
        f'text-anchor="middle" fill="{color}">{escape(text)}</text></g>'
    )
    return Element(
        eid, markup, [x - width / 2 - 2, y - 0.8 * size - 2, x + width / 2 + 2, y + 0.25 * size + 2], text
    )


def arrow_element(eid: str, x0: float, x1: float, y: float, color: str = "#222222") -> Element:
    """A reaction arrow from x0 to x1 at height y."""
    head = f"{x1:.1f},{y:.1f} {x1 - 14:.1f},{y - 7:.1f} {x1 - 14:.1f},{y + 7:.1f}"
    markup = (
        f'<g id="{eid}"><line x1="{x0:.1f}" y1="{y:.1f}" x2="{x1 - 10:.1f}" y2="{y:.1f}" stroke="{color}" '
        f'stroke-width="2.5"/><polygon points="{head}" fill="{color}"/></g>'
    )
    return Element(eid, markup, [x0 - 2, y - 9, x1 + 2, y + 9])
