"""Punnett squares (mono- and dihybrid crosses). The cells are the parents' gametes combined; the
ratios are computed twice, by multiplying per-gene Mendelian probabilities (what questions and
instructions state) and by counting the drawn cells (what ``check`` compares against)."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from functools import reduce
from itertools import product
from math import gcd, lcm
from typing import Any

from pipelines.diagram.kind import Kind, Question, Text2
from renderers.svg.biology import Figure, cell, label
from synth.sampling import NotApplicable, pick

W, H = 768, 576  # canvas of every genetics figure (user units = output pixels)

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
