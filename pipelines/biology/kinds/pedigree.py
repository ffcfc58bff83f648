"""Pedigree charts. A pedigree is sampled forward from its founders under one inheritance mode, so
its phenotypes fit that mode; which modes a drawn pedigree fits is decided exactly, by searching
genotype assignments family by family."""

from __future__ import annotations

from fractions import Fraction

from pipelines.biology.kinds.punnett import frac
from pipelines.diagram.kind import Kind, Question, Text2
from renderers.diagrams.graph import OutOfFrame
from renderers.svg.biology import Figure, label
from synth.sampling import NotApplicable, pick

W, H = 768, 576  # canvas of every genetics figure (user units = output pixels)

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
