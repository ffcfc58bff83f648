"""Chemistry facts RDKit computes (formula, weight, counts, functional groups) and the shared
pieces of the kinds: a molecule stored as tagged SMILES, and its drawing on one pinned layout."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem import Descriptors, rdMolDescriptors

from renderers.chem.depict import (
    ChemFigure,
    DepictError,
    coords,
    draw_molecule,
    fit_panel,
    from_tagged_smiles,
    kekulize_like,
    layout,
    snap,
)
from synth.sampling import NotApplicable

RDLogger.DisableLog("rdApp.*")  # an edit RDKit refuses is a NotApplicable, not log noise

CANVAS = (768, 512)

#: Functional groups by SMARTS: English, Chinese.
FUNCTIONAL_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("carboxylic acid", "羧酸", "[CX3](=O)[OX2H1]"),
    ("ester", "酯", "[#6][CX3](=O)[OX2H0][#6]"),
    ("amide", "酰胺", "[CX3](=O)[NX3]"),
    ("aldehyde", "醛", "[CX3H1](=O)[#6,#1]"),
    ("ketone", "酮", "[#6][CX3](=O)[#6]"),
    ("alcohol", "醇", "[OX2H1][CX4]"),
    ("phenol", "酚", "[OX2H1]c"),
    ("ether", "醚", "[OD2]([#6;!$(C=O)])[#6;!$(C=O)]"),
    ("amine", "胺", "[NX3;!$(N-C=[O,N,S]);!$(N-[N+](=O)[O-]);!$(N=*);!$([N+])]"),
    ("nitrile", "腈", "[NX1]#[CX2]"),
    ("nitro group", "硝基", "[N+](=O)[O-]"),
    ("alkene", "烯烃", "[CX3]=[CX3]"),
    ("alkyne", "炔烃", "[CX2]#[CX2]"),
    ("haloalkane", "卤代烷", "[CX4][F,Cl,Br,I]"),
    ("aryl halide", "卤代芳烃", "c[F,Cl,Br,I]"),
    ("thiol", "硫醇", "[SX2H1]"),
)


@cache
def _pattern(smarts: str) -> Chem.Mol:
    return Chem.MolFromSmarts(smarts)


def groups_present(mol: Chem.Mol) -> list[tuple[str, str]]:
    """(English, Chinese) of each functional group the molecule has, in table order."""
    return [(en, zh) for en, zh, s in FUNCTIONAL_GROUPS if mol.HasSubstructMatch(_pattern(s))]


def formula(mol: Chem.Mol) -> str:
    return rdMolDescriptors.CalcMolFormula(mol)


def counts(f: str) -> Counter:
    """Element counts of a molecular formula (charges dropped)."""
    out: Counter = Counter()
    for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", f.split("+")[0].split("-")[0]):
        out[el] += int(n or 1)
    return out


def weight(mol: Chem.Mol) -> float:
    return round(Descriptors.MolWt(mol), 2)


def stereocentres(mol: Chem.Mol) -> list[tuple[int, str]]:
    """(atom index, CIP label or '?') of each tetrahedral stereocentre, assigned or not."""
    return Chem.FindMolChiralCenters(mol, includeUnassigned=True, useLegacyImplementation=False)


def canonical(mol: Chem.Mol, stereo: bool = True) -> str:
    m = Chem.Mol(mol)
    for a in m.GetAtoms():
        a.SetAtomMapNum(0)
    return Chem.MolToSmiles(m, isomericSmiles=stereo)


def sanitized(mol: Chem.Mol) -> Chem.Mol:
    """The molecule sanitised, or NotApplicable (an edit RDKit calls impossible draws again)."""
    m = Chem.Mol(mol)
    try:
        Chem.SanitizeMol(m)
    except Exception as e:  # noqa: BLE001 - RDKit raises several sanitisation errors
        raise NotApplicable(f"RDKit rejects the edited molecule: {e}") from None
    return m


def load(smiles: str) -> Chem.Mol:
    return from_tagged_smiles(smiles)


def draw_pair(smiles: list[str]) -> list[ChemFigure]:
    """Each molecule on the canvas, all on one layout (the first's coordinates pinned)."""
    try:
        mols = kekulize_like(layout([load(s) for s in smiles]))
        panel = fit_panel(np.vstack([coords(m) for m in mols]), 0, 0, *CANVAS)
        drawn = [draw_molecule(m, panel) for m in mols]
        return [ChemFigure(drawn[0], CANVAS)] + [ChemFigure(snap(drawn[0], d), CANVAS) for d in drawn[1:]]
    except DepictError as e:
        raise NotApplicable(str(e)) from None
