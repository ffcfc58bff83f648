"""The central dogma: a DNA coding strand, its template strand, the mRNA transcribed from it and
the protein translated by the standard codon table, one codon per box (a three-letter label reads
back far better than single letters).

A point mutation substitutes one base of the coding strand: the template base, the mRNA codon
and the amino acid follow; it is silent (same amino acid), missense (another one) or nonsense (a
stop codon, the chain ends there). ``propose`` classifies it by codons; ``check`` by comparing
the translated proteins.
"""

from __future__ import annotations

from typing import Any

from pipelines.diagram.kind import Kind, Question, Text2
from renderers.svg.biology import Figure, cell, label
from synth.sampling import pick

W, H = 768, 576

#: The standard genetic code, mRNA codon -> amino acid (three-letter), "Stop" for UAA, UAG, UGA.
CODONS: dict[str, str] = {
    "UUU": "Phe", "UUC": "Phe", "UUA": "Leu", "UUG": "Leu",
    "UCU": "Ser", "UCC": "Ser", "UCA": "Ser", "UCG": "Ser",
    "UAU": "Tyr", "UAC": "Tyr", "UAA": "Stop", "UAG": "Stop",
    "UGU": "Cys", "UGC": "Cys", "UGA": "Stop", "UGG": "Trp",
    "CUU": "Leu", "CUC": "Leu", "CUA": "Leu", "CUG": "Leu",
    "CCU": "Pro", "CCC": "Pro", "CCA": "Pro", "CCG": "Pro",
    "CAU": "His", "CAC": "His", "CAA": "Gln", "CAG": "Gln",
    "CGU": "Arg", "CGC": "Arg", "CGA": "Arg", "CGG": "Arg",
    "AUU": "Ile", "AUC": "Ile", "AUA": "Ile", "AUG": "Met",
    "ACU": "Thr", "ACC": "Thr", "ACA": "Thr", "ACG": "Thr",
    "AAU": "Asn", "AAC": "Asn", "AAA": "Lys", "AAG": "Lys",
    "AGU": "Ser", "AGC": "Ser", "AGA": "Arg", "AGG": "Arg",
    "GUU": "Val", "GUC": "Val", "GUA": "Val", "GUG": "Val",
    "GCU": "Ala", "GCC": "Ala", "GCA": "Ala", "GCG": "Ala",
    "GAU": "Asp", "GAC": "Asp", "GAA": "Glu", "GAG": "Glu",
    "GGU": "Gly", "GGC": "Gly", "GGA": "Gly", "GGG": "Gly",
}  # fmt: skip
AA_ZH = {
    "Ala": "丙氨酸", "Arg": "精氨酸", "Asn": "天冬酰胺", "Asp": "天冬氨酸", "Cys": "半胱氨酸",
    "Gln": "谷氨酰胺", "Glu": "谷氨酸", "Gly": "甘氨酸", "His": "组氨酸", "Ile": "异亮氨酸",
    "Leu": "亮氨酸", "Lys": "赖氨酸", "Met": "甲硫氨酸", "Phe": "苯丙氨酸", "Pro": "脯氨酸",
    "Ser": "丝氨酸", "Thr": "苏氨酸", "Trp": "色氨酸", "Tyr": "酪氨酸", "Val": "缬氨酸", "Stop": "终止",
}  # fmt: skip
PAIR = {"A": "T", "T": "A", "G": "C", "C": "G"}
SENSE = sorted(c for c, a in CODONS.items() if a != "Stop")
STOPS = sorted(c for c, a in CODONS.items() if a == "Stop")
KIND_NAME = {
    "silent": ("silent", "同义突变"),
    "missense": ("missense", "错义突变"),
    "nonsense": ("nonsense", "无义突变"),
}
ROW_NAME = {
    "coding": ("coding DNA", "编码链"),
    "template": ("template DNA", "模板链"),
    "mrna": ("mRNA", "mRNA"),
    "protein": ("protein", "多肽链"),
}


def codons(seq: str) -> list[str]:
    return [seq[i : i + 3] for i in range(0, len(seq) - len(seq) % 3, 3)]


def template(coding: str) -> str:
    """The template strand, base-paired with the coding strand (written 3' -> 5')."""
    return "".join(PAIR[b] for b in coding)


def transcribe(coding: str) -> str:
    """mRNA (5' -> 3'): the template's complement, i.e. the coding strand with U for T."""
    return "".join({"A": "U", "T": "A", "G": "C", "C": "G"}[b] for b in template(coding))


def translate(mrna: str) -> list[str]:
    """Amino acids from the first codon until a stop codon (the stop not included)."""
    out = []
    for c in codons(mrna):
        aa = CODONS[c]
        if aa == "Stop":
            break
        out.append(aa)
    return out


def classify(old: str, new: str) -> str:
    """A substitution by its codon's meaning: silent, missense or nonsense."""
    a, b = CODONS[old], CODONS[new]
    return "silent" if a == b else "nonsense" if b == "Stop" else "missense"


def mutate(coding: str, pos: int, base: str) -> str:
    return coding[:pos] + base + coding[pos + 1 :]


def spaced(seq: str) -> str:
    return " ".join(codons(seq))


class CentralDogma(Kind):
    name = "central_dogma"
    subdomain = "molecular/central_dogma"
    edits = ("point_mutation",)

    def sample(self, rng) -> dict[str, Any]:
        n = int(rng.integers(5, 8))
        stop = rng.random() < 0.6
        body = [pick(rng, SENSE) for _ in range(n - 1 - int(stop))]
        mrna = "AUG" + "".join(body) + (pick(rng, STOPS) if stop else "")
        coding = mrna.replace("U", "T")
        r = rng.random()
        rows = ["coding", "template", "mrna", "protein"]
        if r > 0.75:
            rows = ["template"]
        elif r > 0.5:
            rows = ["coding", "template", "mrna"]
        return {"kind": self.name, "coding": coding, "rows": rows}

    def sample_for(self, rng, op):
        s = self.sample(rng)
        return {**s, "rows": ["coding", "template", "mrna", "protein"]} if op else s

    # -- drawing ------------------------------------------------------------------------------

    def layout(self, s: dict[str, Any]) -> list[dict]:
        coding = s["coding"]
        n = len(coding) // 3
        x0, gap = 190, 8
        w = min(80, (W - 60 - x0) / n - gap)
        h = 46
        ys = {"coding": 80, "template": 150, "mrna": 290, "protein": 430}
        rows = {
            "coding": (codons(coding), "5'", "3'"),
            "template": (codons(template(coding)), "3'", "5'"),
            "mrna": (codons(transcribe(coding)), "5'", "3'"),
        }
        protein = translate(transcribe(coding))
        els = []
        if "coding" in s["rows"]:
            els += [
                label(f"num{k}", x0 + k * (w + gap) + w / 2, ys["coding"] - 12, str(k + 1), 15)
                for k in range(n)
            ]
        for row in s["rows"]:
            y = ys[row]
            els.append(label(f"name_{row}", 20, y + h / 2 + 7, ROW_NAME[row][0], 19, "start"))
            if row == "protein":
                for k, c in enumerate(codons(transcribe(coding))):
                    aa = CODONS[c]
                    if k > len(protein):
                        break
                    fill, stroke = ("#f5b7b1", "#922b21") if aa == "Stop" else ("#d5f5e3", "#1e8449")
                    els.append(
                        cell(
                            f"aa{k}",
                            x0 + k * (w + gap),
                            y,
                            w,
                            h,
                            aa,
                            size=20,
                            fill=fill,
                            stroke=stroke,
                            rx=22,
                        )
                    )
                for k in range(min(len(protein), n) - 1):  # peptide bonds between neighbours
                    xa = x0 + k * (w + gap) + w
                    els.append(
                        {
                            "id": f"bond{k}",
                            "type": "lines",
                            "paths": [[[xa, y + h / 2], [xa + gap, y + h / 2]]],
                        }
                    )
                continue
            seqs, left, right = rows[row]
            fill = {"coding": "#d6eaf8", "template": "#ebdef0", "mrna": "#fdebd0"}[row]
            for k, c in enumerate(seqs):
                els.append(cell(f"{row}{k}", x0 + k * (w + gap), y, w, h, c, size=22, fill=fill))
            els.append(label(f"{row}_5", x0 - 8, y + h / 2 + 7, left, 17, "end"))
            els.append(label(f"{row}_3", x0 + n * (w + gap), y + h / 2 + 7, right, 17, "start"))
        mx = x0 - 60
        for above, below, key, word in (("template", "mrna", "tx", "transcription"),
                                        ("mrna", "protein", "tl", "translation")):  # fmt: skip
            if below in s["rows"]:
                y1, y2 = ys[above] + h + 14, ys[below] - 14
                els.append({"id": f"{key}_arrow", "type": "arrow", "x1": mx, "y1": y1, "x2": mx, "y2": y2})
                els.append(
                    label(f"{key}_label", mx + 16, (ys[above] + h + ys[below]) / 2 + 6, word, 18, "start")
                )
        return els

    def draw(self, structures):
        return [Figure({"canvas": [W, H], "elements": self.layout(s)}) for s in structures]

    # -- texts --------------------------------------------------------------------------------

    def describe(self, s):
        coding = s["coding"]
        parts_en, parts_zh = [], []
        if "coding" in s["rows"]:
            parts_en.append(f"the coding strand 5'-{spaced(coding)}-3'")
            parts_zh.append(f"编码链 5'-{spaced(coding)}-3'")
        if "template" in s["rows"]:
            parts_en.append(f"the template strand 3'-{spaced(template(coding))}-5'")
            parts_zh.append(f"模板链 3'-{spaced(template(coding))}-5'")
        if "mrna" in s["rows"]:
            parts_en.append(f"transcribed into mRNA 5'-{spaced(transcribe(coding))}-3'")
            parts_zh.append(f"转录得到 mRNA 5'-{spaced(transcribe(coding))}-3'")
        if "protein" in s["rows"]:
            p = translate(transcribe(coding))
            stop = len(p) < len(coding) // 3
            parts_en.append("translated into " + "-".join(p) + (" ending at the stop codon" if stop else ""))
            parts_zh.append("翻译成 " + "-".join(p) + ("，至终止密码子结束" if stop else ""))
        return Text2(
            "A central-dogma diagram, one codon per box with codons numbered: " + ", ".join(parts_en) + ".",
            "中心法则示意图，每个方框一个密码子并编号：" + "，".join(parts_zh) + "。",
        )

    def _mutations(self, coding: str) -> list[tuple[int, str, str]]:
        """(position, new base, kind) of every substitution outside the start and stop codons."""
        n = len(coding) // 3
        last = n - 1 if CODONS[codons(transcribe(coding))[-1]] == "Stop" else n
        out = []
        for pos in range(3, 3 * last):
            k = pos // 3
            for b in "ACGT":
                if b != coding[pos]:
                    new = mutate(coding, pos, b)
                    old_c, new_c = codons(transcribe(coding))[k], codons(transcribe(new))[k]
                    out.append((pos, b, classify(old_c, new_c)))
        return out

    def propose(self, rng, op, s):
        coding = s["coding"]
        options = self._mutations(coding)
        kind = pick(rng, sorted({k for *_, k in options}))
        pos, base, kind = pick(rng, [m for m in options if m[2] == kind])
        k = pos // 3
        old = CODONS[codons(transcribe(coding))[k]]
        new = CODONS[codons(transcribe(mutate(coding, pos, base)))[k]]
        return {
            "op": op,
            "position": pos,
            "old": coding[pos],
            "base": base,
            "kind": kind,
            "aa_old": old,
            "aa_new": new,
        }

    def apply(self, s, edit):
        return {**s, "coding": mutate(s["coding"], edit["position"], edit["base"])}

    def check(self, source, target, edit):
        a, b = source["coding"], target["coding"]
        if len(a) != len(b) or source["rows"] != target["rows"]:
            return "more than one base changed"
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if diff != [edit["position"]] or b[edit["position"]] != edit["base"]:
            return (
                f"bases {diff} changed, the instruction names base {edit['position'] + 1} -> {edit['base']}"
            )
        pa, pb = translate(transcribe(a)), translate(transcribe(b))
        if pa == pb:
            kind = "silent"
        elif len(pb) < len(pa) and pb == pa[: len(pb)]:
            kind = "nonsense"
        elif len(pa) == len(pb) and sum(x != y for x, y in zip(pa, pb, strict=True)) == 1:
            kind = "missense"
        else:
            kind = "other"
        if kind != edit["kind"]:
            return f"the proteins show a {kind} change, the instruction says {edit['kind']}"
        return None

    def instruct(self, edit):
        pos = edit["position"]
        k, i = pos // 3 + 1, pos % 3 + 1
        kind = KIND_NAME[edit["kind"]]
        if edit["kind"] == "silent":
            effect = (f"still {edit['aa_old']}", f"仍为{AA_ZH[edit['aa_old']]}（{edit['aa_old']}）")
        elif edit["kind"] == "nonsense":
            effect = (
                f"{edit['aa_old']} becomes a stop codon and the chain ends there",
                f"{AA_ZH[edit['aa_old']]}的密码子变为终止密码子，肽链在此终止",
            )
        else:
            effect = (
                f"{edit['aa_old']} -> {edit['aa_new']}",
                f"{AA_ZH[edit['aa_old']]}（{edit['aa_old']}）变为{AA_ZH[edit['aa_new']]}（{edit['aa_new']}）",
            )
        return Text2(
            f"Apply a point mutation: in codon {k} of the coding strand, change base {i} from {edit['old']} to "
            f"{edit['base']}, and update the template strand, the mRNA and the protein ({kind[0]} mutation: {effect[0]}).",
            f"发生点突变：把编码链第 {k} 个密码子的第 {i} 个碱基由 {edit['old']} 改为 {edit['base']}，"
            f"并相应更新模板链、mRNA 和多肽链（{kind[1]}：{effect[1]}）。",
        )

    def ask(self, rng, s):
        coding = s["coding"]
        mrna = transcribe(coding)
        protein = translate(mrna)
        if "mrna" not in s["rows"] and rng.random() < 0.5:
            return Question(
                Text2(
                    "What mRNA sequence (5'->3') is transcribed from the DNA shown? Write it codon by codon.",
                    "由图中 DNA 转录出的 mRNA 序列（5'→3'）是什么？请按密码子分组写出。",
                ),
                spaced(mrna),
                f"The template 3'-{spaced(template(coding))}-5' pairs A-U, T-A, G-C, C-G, giving 5'-{spaced(mrna)}-3'.",
            )
        if "protein" not in s["rows"]:
            stop = next((k + 1 for k, c in enumerate(codons(mrna)) if CODONS[c] == "Stop"), None)
            return Question(
                Text2(
                    "Which amino acid sequence is translated from this gene fragment (standard codon table, three-letter codes)?",
                    "按标准密码子表，该基因片段翻译出的氨基酸序列是什么（用三字母缩写）？",
                ),
                "-".join(protein),
                f"mRNA 5'-{spaced(mrna)}-3': "
                + ", ".join(f"{c}={CODONS[c]}" for c in codons(mrna)[: len(protein) + (1 if stop else 0)])
                + (f"; codon {stop} is a stop codon." if stop else "."),
            )
        pos, base, kind = pick(rng, self._mutations(coding))
        k, i = pos // 3, pos % 3 + 1
        old_c, new_c = codons(mrna)[k], codons(transcribe(mutate(coding, pos, base)))[k]
        return Question(
            Text2(
                f"If base {i} of codon {k + 1} on the coding strand changed from {coding[pos]} to {base}, what kind of "
                "point mutation would it be: silent, missense or nonsense?",
                f"如果编码链第 {k + 1} 个密码子的第 {i} 个碱基由 {coding[pos]} 变为 {base}，"
                "这属于哪种点突变：同义突变、错义突变还是无义突变？",
            ),
            kind,
            f"The mRNA codon {old_c} ({CODONS[old_c]}) becomes {new_c} ({CODONS[new_c]}), so it is {kind}.",
        )
