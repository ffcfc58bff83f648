"""One molecule's skeletal formula: a named molecule or a substituted scaffold.

A structure is ``{"smiles": tagged SMILES}`` (atom map numbers are the persistent atom ids, so an
edit pair names its atoms alike). Edits are RDKit operations on that molecule: a ring substituent
swapped, added para to a landmark group, or removed; a double or triple bond lowered by one; a
ring attached; the only stereocentre inverted. Each edit names its site by something unique in
the molecule (the only chlorine, the carbon para to the only nitro group), so the instruction has
one reading; a molecule with no such site is drawn again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from pipelines.chemistry import chem
from pipelines.chemistry.molecules import GROUPS, NAMED, SCAFFOLDS, name_of, substituted
from pipelines.diagram.kind import Kind, Question, Text2, seq
from renderers.chem.depict import AID, tag, to_tagged_smiles
from synth.sampling import NotApplicable, pick

#: Iodine is left out: OCR reads a lone "I" label as "1".
#: Ring substituents recognised on a ring atom ``[R]``: SMARTS whose first atom is the ring atom.
SUBSTITUENTS: dict[str, str] = {
    "F": "[R]-[F]",
    "Cl": "[R]-[Cl]",
    "Br": "[R]-[Br]",
    "OH": "[R]-[OX2H1]",
    "NH2": "[R]-[NX3H2]",
    "CH3": "[R]-[CH3]",
    "NO2": "[R]-[N+](=O)[O-]",
    "COOH": "[R]-[CX3](=O)[OX2H1]",
    "CHO": "[R]-[CX3H1]=O",
    "CN": "[R]-C#N",
    "OCH3": "[R]-[OX2]-[CH3]",
}
SINGLE = ("F", "Cl", "Br", "OH", "NH2", "CH3")  # one heavy atom: swapped in place
RINGS: dict[str, tuple[str, str, str]] = {
    "phenyl": ("c1ccccc1", "a phenyl ring", "苯基"),
    "cyclohexyl": ("C1CCCCC1", "a cyclohexyl ring", "环己基"),
    "cyclopentyl": ("C1CCCC1", "a cyclopentyl ring", "环戊基"),
    "cyclopropyl": ("C1CC1", "a cyclopropyl ring", "环丙基"),
}
BOND_NAMES = {1: ("single", "单键"), 2: ("double", "双键"), 3: ("triple", "三键")}
BOND_SYMBOL = {2: "=", 3: "≡"}
STEREO = [m for m in NAMED if len(chem.stereocentres(Chem.MolFromSmiles(m.smiles))) == 1]


#: Count questions by their draw (2..6): (RDKit's count, English, Chinese).
COUNTS: dict[int, tuple[Any, str, str]] = {
    2: (rdMolDescriptors.CalcNumRings, "How many rings does the molecule shown have?", "图中分子有几个环？"),
    3: (
        rdMolDescriptors.CalcNumAromaticRings,
        "How many aromatic rings does the molecule shown have?",
        "图中分子有几个芳香环？",
    ),
    4: (
        lambda mol: len(chem.stereocentres(mol)),
        "How many tetrahedral stereocentres does the molecule shown have?",
        "图中分子有几个四面体手性中心？",
    ),
    5: (
        rdMolDescriptors.CalcNumLipinskiHBD,
        "Counting every hydrogen on N or O (Lipinski's definition), how many hydrogen-bond donors does the "
        "molecule shown have?",
        "按 Lipinski 的定义（N 或 O 上的每个氢原子），图中分子有几个氢键供体？",
    ),
    6: (
        rdMolDescriptors.CalcNumLipinskiHBA,
        "Counting every N and O atom (Lipinski's definition), how many hydrogen-bond acceptors does the "
        "molecule shown have?",
        "按 Lipinski 的定义（每个 N 和 O 原子），图中分子有几个氢键受体？",
    ),
}


def group_en(g: str) -> str:
    return f"{GROUPS[g][1]} group ({g})" if g in GROUPS else RINGS[g][1]


def group_zh(g: str) -> str:
    return f"{GROUPS[g][2]}（{g}）" if g in GROUPS else RINGS[g][2]


def substituents(mol: Chem.Mol) -> list[tuple[str, int, tuple[int, ...]]]:
    """(label, ring atom index, the group's atom indices) of each ring substituent."""
    out = []
    for label, smarts in SUBSTITUENTS.items():
        for match in mol.GetSubstructMatches(chem._pattern(smarts)):
            out.append((label, match[0], tuple(match[1:])))
    return out


def unique_substituents(mol: Chem.Mol) -> list[tuple[str, int, tuple[int, ...]]]:
    subs = substituents(mol)
    labels = [s[0] for s in subs]
    return [s for s in subs if labels.count(s[0]) == 1]


def para_sites(mol: Chem.Mol) -> list[tuple[str, int, int]]:
    """(landmark label, landmark ring atom, free carbon para to it on a six-membered ring) where the
    landmark is the only group of its kind and the para carbon bears a hydrogen."""
    info = mol.GetRingInfo()
    out = []
    for label, ring_atom, _ in unique_substituents(mol):
        for ring in info.AtomRings():
            if len(ring) != 6 or ring_atom not in ring:
                continue
            k = ring.index(ring_atom)
            c = mol.GetAtomWithIdx(ring[(k + 3) % 6])
            if c.GetSymbol() == "C" and c.GetTotalNumHs() >= 1 and c.GetFormalCharge() == 0:
                out.append((label, ring_atom, c.GetIdx()))
    return out


def aid(mol: Chem.Mol, idx: int) -> int:
    return mol.GetAtomWithIdx(idx).GetIntProp(AID)


def index(mol: Chem.Mol, a: int) -> int:
    for atom in mol.GetAtoms():
        if atom.GetIntProp(AID) == a:
            return atom.GetIdx()
    raise KeyError(a)


def attach(mol: Chem.Mol, at: int, fragment: str) -> Chem.Mol:
    """The molecule with the fragment (SMILES, bonded by its first atom) on atom ``at``; new atoms
    get new ids."""
    frag = Chem.MolFromSmiles(fragment)
    n = mol.GetNumAtoms()
    rw = Chem.RWMol(Chem.CombineMols(mol, frag))
    rw.AddBond(at, n, Chem.BondType.SINGLE)
    atom = rw.GetAtomWithIdx(at)
    atom.SetNumExplicitHs(max(0, atom.GetNumExplicitHs() - 1))
    out = chem.sanitized(rw.GetMol())
    return tag(out)


def bond_sites(mol: Chem.Mol) -> list[tuple[int, int, int, str]]:
    """(begin, end, order, label such as 'C=O') of each non-ring double or triple bond whose label
    is unique in the molecule (so "the C=O bond" names one)."""
    found = []
    for b in mol.GetBonds():
        order = {Chem.BondType.DOUBLE: 2, Chem.BondType.TRIPLE: 3}.get(b.GetBondType())
        a1, a2 = b.GetBeginAtom(), b.GetEndAtom()
        if not order or b.IsInRing() or a1.GetFormalCharge() or a2.GetFormalCharge():
            continue
        pair = sorted([a1.GetSymbol(), a2.GetSymbol()], key=lambda s: (s != "C", s))
        found.append((a1.GetIdx(), a2.GetIdx(), order, f"{pair[0]}{BOND_SYMBOL[order]}{pair[1]}"))
    labels = [f[3] for f in found]
    return [f for f in found if labels.count(f[3]) == 1]


def sample_generated(rng: np.random.Generator) -> str:
    """A scaffold with one to three distinct groups at distinct positions."""
    scaffold = str(rng.choice(list(SCAFFOLDS)))
    slots = [1, 2, 3, 4, 5, 6] if scaffold in ("benzene", "cyclohexane") else [2, 3, 4, 5, 6]
    if scaffold == "naphthalene":
        slots = [1, 2, 3, 4]
    n = int(rng.integers(1, 4))
    at = rng.choice(slots, n, replace=False).tolist()
    labels = rng.choice(list(GROUPS), n, replace=False).tolist()
    return substituted(scaffold, dict(zip((int(a) for a in at), labels, strict=True)))


def sample_para(rng: np.random.Generator) -> str:
    """A benzene with a group at position 1 and maybe another at 2 or 3: position 4 is free and
    para to a unique group (what add_group and add_ring name)."""
    labels = rng.choice(list(GROUPS), 2, replace=False).tolist()
    at = {1: labels[0]}
    if rng.random() < 0.5:
        at[int(rng.integers(2, 4))] = labels[1]
    return substituted("benzene", at)


#: Named molecules with a non-ring double or triple bond of a unique kind (change_bond_order).
BONDED = [m for m in NAMED if bond_sites(Chem.MolFromSmiles(m.smiles))]


def a(noun: str) -> str:
    """The noun with its indefinite article ("an amino group", "a bromo group")."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


class Molecule(Kind):
    name = "molecule"
    edits = (
        "replace_substituent",
        "add_group",
        "remove_group",
        "change_bond_order",
        "add_ring",
        "invert_stereocentre",
    )

    # -- structures -----------------------------------------------------------------------------

    @staticmethod
    def structure(smiles: str) -> dict[str, Any]:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            raise NotApplicable(f"unparsable SMILES {smiles!r}")
        return {"smiles": to_tagged_smiles(tag(mol))}

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        if rng.random() < 0.6:
            return self.structure(NAMED[int(rng.integers(len(NAMED)))].smiles)
        return self.structure(sample_generated(rng))

    def sample_for(self, rng: np.random.Generator, op: str | None) -> dict[str, Any]:
        if op == "invert_stereocentre":
            return self.structure(STEREO[int(rng.integers(len(STEREO)))].smiles)
        if op == "change_bond_order":
            return self.structure(BONDED[int(rng.integers(len(BONDED)))].smiles)
        if op in ("add_group", "add_ring"):
            return self.structure(sample_para(rng))
        # a substituted scaffold has these sites most often
        if op in ("replace_substituent", "remove_group") and rng.random() < 0.7:
            return self.structure(sample_generated(rng))
        return self.sample(rng)

    def draw(self, structures: list[dict[str, Any]]):
        return chem.draw_pair([s["smiles"] for s in structures])

    # -- texts ----------------------------------------------------------------------------------

    def describe(self, s: dict[str, Any]) -> Text2:
        mol = chem.load(s["smiles"])
        f = chem.formula(mol)
        named = name_of(mol)
        rings = rdMolDescriptors.CalcNumRings(mol)
        arom = rdMolDescriptors.CalcNumAromaticRings(mol)
        groups = chem.groups_present(mol)
        hetero = sorted({a.GetSymbol() for a in mol.GetAtoms() if a.GetSymbol() not in ("C", "H")})
        what_en = (
            f"the skeletal formula of {named.en} ({f})"
            if named
            else f"the skeletal formula of a molecule with formula {f}"
        )
        what_zh = f"{named.zh}（{f}）的键线式" if named else f"分子式为 {f} 的一个分子的键线式"
        ring_en = f"{rings} ring(s), {arom} of them aromatic" if rings else "no rings"
        ring_zh = f"{rings} 个环，其中 {arom} 个为芳香环" if rings else "没有环"
        g_en = f"; functional groups: {seq(g[0] for g in groups)}" if groups else ""
        g_zh = f"；官能团：{seq((g[1] for g in groups), '、')}" if groups else ""
        h_en = f"; heteroatoms labelled {seq(hetero)} in colour" if hetero else ""
        h_zh = f"；杂原子 {seq(hetero)} 以彩色标注" if hetero else ""
        return Text2(
            f"A 2D chemical structure drawing, {what_en}, on a white background: carbon atoms as unlabelled "
            f"vertices of black bond lines, {mol.GetNumAtoms()} heavy atoms, {ring_en}{g_en}{h_en}.",
            f"一幅白底的二维化学结构图，画的是{what_zh}：碳原子为黑色键线的未标注顶点，共 {mol.GetNumAtoms()} 个重原子，"
            f"{ring_zh}{g_zh}{h_zh}。",
        )

    # -- edits ----------------------------------------------------------------------------------

    def propose(self, rng: np.random.Generator, op: str, s: dict[str, Any]) -> dict[str, Any]:
        mol = chem.load(s["smiles"])
        if op == "replace_substituent":
            label, _, atoms = pick(rng, [u for u in unique_substituents(mol) if u[0] in SINGLE])
            present = {u[0] for u in substituents(mol)}
            new = pick(rng, [g for g in SINGLE if g not in present])
            return {"op": op, "aid": aid(mol, atoms[0]), "from": label, "to": new}
        if op in ("add_group", "add_ring"):
            label, ring_atom, site = pick(rng, para_sites(mol))
            present = {u[0] for u in substituents(mol)}
            new = pick(rng, [g for g in GROUPS if g not in present] if op == "add_group" else list(RINGS))
            return {"op": op, "site": aid(mol, site), "landmark": label, "group": new}
        if op == "remove_group":
            label, ring_atom, atoms = pick(rng, unique_substituents(mol))
            return {
                "op": op,
                "site": aid(mol, ring_atom),
                "group": label,
                "aids": [aid(mol, a) for a in atoms],
            }
        if op == "change_bond_order":
            b, e, order, label = pick(rng, bond_sites(mol))
            return {
                "op": op,
                "aids": [aid(mol, b), aid(mol, e)],
                "bond": label,
                "from": order,
                "to": order - 1,
            }
        if op == "invert_stereocentre":
            centres = chem.stereocentres(mol)
            if len(centres) != 1 or centres[0][1] not in ("R", "S"):
                raise NotApplicable("the molecule has no single assigned stereocentre")
            idx, cip = centres[0]
            return {"op": op, "aid": aid(mol, idx), "from": cip, "to": "S" if cip == "R" else "R"}
        raise ValueError(op)

    def apply(self, s: dict[str, Any], edit: dict[str, Any]) -> dict[str, Any]:
        mol = chem.load(s["smiles"])
        op = edit["op"]
        if op == "replace_substituent":
            rw = Chem.RWMol(mol)
            atom = rw.GetAtomWithIdx(index(mol, edit["aid"]))
            atom.SetAtomicNum(Chem.MolFromSmiles(GROUPS[edit["to"]][0]).GetAtomWithIdx(0).GetAtomicNum())
            atom.SetNumExplicitHs(0)
            atom.SetNoImplicit(False)
            atom.SetFormalCharge(0)
            out = chem.sanitized(rw.GetMol())
        elif op in ("add_group", "add_ring"):
            frag = GROUPS[edit["group"]][0] if op == "add_group" else RINGS[edit["group"]][0]
            out = attach(mol, index(mol, edit["site"]), frag)
        elif op == "remove_group":
            rw = Chem.RWMol(mol)
            site = rw.GetAtomWithIdx(index(mol, edit["site"]))
            site.SetNumExplicitHs(site.GetNumExplicitHs() + 1)  # tagged atoms are bracket atoms
            for i in sorted((index(mol, a) for a in edit["aids"]), reverse=True):
                rw.RemoveAtom(i)
            out = chem.sanitized(rw.GetMol())
        elif op == "change_bond_order":
            rw = Chem.RWMol(mol)
            i, j = (index(mol, a) for a in edit["aids"])
            rw.GetBondBetweenAtoms(i, j).SetBondType(
                {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE}[edit["to"]]
            )
            for k in (i, j):
                rw.GetAtomWithIdx(k).SetNoImplicit(False)
                rw.GetAtomWithIdx(k).SetNumExplicitHs(0)
            out = chem.sanitized(rw.GetMol())
        elif op == "invert_stereocentre":
            out = Chem.Mol(mol)
            out.GetAtomWithIdx(index(mol, edit["aid"])).InvertChirality()
            out = chem.sanitized(out)
        else:
            raise ValueError(op)
        return {"smiles": to_tagged_smiles(out)}

    def check(self, source: dict[str, Any], target: dict[str, Any], edit: dict[str, Any]) -> str | None:
        """By formula arithmetic and the atom ids, not by replaying the edit."""
        a, b = chem.load(source["smiles"]), chem.load(target["smiles"])
        if chem.canonical(a) == chem.canonical(b):
            return "the target is the same molecule"
        ca, cb = chem.counts(chem.formula(a)), chem.counts(chem.formula(b))
        op = edit["op"]
        ids_b = {x.GetIntProp(AID): x for x in b.GetAtoms()}
        if op == "replace_substituent":
            x = ids_b.get(edit["aid"])
            want = Chem.MolFromSmiles(GROUPS[edit["to"]][0])
            if x is None or x.GetSymbol() != want.GetAtomWithIdx(0).GetSymbol():
                return f"the {edit['from']} did not become {edit['to']}"
            if x.GetTotalNumHs() != want.GetAtomWithIdx(0).GetTotalNumHs() - 1:  # one H is the ring
                return f"the new {edit['to']} has {x.GetTotalNumHs()} hydrogens"
            expect = ca - chem.counts(chem.formula(Chem.MolFromSmiles(GROUPS[edit["from"]][0])))
            expect += chem.counts(chem.formula(want))
        elif op in ("add_group", "add_ring", "remove_group"):
            frag = GROUPS[edit["group"]][0] if edit["group"] in GROUPS else RINGS[edit["group"]][0]
            fc = chem.counts(chem.formula(Chem.MolFromSmiles(frag)))  # the group with its H: H-X
            if op == "remove_group":
                expect = ca - fc
                expect["H"] += 2
            else:
                expect = ca + fc
                expect["H"] -= 2
                site = ids_b.get(edit["site"])
                if site is None or not any(
                    n.GetIntProp(AID) not in {x.GetIntProp(AID) for x in a.GetAtoms()}
                    for n in site.GetNeighbors()
                ):
                    return "the new group is not on the named carbon"
        elif op == "change_bond_order":
            i, j = (ids_b.get(x) for x in edit["aids"])
            bond = b.GetBondBetweenAtoms(i.GetIdx(), j.GetIdx()) if i is not None and j is not None else None
            if bond is None or bond.GetBondTypeAsDouble() != edit["to"]:
                return f"the {edit['bond']} bond is not a {BOND_NAMES[edit['to']][0]} bond"
            expect = ca.copy()
            expect["H"] += 2
        elif op == "invert_stereocentre":
            if chem.canonical(a, stereo=False) != chem.canonical(b, stereo=False):
                return "inverting a stereocentre changed the constitution"
            labels = {b.GetAtomWithIdx(i).GetIntProp(AID): c for i, c in chem.stereocentres(b)}
            if labels.get(edit["aid"]) != edit["to"]:
                return f"the stereocentre is {labels.get(edit['aid'])}, not {edit['to']}"
            expect = ca
        else:
            return f"unknown edit {op}"
        expect = +expect
        if +cb != expect:
            return f"formula {chem.formula(b)} is not the expected {dict(expect)}"
        return None

    def scope(self, source, target, edit) -> set[str] | None:
        """The edited atoms, their neighbours, and every bond at any of them, in either molecule."""
        mols = [chem.load(source["smiles"]), chem.load(target["smiles"])]
        seeds = {edit[k] for k in ("aid", "site") if k in edit} | set(edit.get("aids", []))
        old = {x.GetIntProp(AID) for x in mols[0].GetAtoms()}
        seeds |= {x.GetIntProp(AID) for x in mols[1].GetAtoms()} - old  # atoms the edit added
        near = set(seeds)
        for m in mols:
            for x in m.GetAtoms():
                if x.GetIntProp(AID) in seeds:
                    near |= {n.GetIntProp(AID) for n in x.GetNeighbors()}
        ids = {f"a{x}" for x in near}
        ring = set(near)  # a ring's inner double-bond lines follow its atoms: one hop further
        for m in mols:
            for x in m.GetAtoms():
                if x.GetIntProp(AID) in near:
                    ring |= {n.GetIntProp(AID) for n in x.GetNeighbors()}
        for m in mols:
            for bond in m.GetBonds():
                p, q = sorted((bond.GetBeginAtom().GetIntProp(AID), bond.GetEndAtom().GetIntProp(AID)))
                if p in near or q in near or (bond.IsInRing() and p in ring and q in ring):
                    ids.add(f"b{p}-{q}")
        return ids

    def instruct(self, edit: dict[str, Any]) -> Text2:
        op = edit["op"]
        if op == "replace_substituent":
            return Text2(
                f"Replace the {group_en(edit['from'])} on the ring with {a(group_en(edit['to']))}.",
                f"将环上的{group_zh(edit['from'])}替换为{group_zh(edit['to'])}。",
            )
        if op in ("add_group", "add_ring"):
            return Text2(
                f"Attach {a(group_en(edit['group']))} to the ring carbon para to the {group_en(edit['landmark'])}."
                if op == "add_group"
                else f"Attach {group_en(edit['group'])} to the ring carbon para to the {group_en(edit['landmark'])}.",
                f"在{group_zh(edit['landmark'])}对位的环碳原子上连接一个{group_zh(edit['group'])}。",
            )
        if op == "remove_group":
            return Text2(
                f"Remove the {group_en(edit['group'])} from the ring, leaving a hydrogen in its place.",
                f"去掉环上的{group_zh(edit['group'])}，原位置换成氢原子。",
            )
        if op == "change_bond_order":
            fe, fz = BOND_NAMES[edit["from"]]
            te, tz = BOND_NAMES[edit["to"]]
            return Text2(
                f"Change the {edit['bond']} {fe} bond into a {te} bond, adding hydrogens as needed.",
                f"将 {edit['bond']} {fz}改为{tz}，并相应补足氢原子。",
            )
        return Text2(
            f"Invert the stereocentre, turning its ({edit['from']}) configuration into ({edit['to']}).",
            f"翻转该手性中心的构型，由 ({edit['from']}) 变为 ({edit['to']})。",
        )

    # -- questions ------------------------------------------------------------------------------

    def ask(self, rng: np.random.Generator, s: dict[str, Any]) -> Question:
        mol = chem.load(s["smiles"])
        which = int(rng.integers(8))
        f = chem.formula(mol)
        tally = ", ".join(f"{el} {n}" for el, n in chem.counts(f).items())
        if which == 0:
            return Question(
                Text2("What is the molecular formula of the molecule shown?", "图中分子的分子式是什么？"),
                f,
                f"Counting atoms, implicit hydrogens included: {tally}; so {f}.",
            )
        if which == 1:
            w = f"{chem.weight(mol):.2f}"
            return Question(
                Text2(
                    "What is the molecular weight of the molecule shown, in g/mol to two decimals?",
                    "图中分子的相对分子质量是多少（g/mol，保留两位小数）？",
                ),
                f"{w} g/mol",
                f"The formula is {f} ({tally}); summing standard atomic weights gives {w} g/mol.",
            )
        if which in COUNTS:
            count, en, zh = COUNTS[which]
            return Question(Text2(en, zh), str(count(mol)))
        groups = chem.groups_present(mol)
        return Question(
            Text2(
                "Which functional groups does the molecule shown contain? Choose from: "
                + seq(g[0] for g in chem.FUNCTIONAL_GROUPS)
                + ".",
                "图中分子含有哪些官能团？可选：" + seq((g[1] for g in chem.FUNCTIONAL_GROUPS), "、") + "。",
            ),
            seq(g[0] for g in groups) if groups else "none",
        )
