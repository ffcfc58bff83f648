"""A reaction scheme: reactant(s) + arrow with conditions + product, the product computed by
RDKit from a named reaction SMARTS, each molecule depicted by RDKit at one common bond length.

A structure is ``{"reaction": name, "reactants": [SMILES], "product": SMILES}``. Only reactant
choices that give exactly one distinct product are drawn, so "the product" has one answer.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem

from pipelines.chemistry import chem
from pipelines.chemistry.molecules import canonical_names
from pipelines.diagram.kind import Kind, Question, Text2
from renderers.chem.depict import (
    ChemFigure,
    DepictError,
    Element,
    Panel,
    arrow_element,
    coords,
    draw_molecule,
    kekulize_like,
    layout,
    prefix,
    tag,
    text_element,
)
from synth.sampling import NotApplicable

ACIDS = ("CC(=O)O", "CCC(=O)O", "OC=O", "OC(=O)c1ccccc1", "CCCC(=O)O")
ALCOHOLS = ("CO", "CCO", "CCCO", "CC(C)O", "CCCCO")
AMINES = ("CN", "CCN", "CNC", "Nc1ccccc1")
ALKENES = ("C=C", "CC=C", "CCC=C", "C1CCC=CC1", "C=Cc1ccccc1", "CC(C)=C")
HALIDES = ("CBr", "CCBr", "CCCBr", "BrCc1ccccc1", "CCCCBr")
PRIMARY_ALCOHOLS = ("CCO", "CCCO", "CCCCO", "OCc1ccccc1", "CC(C)CO")

#: name: (English, Chinese, SMARTS, reactant pools, reagent SMILES drawn as reactant or None,
#: conditions on the arrow)
REACTIONS: dict[str, tuple] = {
    "esterification": (
        "Fischer esterification",
        "酯化反应",
        "[C:1](=[O:2])[OX2H1].[OX2H1:4][C:5]>>[C:1](=[O:2])[O:4][C:5]",
        (ACIDS, ALCOHOLS),
        "H2SO4, heat",
    ),
    "amide_formation": (
        "amide formation",
        "酰胺化反应",
        "[C:1](=[O:2])[OX2H1].[NX3;H2,H1;!$(NC=O):3]>>[C:1](=[O:2])[N:3]",
        (ACIDS, AMINES),
        "heat",
    ),
    "halogenation": (
        "halogen addition to an alkene",
        "烯烃的卤素加成",
        "[C:1]=[C:2].[Br:3][Br:4]>>[C:1]([Br:3])[C:2][Br:4]",
        (ALKENES, ("BrBr",)),
        "CCl4",
    ),
    "hydrogenation": (
        "catalytic hydrogenation",
        "催化加氢",
        "[C:1]=[C:2]>>[C:1][C:2]",
        (ALKENES,),
        "H2, Pd/C",
    ),
    "substitution": (
        "SN2 substitution",
        "SN2 亲核取代",
        "[CX4;!$(C(Br)(C)(C)):1][Br]>>[C:1][OH]",
        (HALIDES,),
        "NaOH, H2O",
    ),
    "nitration": (
        "nitration of benzene",
        "苯的硝化",
        "[cH:1]>>[c:1][N+](=O)[O-]",
        (("c1ccccc1",),),
        "HNO3, H2SO4",
    ),
    "oxidation": (
        "oxidation of a primary alcohol",
        "伯醇的氧化",
        "[CH2:1][OH:2]>>[CH1:1]=[O:2]",
        (PRIMARY_ALCOHOLS,),
        "PCC",
    ),
}

CANVAS = (768, 512)
MAX_PPU = 48.0
ARROW = 150.0
PLUS = 36.0
PAD = 24.0
LABEL_SCALE = 0.95  # smaller molecules than a lone one: labels at RDKit's own size, for OCR


@cache
def _rxn(smarts: str):
    return AllChem.ReactionFromSmarts(smarts)


def run(name: str, reactants: list[str]) -> str:
    """The one product (canonical SMILES) of the named reaction, or NotApplicable."""
    rxn = _rxn(REACTIONS[name][2])
    mols = [Chem.MolFromSmiles(s) for s in reactants]
    found = set()
    for products in rxn.RunReactants(tuple(mols)):
        p = chem.sanitized(products[0])
        found.add(Chem.MolToSmiles(p))
    if len(found) != 1:
        raise NotApplicable(f"{name} of {reactants} gives {len(found)} distinct products")
    return found.pop()


def display_name(smiles: str) -> tuple[str, str] | None:
    named = canonical_names().get(Chem.MolToSmiles(Chem.MolFromSmiles(smiles)))
    return (named.en, named.zh) if named else None


def _plus(eid: str, x: float, y: float) -> Element:
    """A plus sign drawn as two strokes (a lone "+" glyph is no label to read back)."""
    markup = (
        f'<g id="{eid}"><line x1="{x - 10:.1f}" y1="{y:.1f}" x2="{x + 10:.1f}" y2="{y:.1f}" stroke="#222222" stroke-width="2.5"/>'
        f'<line x1="{x:.1f}" y1="{y - 10:.1f}" x2="{x:.1f}" y2="{y + 10:.1f}" stroke="#222222" stroke-width="2.5"/></g>'
    )
    return Element(eid, markup, [x - 12, y - 12, x + 12, y + 12])


def scheme(reactants: list[str], product: str, conditions: str) -> ChemFigure:
    """Reactants, arrow and product left to right at one bond length, vertically centred."""
    mols = [kekulize_like(layout([tag(Chem.MolFromSmiles(s))]))[0] for s in [*reactants, product]]
    spans = [np.ptp(coords(m), axis=0) if m.GetNumAtoms() > 1 else np.zeros(2) for m in mols]
    w, h = CANVAS
    fixed = ARROW + PLUS * (len(reactants) - 1) + 2 * PAD * len(mols) + 2 * PAD
    ppu = min(
        MAX_PPU,
        (w - fixed) / max(sum(s[0] for s in spans), 1e-6),
        (h - 200) / max(max(s[1] for s in spans), 1e-6),
    )
    widths = [s[0] * ppu + 2 * PAD for s in spans]
    x = (w - sum(widths) - ARROW - PLUS * (len(reactants) - 1)) / 2
    elements: list[Element] = []
    cy = h / 2
    for k, (m, pw) in enumerate(zip(mols, widths, strict=True)):
        c = (coords(m).min(axis=0) + coords(m).max(axis=0)) / 2
        half = np.array([pw, h]) / 2 / ppu
        panel = Panel(round(x), 0, round(pw), h, tuple((c - half).tolist()), tuple((c + half).tolist()))
        try:
            elements += prefix(draw_molecule(m, panel, LABEL_SCALE), f"m{k}")
        except DepictError as e:
            raise NotApplicable(str(e)) from None
        x += pw
        if k < len(reactants) - 1:
            elements.append(_plus(f"plus{k}", x + PLUS / 2, cy))
            x += PLUS
        elif k == len(reactants) - 1:
            elements.append(arrow_element("arrow", x + 10, x + ARROW - 10, cy))
            elements.append(text_element("conditions", x + ARROW / 2, cy - 16, conditions, 17.0))
            x += ARROW
    return ChemFigure(elements, CANVAS)


class Reaction(Kind):
    name = "reaction"
    edits = ()

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        names = sorted(REACTIONS)
        why = ""
        for _ in range(10):
            name = names[int(rng.integers(len(names)))]
            pools = REACTIONS[name][3]
            reactants = [str(pool[int(rng.integers(len(pool)))]) for pool in pools]
            try:
                product = run(name, reactants)
            except NotApplicable as e:
                why = str(e)
                continue
            return {"reaction": name, "reactants": reactants, "product": product}
        raise NotApplicable(why)

    def draw(self, structures: list[dict[str, Any]]):
        return [scheme(s["reactants"], s["product"], REACTIONS[s["reaction"]][4]) for s in structures]

    def _names(self, smiles: list[str]) -> tuple[str, str]:
        en, zh = [], []
        for s in smiles:
            n = display_name(s)
            f = chem.formula(Chem.MolFromSmiles(s))
            en.append(f"{n[0]} ({f})" if n else f)
            zh.append(f"{n[1]}（{f}）" if n else f)
        return " and ".join(en), "和".join(zh)

    def describe(self, s: dict[str, Any]) -> Text2:
        en, zh, *_rest = REACTIONS[s["reaction"]]
        cond = REACTIONS[s["reaction"]][4]
        r_en, r_zh = self._names(s["reactants"])
        p_en, p_zh = self._names([s["product"]])
        return Text2(
            f"A reaction scheme of {en}, drawn left to right as skeletal formulas on a white background: "
            f"{r_en} react, over an arrow labelled '{cond}', to give {p_en}.",
            f"一幅从左到右绘制的{zh}反应式（白底键线式）：{r_zh}在箭头上标注的“{cond}”条件下反应，生成{p_zh}。",
        )

    def ask(self, rng: np.random.Generator, s: dict[str, Any]) -> Question:
        en, zh, *_rest = REACTIONS[s["reaction"]]
        if rng.random() < 0.5:
            choices = sorted(v[0] for v in REACTIONS.values())
            return Question(
                Text2(
                    "What type of reaction does the scheme show? Choose from: " + ", ".join(choices) + ".",
                    "图中反应式属于哪一类反应？可选："
                    + "、".join(sorted(v[1] for v in REACTIONS.values()))
                    + "。",
                ),
                en,
            )
        p = Chem.MolFromSmiles(s["product"])
        f = chem.formula(p)
        n = display_name(s["product"])
        named = f" ({n[0]})" if n else ""
        return Question(
            Text2(
                "What is the molecular formula of the product of this reaction?",
                "该反应产物的分子式是什么？",
            ),
            f,
            f"This is {en}; the product is {s['product']}{named}, whose formula is {f}.",
        )
