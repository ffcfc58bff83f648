"""Genetics figures: Punnett squares (mono- and dihybrid crosses) and pedigree charts.

A Punnett square's cells are the parents' gametes combined; its ratios are computed twice, by
multiplying per-gene Mendelian probabilities (what questions and instructions state) and by
counting the drawn cells (what ``check`` compares against). A pedigree is sampled forward from
its founders under one inheritance mode, so its phenotypes fit that mode; which modes a drawn
pedigree fits is decided exactly, by searching genotype assignments family by family.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from functools import reduce
from itertools import product
from math import gcd, lcm
from typing import Any

from pipelines.diagram.kind import Kind, Question, Text2
from renderers.diagrams.graph import OutOfFrame
from renderers.svg.biology import Figure, cell, label
from synth.sampling import NotApplicable, pick

W, H = 768, 576  # canvas of every genetics figure (user units = output pixels)

# ---------------------------------------------------------------------------------------------
# Punnett squares

LETTERS = ("A", "B", "D", "E", "G", "R", "T")  # upper and lower case look different (OCR)
#: trait, zh, dominant (en, zh), recessive (en, zh): Mendel's pea traits.
PEA = (
    ("seed colour", "种子颜色", ("yellow", "黄色"), ("green", "绿色")),
    ("seed shape", "种子形状", ("round", "圆粒"), ("wrinkled", "皱粒")),
    ("flower colour", "花色", ("purple", "紫花"), ("white", "白花")),
    ("plant height", "株高", ("tall", "高茎"), ("short", "矮茎")),
)
#: incomplete dominance: the heterozygote shows the intermediate phenotype.
SNAPDRAGON = ("snapdragon flower colour", "金鱼草花色", ("red", "红花"), ("white", "白花"), ("pink", "粉花"))
FILLS = ("#fde9a9", "#cfe8c4", "#f6cfd8", "#cddff5", "#e6d5f2", "#f9dcc0")


def pairs(genotype: str) -> list[str]:
    """'AaBb' -> ['Aa', 'Bb']."""
    return [genotype[i : i + 2] for i in range(0, len(genotype), 2)]


def norm(genotype: str) -> str:
    """Each gene's alleles written dominant first ('aA' -> 'Aa')."""
    return "".join("".join(sorted(p, key=lambda c: (c.islower(), c))) for p in pairs(genotype))


def gametes(genotype: str) -> list[str]:
    """A parent's gametes in Punnett order (one allele per gene; 'AaBb' -> AB, Ab, aB, ab)."""
    return ["".join(g) for g in product(*pairs(genotype))]


def offspring(top: str, left: str) -> str:
    """The zygote of two gametes, gene by gene."""
    return norm("".join(a + b for a, b in zip(top, left, strict=True)))


def grid(p1: str, p2: str) -> list[list[str]]:
    """Cells by row (gametes of ``p2``, left) and column (gametes of ``p1``, top)."""
    return [[offspring(t, g) for t in gametes(p1)] for g in gametes(p2)]


def phenotype(genes: list[dict], genotype: str) -> tuple[int, ...]:
    """Per gene 0 dominant, 1 intermediate (incomplete dominance, heterozygote), 2 recessive."""
    out = []
    for gene, p in zip(genes, pairs(genotype), strict=True):
        big = sum(c.isupper() for c in p)
        out.append(0 if big == 2 or (big == 1 and not gene["mid"]) else 1 if big == 1 else 2)
    return tuple(out)


def classes(genes: list[dict]) -> list[tuple[int, ...]]:
    """Every phenotype class of these genes, in a fixed order (legend, ratios)."""
    return list(product(*[(0, 1, 2) if g["mid"] else (0, 2) for g in genes]))


def pheno_name(genes: list[dict], c: tuple[int, ...], lang: str = "en") -> str:
    k = 0 if lang == "en" else 1
    names = [(g["dom"], g["mid"], g["rec"])[v][k] for g, v in zip(genes, c, strict=True)]
    return (" " if lang == "en" else "").join(names)


def gene_probs(p1: str, p2: str) -> list[dict[str, Fraction]]:
    """Per gene, the offspring genotypes' probabilities (each parent passes each allele with 1/2)."""
    out = []
    for a, b in zip(pairs(p1), pairs(p2), strict=True):
        d: dict[str, Fraction] = {}
        for x, y in product(a, b):
            k = norm(x + y)
            d[k] = d.get(k, Fraction(0)) + Fraction(1, 4)
        out.append(d)
    return out


def genotype_probs(p1: str, p2: str) -> dict[str, Fraction]:
    """Offspring genotype probabilities: the product of independent genes."""
    out: dict[str, Fraction] = {}
    for combo in product(*[d.items() for d in gene_probs(p1, p2)]):
        g = "".join(k for k, _ in combo)
        out[g] = out.get(g, Fraction(0)) + reduce(lambda a, b: a * b, (p for _, p in combo), Fraction(1))
    return out


def pheno_probs(genes: list[dict], p1: str, p2: str) -> dict[tuple[int, ...], Fraction]:
    out: dict[tuple[int, ...], Fraction] = {}
    for g, p in genotype_probs(p1, p2).items():
        c = phenotype(genes, g)
        out[c] = out.get(c, Fraction(0)) + p
    return out


def as_ratio(probs: list[Fraction]) -> list[int]:
    """Probabilities as the smallest whole-number ratio (1/4, 1/2, 1/4 -> 1, 2, 1)."""
    m = lcm(*[p.denominator for p in probs])
    ints = [int(p * m) for p in probs]
    d = reduce(gcd, ints)
    return [i // d for i in ints]


def pheno_ratio(genes: list[dict], p1: str, p2: str) -> list[tuple[tuple[int, ...], int]]:
    """(class, share) of the classes that occur, in class order."""
    probs = pheno_probs(genes, p1, p2)
    present = [c for c in classes(genes) if probs.get(c)]
    return list(zip(present, as_ratio([probs[c] for c in present]), strict=True))


def ratio_text(genes: list[dict], ratio: list[tuple[tuple[int, ...], int]], lang: str = "en") -> str:
    return " : ".join(f"{n} {pheno_name(genes, c, lang)}" for c, n in ratio)


def count_ratio(genes: list[dict], cells: list[list[str | None]]) -> list[tuple[tuple[int, ...], int]]:
    """The phenotype ratio counted from the cells' genotype strings (the independent check)."""
    counts = Counter(phenotype(genes, g) for row in cells for g in row if g)
    present = [c for c in classes(genes) if counts[c]]
    d = reduce(gcd, [counts[c] for c in present])
    return [(c, counts[c] // d) for c in present]


def frac(p: Fraction) -> str:
    return f"{p.numerator}/{p.denominator}" if p.denominator != 1 else str(p.numerator)


def _gene(letter: str, incomplete: bool, trait: tuple) -> dict:
    mid = list(trait[4]) if incomplete else None
    return {
        "letter": letter,
        "trait": trait[0],
        "trait_zh": trait[1],
        "dom": list(trait[2]),
        "rec": list(trait[3]),
        "mid": mid,
    }


def all_genotypes(genes: list[dict]) -> list[str]:
    per = [[L + L, L + L.lower(), L.lower() * 2] for L in (g["letter"] for g in genes)]
    return ["".join(p) for p in product(*per)]


class Punnett(Kind):
    name = "punnett"
    subdomain = "genetics/punnett"
    edits = ("change_parent", "fill_cell")

    def sample(self, rng) -> dict[str, Any]:
        n = 2 if rng.random() < 0.5 else 1
        letters = sorted(rng.choice(LETTERS, n, replace=False).tolist())
        if n == 1 and rng.random() < 0.3:
            genes = [_gene(letters[0], True, SNAPDRAGON)]
        else:
            traits = sorted(rng.choice(len(PEA), n, replace=False).tolist())
            genes = [_gene(L, False, PEA[t]) for L, t in zip(letters, traits, strict=True)]
        hetero = "".join(L + L.lower() for L in letters)
        options = all_genotypes(genes)
        # the classic crosses most often (Aa x Aa, AaBb x AaBb), test crosses and others besides
        p1 = hetero if rng.random() < 0.6 else pick(rng, options)
        p2 = hetero if rng.random() < 0.5 else pick(rng, options)
        return {"kind": self.name, "genes": genes, "p1": p1, "p2": p2, "cells": grid(p1, p2), "blank": None}

    def sample_for(self, rng, op):
        s = self.sample(rng)
        if op == "fill_cell":
            n = len(s["cells"])
            s["blank"] = [int(rng.integers(n)), int(rng.integers(n))]
        return s

    # -- drawing ------------------------------------------------------------------------------

    def layout(self, s: dict[str, Any]) -> list[dict]:
        genes, p1, p2 = s["genes"], s["p1"], s["p2"]
        n = 2 ** len(genes)
        c = 110 if n == 2 else 84
        hc, hw = 48, 64  # header row height, header column width
        gx, gy = 230, 150
        size = 26 if n == 2 else 21
        cls = classes(genes)
        els = [
            label("title", gx + n * c / 2, 44, f"{p1} × {p2}", 26),
            label("p1_label", gx + n * c / 2, gy - hc - 14, f"P1: {p1}", 20),
            label("p2_label", 24, gy + n * c / 2 + 7, f"P2: {p2}", 20, "start"),
        ]
        for j, g in enumerate(gametes(p1)):
            els.append(cell(f"top{j}", gx + j * c, gy - hc, c, hc, g, size=21, fill="#eeeeee"))
        for i, g in enumerate(gametes(p2)):
            els.append(cell(f"left{i}", gx - hw, gy + i * c, hw, c, g, size=21, fill="#eeeeee"))
        for i, row in enumerate(s["cells"]):
            for j, g in enumerate(row):
                blank = s["blank"] == [i, j]
                fill = "white" if blank else FILLS[cls.index(phenotype(genes, g))]
                els.append(
                    cell(f"c{i}_{j}", gx + j * c, gy + i * c, c, c, "" if blank else g, size=size, fill=fill)
                )
        lx, ly = 580, 170
        els.append(label("legend", lx, ly - 20, "Phenotypes", 18, "start"))
        for k, cl in enumerate(cls):
            y = ly + k * 40
            els.append(cell(f"swatch{k}", lx, y, 24, 24, fill=FILLS[k]))
            els.append(label(f"legend{k}", lx + 34, y + 19, pheno_name(genes, cl), 17, "start"))
        key = ", ".join(
            f"{g['letter']} {g['dom'][0]} / {g['letter'].lower()} {g['rec'][0]}" for g in genes
        )  # the allele key, under the square
        els.append(
            label("key", W / 2, H - 24, key + (" (incomplete dominance)" if genes[0]["mid"] else ""), 17)
        )
        return els

    def draw(self, structures):
        return [Figure({"canvas": [W, H], "elements": self.layout(s)}) for s in structures]

    # -- texts --------------------------------------------------------------------------------

    def _genes_text(self, genes: list[dict]) -> Text2:
        en, zh = [], []
        for g in genes:
            L, lo = g["letter"], g["letter"].lower()
            if g["mid"]:
                en.append(
                    f"{g['trait']}: {L} ({g['dom'][0]}) and {lo} ({g['rec'][0]}) with incomplete dominance, "
                    f"{L}{lo} {g['mid'][0]}"
                )
                zh.append(
                    f"{g['trait_zh']}：{L}（{g['dom'][1]}）与 {lo}（{g['rec'][1]}）为不完全显性，{L}{lo} 为{g['mid'][1]}"
                )
            else:
                en.append(f"{g['trait']}: {L} ({g['dom'][0]}) dominant over {lo} ({g['rec'][0]})")
                zh.append(f"{g['trait_zh']}：{L}（{g['dom'][1]}）对 {lo}（{g['rec'][1]}）为显性")
        return Text2("; ".join(en), "；".join(zh))

    def describe(self, s):
        genes, p1, p2 = s["genes"], s["p1"], s["p2"]
        n = len(s["cells"])
        kind = ("monohybrid", "单因子") if len(genes) == 1 else ("dihybrid", "双因子")
        ratio = pheno_ratio(genes, p1, p2)
        g = self._genes_text(genes)
        return Text2(
            f"A {kind[0]} Punnett square for the cross {p1} × {p2} ({g.en}). The gametes of P1 "
            f"({', '.join(gametes(p1))}) head the columns and those of P2 ({', '.join(gametes(p2))}) the rows; "
            f"the {n * n} cells give the offspring genotypes, shaded by phenotype with a legend at the right. "
            f"Phenotype ratio: {ratio_text(genes, ratio)}.",
            f"{kind[1]}杂交 {p1} × {p2} 的庞纳特方格（棋盘格；{g.zh}）。亲本 P1 的配子（{'、'.join(gametes(p1))}）列在上方，"
            f"P2 的配子（{'、'.join(gametes(p2))}）列在左侧；{n * n} 个格子中是子代的基因型，按表型着色，"
            f"右侧为图例。表型比为 {ratio_text(genes, ratio, 'zh')}。",
        )

    def propose(self, rng, op, s):
        if op == "fill_cell":
            if s["blank"] is None:
                raise NotApplicable("no empty cell")
            i, j = s["blank"]
            return {"op": op, "row": i, "col": j, "genotype": s["cells"][i][j]}
        side = "p1" if rng.random() < 0.5 else "p2"
        new = pick(rng, [g for g in all_genotypes(s["genes"]) if g != s[side]])
        p1, p2 = (new, s["p2"]) if side == "p1" else (s["p1"], new)
        ratio = pheno_ratio(s["genes"], p1, p2)
        return {
            "op": op,
            "parent": side,
            "genotype": new,
            "ratio": [[list(c), k] for c, k in ratio],
            "ratio_en": ratio_text(s["genes"], ratio),
            "ratio_zh": ratio_text(s["genes"], ratio, "zh"),
        }

    def apply(self, s, edit):
        if edit["op"] == "fill_cell":
            return {**s, "blank": None}
        t = {**s, edit["parent"]: edit["genotype"]}
        return {**t, "cells": grid(t["p1"], t["p2"])}

    def check(self, source, target, edit):
        if source["genes"] != target["genes"]:
            return "the genes changed"
        cells = target["cells"]
        if target["blank"] is not None:
            return "a cell is still empty"
        tops, lefts = gametes(target["p1"]), gametes(target["p2"])
        for i, row in enumerate(cells):  # every cell holds exactly its two gametes' alleles
            for j, g in enumerate(row):
                if sorted(g) != sorted(tops[j] + lefts[i]):
                    return f"cell ({i + 1}, {j + 1}) is {g}, not the zygote of {tops[j]} and {lefts[i]}"
        if edit["op"] == "fill_cell":
            if (source["p1"], source["p2"], source["cells"]) != (target["p1"], target["p2"], cells):
                return "more than the empty cell changed"
            if sorted(cells[edit["row"]][edit["col"]]) != sorted(edit["genotype"]):
                return "the filled cell is not the named genotype"
            return None
        other = "p2" if edit["parent"] == "p1" else "p1"
        if target[other] != source[other] or target[edit["parent"]] != edit["genotype"]:
            return "the parents are not the ones the instruction names"
        counted = [[list(c), k] for c, k in count_ratio(target["genes"], cells)]
        if counted != edit["ratio"]:
            return f"the cells give the ratio {counted}, the instruction says {edit['ratio']}"
        return None

    def scope(self, source, target, edit):
        n = len(source["cells"])
        if edit["op"] == "fill_cell":
            return {f"c{edit['row']}_{edit['col']}"}
        side = "top" if edit["parent"] == "p1" else "left"
        heads = {f"{side}{k}" for k in range(n)}
        return {"title", f"{edit['parent']}_label", *heads} | {
            f"c{i}_{j}" for i in range(n) for j in range(n)
        }

    def instruct(self, edit):
        if edit["op"] == "fill_cell":
            return Text2(
                f"Fill in the empty cell (row {edit['row'] + 1}, column {edit['col'] + 1}) of the Punnett square "
                "with the offspring genotype, shaded by its phenotype.",
                f"在棋盘格中第 {edit['row'] + 1} 行第 {edit['col'] + 1} 列的空格里填上子代的基因型，并按其表型着色。",
            )
        p = edit["parent"].upper()
        return Text2(
            f"Change parent {p} to genotype {edit['genotype']}: update its gametes and the offspring cells "
            f"(the phenotype ratio becomes {edit['ratio_en']}).",
            f"把亲本 {p} 的基因型改为 {edit['genotype']}：更新其配子和子代格子（表型比变为 {edit['ratio_zh']}）。",
        )

    def ask(self, rng, s):
        genes, p1, p2 = s["genes"], s["p1"], s["p2"]
        cells = [g for row in s["cells"] for g in row]
        n = len(cells)
        what = pick(rng, ["ratio", "probability", "count"] + (["genotypes"] if len(genes) == 1 else []))
        if what == "ratio":
            ratio = pheno_ratio(genes, p1, p2)
            counts = Counter(phenotype(genes, g) for g in cells)
            cot = ", ".join(f"{counts[c]} of {n} cells {pheno_name(genes, c)}" for c, _ in ratio)
            return Question(
                Text2(
                    "What phenotype ratio does this cross give among the offspring?",
                    "该杂交子代的表型比是多少？",
                ),
                ratio_text(genes, ratio),
                f"Counting the cells by phenotype: {cot}; reduced: {':'.join(str(k) for _, k in ratio)}.",
            )
        if what == "genotypes":
            probs = genotype_probs(p1, p2)
            order = all_genotypes(genes)
            present = [g for g in order if probs.get(g)]
            ratio = as_ratio([probs[g] for g in present])
            return Question(
                Text2(
                    "What is the genotype ratio of the offspring?",
                    "子代的基因型比是多少？",
                ),
                f"{' : '.join(present)} = {' : '.join(str(k) for k in ratio)}",
                f"The {n} cells hold " + ", ".join(f"{cells.count(g)} {g}" for g in present) + ".",
            )
        if what == "probability":
            g = pick(rng, sorted(set(cells)))
            p = genotype_probs(p1, p2)[g]
            return Question(
                Text2(
                    f"What is the probability that an offspring of this cross has genotype {g}? Give a fraction.",
                    f"该杂交子代基因型为 {g} 的概率是多少？请用分数表示。",
                ),
                frac(p),
                f"{g} fills {cells.count(g)} of the {n} equally likely cells: {cells.count(g)}/{n} = {frac(p)}.",
            )
        c = pick(rng, sorted({phenotype(genes, g) for g in cells}))
        k = sum(phenotype(genes, g) == c for g in cells)
        return Question(
            Text2(
                f"How many cells of the Punnett square show offspring with the {pheno_name(genes, c)} phenotype?",
                f"棋盘格中有多少个格子的子代表型为{pheno_name(genes, c, 'zh')}？",
            ),
            str(k),
            f"The cells with the {pheno_name(genes, c)} phenotype: "
            + ", ".join(g for g in cells if phenotype(genes, g) == c)
            + f" ({k}).",
        )


# ---------------------------------------------------------------------------------------------
# Pedigrees

MODES = ("ad", "ar", "xr")
MODE_NAME = {
    "ad": ("autosomal dominant", "常染色体显性遗传"),
    "ar": ("autosomal recessive", "常染色体隐性遗传"),
    "xr": ("X-linked recessive", "伴X染色体隐性遗传"),
}
ROMAN = ("I", "II", "III")
ROWS = (120, 270, 420)  # y of each generation
SPACING, R = 100, 18


def genotypes(mode: str, sex: str) -> tuple[int, ...]:
    """Copies of the disease allele a person can carry (an X-linked male has one X)."""
    return (0, 1) if mode == "xr" and sex == "M" else (0, 1, 2)


def is_affected(mode: str, sex: str, g: int) -> bool:
    if mode == "ad":
        return g >= 1
    if mode == "xr" and sex == "M":
        return g == 1
    return g == 2


def _alleles(g: int) -> tuple[int, ...]:
    return {0: (0,), 1: (0, 1), 2: (1,)}[g]


def child_genotypes(mode: str, gf: int, gm: int, sex: str) -> set[int]:
    """What a child of these parents can inherit (no new mutations)."""
    if mode == "xr":
        return set(_alleles(gm)) if sex == "M" else {gf + b for b in _alleles(gm)}
    return {a + b for a in _alleles(gf) for b in _alleles(gm)}


def _index(s: dict) -> tuple[dict, dict, dict]:
    people = {p["id"]: p for p in s["people"]}
    parents = {c: f for f in s["families"] for c in f["children"]}
    as_parent: dict[str, list[dict]] = {}
    for f in s["families"]:
        as_parent.setdefault(f["father"], []).append(f)
        as_parent.setdefault(f["mother"], []).append(f)
    return people, parents, as_parent


def consistent(s: dict, mode: str) -> bool:
    """Whether some genotype assignment fits every drawn phenotype under ``mode`` (full
    penetrance, no new mutations). Exact for charts without loops whose spouses from outside
    have no parents drawn (what :class:`Pedigree` draws): each family is searched given one
    parent's genotype, the other's and the children's chosen to fit their own descendants."""
    people, parents, as_parent = _index(s)

    def fits(pid: str) -> list[int]:
        p = people[pid]
        return [g for g in genotypes(mode, p["sex"]) if is_affected(mode, p["sex"], g) == p["affected"]]

    def family_ok(f: dict, gf: int, gm: int) -> bool:
        return all(
            any(below_ok(c, k) for k in child_genotypes(mode, gf, gm, people[c]["sex"]) if k in fits(c))
            for c in f["children"]
        )

    def below_ok(pid: str, g: int) -> bool:
        for f in as_parent.get(pid, []):
            spouse = f["mother"] if f["father"] == pid else f["father"]
            if not any(family_ok(f, *((g, h) if f["father"] == pid else (h, g))) for h in fits(spouse)):
                return False
        return True

    roots = [f for f in s["families"] if f["father"] not in parents and f["mother"] not in parents]
    return all(
        any(family_ok(f, gf, gm) for gf in fits(f["father"]) for gm in fits(f["mother"])) for f in roots
    )


def witness(s: dict, mode: str) -> str:
    """A reason, in words, why a pedigree does not fit ``mode`` (the classic exclusions)."""
    people, _, _ = _index(s)
    for f in s["families"]:
        fa, mo = people[f["father"]], people[f["mother"]]
        kids = [people[c] for c in f["children"]]
        if mode == "ad" and not fa["affected"] and not mo["affected"]:
            c = next((k for k in kids if k["affected"]), None)
            if c:
                return f"unaffected parents {fa['id']} and {mo['id']} have an affected child {c['id']}"
        if mode == "ar" and fa["affected"] and mo["affected"]:
            c = next((k for k in kids if not k["affected"]), None)
            if c:
                return f"affected parents {fa['id']} and {mo['id']} have an unaffected child {c['id']}"
        if mode == "xr":
            d = next((k for k in kids if k["sex"] == "F" and k["affected"] and not fa["affected"]), None)
            if d:
                return f"affected daughter {d['id']} has an unaffected father {fa['id']}"
            son = next((k for k in kids if k["sex"] == "M" and not k["affected"] and mo["affected"]), None)
            if son:
                return f"affected mother {mo['id']} has an unaffected son {son['id']}"
    return "no assignment of genotypes fits every phenotype"


def carrier_case(s: dict) -> tuple[str, Fraction, str] | None:
    """An unaffected, childless person whose carrier probability follows from the chart under
    autosomal recessive inheritance: an affected parent makes them an obligate carrier (1); two
    unaffected parents of an affected child are both carriers, leaving 2/3 (AA : Aa = 1 : 2)."""
    people, parents, as_parent = _index(s)
    for pid, f in parents.items():
        p = people[pid]
        if p["affected"] or pid in as_parent:
            continue
        fa, mo = people[f["father"]], people[f["mother"]]
        sibs = [people[c] for c in f["children"] if c != pid]
        if fa["affected"] != mo["affected"]:
            who = fa if fa["affected"] else mo
            return (
                pid,
                Fraction(1),
                f"{pid} is unaffected but received an a allele from the affected parent {who['id']} (aa): Aa for certain.",
            )
        if not fa["affected"] and any(x["affected"] for x in sibs):
            aff = next(x["id"] for x in sibs if x["affected"])
            return (
                pid,
                Fraction(2, 3),
                f"Unaffected parents {fa['id']} and {mo['id']} have an affected child {aff}, so both are Aa; "
                f"their unaffected children are AA : Aa = 1 : 2, so {pid} is a carrier with probability 2/3.",
            )
    return None


def _sample_genotype(rng, mode: str, sex: str, role: str) -> int:
    """Founders: ``top`` (the first couple, who bring the allele in) or ``spouse`` (married in)."""
    r = rng.random()
    if mode == "ad":
        return (1 if r < 0.5 else 0) if role == "top" else 0
    if mode == "ar":
        if role == "top":
            return 2 if r < 0.2 else 1
        return 2 if r < 0.1 else 1 if r < 0.55 else 0
    if sex == "M":
        return 1 if r < (0.3 if role == "top" else 0.25) else 0
    return (1 if r < 0.85 else 2 if r < 0.9 else 0) if role == "top" else (1 if r < 0.3 else 0)


def _inherit(rng, mode: str, gf: int, gm: int, sex: str) -> int:
    def allele(g: int) -> int:  # the disease allele is passed with probability g / 2
        return int(rng.random() < g / 2)

    if mode == "xr":
        from_mother = allele(gm)
        return from_mother if sex == "M" else gf + from_mother
    return allele(gf) + allele(gm)


def build(rng, mode: str) -> dict:
    """A three-generation chart sampled forward: the founders' genotypes, then each child's from
    its parents; numbers run left to right in each generation."""
    g: dict[str, int] = {}
    people: list[dict] = []
    families: list[dict] = []

    def person(gen: int, sex: str, geno: int) -> dict:
        p = {"id": "", "gen": gen, "sex": sex, "affected": is_affected(mode, sex, geno)}
        people.append(p)
        g[id(p)] = geno
        return p

    top = [
        person(0, "M", _sample_genotype(rng, mode, "M", "top")),
        person(0, "F", _sample_genotype(rng, mode, "F", "top")),
    ]
    if mode == "ad" and not any(p["affected"] for p in top):
        g[id(top[0])], top[0]["affected"] = 1, True
    kids2 = []
    for _ in range(int(rng.integers(2, 5))):
        sex = "M" if rng.random() < 0.5 else "F"
        kids2.append(person(1, sex, _inherit(rng, mode, g[id(top[0])], g[id(top[1])], sex)))
    married = sorted(
        rng.choice(len(kids2), 1 if len(kids2) < 3 or rng.random() < 0.5 else 2, replace=False).tolist()
    )
    gen2, couples = [], []
    for k, c in enumerate(kids2):
        gen2.append(c)
        if k in married:
            sex = "F" if c["sex"] == "M" else "M"
            sp = person(1, sex, _sample_genotype(rng, mode, sex, "spouse"))
            gen2.append(sp)
            couples.append((c, sp) if c["sex"] == "M" else (sp, c))
    gen3_fams = []
    for fa, mo in couples:
        kids = []
        for _ in range(int(rng.integers(1, 4))):
            sex = "M" if rng.random() < 0.5 else "F"
            kids.append(person(2, sex, _inherit(rng, mode, g[id(fa)], g[id(mo)], sex)))
        gen3_fams.append((fa, mo, kids))
    for gen, row in enumerate([top, gen2, [k for *_, ks in gen3_fams for k in ks]]):
        for n, p in enumerate(row, 1):
            p["id"] = f"{ROMAN[gen]}-{n}"
    order = {id(p): i for i, p in enumerate(top + gen2 + [k for *_, ks in gen3_fams for k in ks])}
    people.sort(key=lambda p: order[id(p)])
    families.append({"father": top[0]["id"], "mother": top[1]["id"], "children": [c["id"] for c in kids2]})
    for fa, mo, kids in gen3_fams:
        families.append({"father": fa["id"], "mother": mo["id"], "children": [k["id"] for k in kids]})
    return {"kind": "pedigree", "mode": mode, "people": people, "families": families}


def union(structures: list[dict]) -> dict:
    """Every person and child link of the structures (one layout for an edit pair)."""
    people = {p["id"]: p for s in structures for p in s["people"]}
    fams: dict[tuple[str, str], list[str]] = {}
    for s in structures:
        for f in s["families"]:
            kids = fams.setdefault((f["father"], f["mother"]), [])
            kids += [c for c in f["children"] if c not in kids]
    return {
        "people": list(people.values()),
        "families": [{"father": a, "mother": b, "children": k} for (a, b), k in fams.items()],
    }


def positions(s: dict) -> dict[str, tuple[float, float]]:
    """x, y of each person: generation I and II spread evenly; each family of generation III
    centred under its parents, then pushed right where it would overlap the one before."""
    people, _, _ = _index(s)
    pos: dict[str, tuple[float, float]] = {}
    by_gen: dict[int, list[str]] = {}
    for p in s["people"]:
        by_gen.setdefault(p["gen"], []).append(p["id"])
    for gen in (0, 1):
        row = sorted(by_gen.get(gen, []), key=lambda i: int(i.split("-")[1]))
        x0 = W / 2 + 20 - SPACING * (len(row) - 1) / 2
        for k, pid in enumerate(row):
            pos[pid] = (x0 + k * SPACING, ROWS[gen])
    step = SPACING * 0.85
    last = 80.0 - step
    for f in sorted(s["families"], key=lambda f: min(int(c.split("-")[1]) for c in f["children"])):
        kids = [c for c in f["children"] if people[c]["gen"] == 2]
        if not kids or f["father"] not in pos:
            continue
        mid = (pos[f["father"]][0] + pos[f["mother"]][0]) / 2
        x0 = max(mid - step * (len(kids) - 1) / 2, last + step)
        for k, c in enumerate(sorted(kids, key=lambda i: int(i.split("-")[1]))):
            pos[c] = (x0 + k * step, ROWS[2])
        last = x0 + step * (len(kids) - 1)
    if any(x < 110 or x > W - 30 for x, _ in pos.values()):
        raise OutOfFrame("the pedigree is too wide for the canvas")
    return pos


def pedigree_elements(s: dict, pos: dict[str, tuple[float, float]]) -> list[dict]:
    people, parents, _ = _index(s)
    els = [
        label(f"gen{k}", 40, ROWS[k] + 8, ROMAN[k], 24)
        for k in range(3)
        if any(p["gen"] == k for p in s["people"])
    ]
    for f in s["families"]:
        (xa, y), (xb, _) = pos[f["father"]], pos[f["mother"]]
        a, b = sorted((xa, xb))
        key = f"{f['father']}_{f['mother']}"
        els.append({"id": f"mate_{key}", "type": "lines", "paths": [[[a + R, y], [b - R, y]]]})
        xs = [pos[c][0] for c in f["children"]]
        bar = pos[f["children"][0]][1] - 48
        mid = (a + b) / 2
        els.append(
            {
                "id": f"sib_{key}",
                "type": "lines",
                "paths": [[[mid, y], [mid, bar]], [[min(xs + [mid]), bar], [max(xs + [mid]), bar]]],
            }
        )
    for p in s["people"]:
        x, y = pos[p["id"]]
        stem = pos[p["id"]][1] - 48 if p["id"] in parents else None
        els.append(
            {
                "id": f"p_{p['id']}",
                "type": "person",
                "x": x,
                "y": y,
                "r": R,
                "sex": p["sex"],
                "affected": p["affected"],
                "stem": stem,
            }
        )
        els.append(label(f"n_{p['id']}", x, y + R + 24, p["id"].split("-")[1], 18))
    els += [
        {
            "id": "key_m",
            "type": "person",
            "x": 600,
            "y": 500,
            "r": 11,
            "sex": "M",
            "affected": True,
            "stem": None,
        },
        {
            "id": "key_f",
            "type": "person",
            "x": 630,
            "y": 500,
            "r": 11,
            "sex": "F",
            "affected": True,
            "stem": None,
        },
        label("key_text", 652, 507, "affected", 17, "start"),
    ]
    return els


def _person_text(p: dict) -> tuple[str, str]:
    sex = ("male", "男性") if p["sex"] == "M" else ("female", "女性")
    st = ("affected", "患病") if p["affected"] else ("unaffected", "正常")
    return f"{p['id']} ({st[0]} {sex[0]})", f"{p['id']}（{st[1]}{sex[1]}）"


class Pedigree(Kind):
    name = "pedigree"
    subdomain = "genetics/pedigree"
    edits = ("toggle_affected", "add_child")

    def sample(self, rng):
        mode = pick(rng, MODES)
        for _ in range(20):
            s = build(rng, mode)
            n = sum(p["affected"] for p in s["people"])
            if 2 <= n <= len(s["people"]) - 2:
                return s
        raise NotApplicable("no pedigree with both affected and unaffected people")

    def draw(self, structures):
        pos = positions(union(structures))
        return [Figure({"canvas": [W, H], "elements": pedigree_elements(s, pos)}) for s in structures]

    def describe(self, s):
        people, _, _ = _index(s)
        aff = [p for p in s["people"] if p["affected"]]
        fams_en = "; ".join(
            f"{f['father']} and {f['mother']} have {', '.join(f['children'])}" for f in s["families"]
        )
        fams_zh = "；".join(
            f"{f['father']} 与 {f['mother']} 的子女为 {'、'.join(f['children'])}" for f in s["families"]
        )
        return Text2(
            f"A three-generation pedigree chart of a trait with {MODE_NAME[s['mode']][0]} inheritance (squares male, "
            "circles female, filled symbols affected; "
            f"generations I to III as rows, individuals numbered left to right): {fams_en}. "
            f"Affected: {', '.join(_person_text(p)[0] for p in aff)}.",
            f"某{MODE_NAME[s['mode']][1]}性状的三代系谱图（方形为男性，圆形为女性，涂黑为患者；"
            "I 到 III 代自上而下，每代个体从左到右编号）："
            f"{fams_zh}。患者：{'、'.join(_person_text(p)[1] for p in aff)}。",
        )

    def propose(self, rng, op, s):
        mode = s["mode"]
        if op == "toggle_affected":
            options = []
            for p in s["people"]:
                t = self.apply(s, {"op": op, "person": p["id"], "affected": not p["affected"]})
                if consistent(t, mode):
                    options.append(p["id"])
            pid = pick(rng, options)
            p = next(x for x in s["people"] if x["id"] == pid)
            return {"op": op, "person": pid, "affected": not p["affected"], "mode": mode}
        fam = s["families"][-1]  # the rightmost family of generation III: no one is renumbered
        if len(fam["children"]) >= 3:
            raise NotApplicable("that family is full")
        n = max(int(p["id"].split("-")[1]) for p in s["people"] if p["gen"] == 2) + 1
        sex = "M" if rng.random() < 0.5 else "F"
        options = []
        for aff in (False, True):
            e = {
                "op": op,
                "person": f"III-{n}",
                "sex": sex,
                "affected": aff,
                "father": fam["father"],
                "mother": fam["mother"],
                "mode": mode,
            }
            if consistent(self.apply(s, e), mode):
                options.append(e)
        return pick(rng, options)

    def apply(self, s, edit):
        if edit["op"] == "toggle_affected":
            people = [
                {**p, "affected": edit["affected"]} if p["id"] == edit["person"] else p for p in s["people"]
            ]
            return {**s, "people": people}
        child = {"id": edit["person"], "gen": 2, "sex": edit["sex"], "affected": edit["affected"]}
        fams = [
            {**f, "children": [*f["children"], edit["person"]]}
            if (f["father"], f["mother"]) == (edit["father"], edit["mother"])
            else f
            for f in s["families"]
        ]
        return {**s, "people": [*s["people"], child], "families": fams}

    def check(self, source, target, edit):
        a = {p["id"]: p for p in source["people"]}
        b = {p["id"]: p for p in target["people"]}
        diff = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        if diff != {edit["person"]}:
            return f"people {sorted(diff)} changed, the instruction names {edit['person']}"
        if b[edit["person"]]["affected"] != edit["affected"]:
            return "the person is not marked as the instruction says"
        if edit["op"] == "add_child":
            fam = next((f for f in target["families"] if edit["person"] in f["children"]), None)
            if fam is None or (fam["father"], fam["mother"]) != (edit["father"], edit["mother"]):
                return "the new child is not under the named parents"
            if b[edit["person"]]["sex"] != edit["sex"]:
                return "the new child's sex is not the named one"
        elif source["families"] != target["families"]:
            return "the families changed"
        if not consistent(target, edit["mode"]):
            return f"the edited pedigree no longer fits {MODE_NAME[edit['mode']][0]} inheritance"
        return None

    def instruct(self, edit):
        mode = MODE_NAME[edit["mode"]]
        if edit["op"] == "toggle_affected":
            st = ("affected", "患者（涂黑）") if edit["affected"] else ("unaffected", "正常（空心）")
            return Text2(
                f"Mark individual {edit['person']} as {st[0]}; the pedigree stays consistent with {mode[0]} inheritance.",
                f"把个体 {edit['person']} 标为{st[1]}；系谱仍符合{mode[1]}。",
            )
        who = ("son", "儿子") if edit["sex"] == "M" else ("daughter", "女儿")
        st = ("an affected", "患病的") if edit["affected"] else ("an unaffected", "正常的")
        return Text2(
            f"Add {st[0]} {who[0]} ({edit['person']}) to {edit['father']} and {edit['mother']}, at the right of their "
            f"children; the pedigree stays consistent with {mode[0]} inheritance.",
            f"为 {edit['father']} 和 {edit['mother']} 添加一个{st[1]}{who[1]}（{edit['person']}），画在其子女的最右侧；"
            f"系谱仍符合{mode[1]}。",
        )

    def ask(self, rng, s):
        case = carrier_case(s) if consistent(s, "ar") else None
        what = pick(rng, ["modes", "modes", "count"] + (["carrier"] if case else []))
        if what == "carrier":
            pid, p, cot = case
            return Question(
                Text2(
                    f"Assuming autosomal recessive inheritance, what is the probability that {pid} is a carrier (heterozygous)?",
                    f"假设为常染色体隐性遗传，{pid} 是携带者（杂合子）的概率是多少？",
                ),
                frac(p),
                cot,
            )
        if what == "count":
            aff = [p["id"] for p in s["people"] if p["affected"]]
            return Question(
                Text2("How many individuals in the pedigree are affected?", "系谱中有多少个患者？"),
                str(len(aff)),
                f"Filled symbols: {', '.join(aff)}.",
            )
        fit = [m for m in MODES if consistent(s, m)]
        cot = "; ".join(
            f"{MODE_NAME[m][0]}: {'fits' if m in fit else 'excluded, ' + witness(s, m)}" for m in MODES
        )
        return Question(
            Text2(
                "Which of these inheritance modes are consistent with the pedigree: autosomal dominant, autosomal "
                "recessive, X-linked recessive? Assume full penetrance and no new mutations.",
                "下列遗传方式中哪些与该系谱相符：常染色体显性遗传、常染色体隐性遗传、伴X染色体隐性遗传？"
                "假设完全外显且无新发突变。",
            ),
            ", ".join(MODE_NAME[m][0] for m in fit),
            cot + ".",
        )
