"""``synth biology``: Punnett squares, pedigrees and the central dogma through the diagram stages
(kept rows, edits local to their mask, computed answers against known values, determinism)."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import pytest

from pipelines.biology.config import BiologyConfig
from pipelines.biology.kinds import molecular as M
from pipelines.biology.kinds import pedigree as PD
from pipelines.biology.kinds import punnett as PN
from pipelines.diagram.stages import build_stages
from synth.evaluate.locality import changed_outside
from synth.identity import sample_rng
from synth.imageio import decode_image
from synth.stage import run_stages

KINDS = {"punnett": PN.Punnett(), "pedigree": PD.Pedigree(), "central_dogma": M.CentralDogma()}
SEEDS = 5  # per kind and task or edit: 15 to 20 rows per kind


@pytest.fixture(scope="module")
def stages():
    built = build_stages(BiologyConfig(kinds=list(KINDS)), KINDS, "biology")
    for s in built:
        s.setup()
    return built


def _rows(stages, kind: str, task: str, op: str | None, n: int, base: int = 1000) -> list[dict]:
    draw, verify, decide = stages
    rows = []
    for i in range(n):
        row = {"seed": base + i, "_index": i, "sample_id": str(i)}
        rows.append(draw.fill(row, sample_rng(row["seed"]), KINDS[kind], task, op))
    return run_stages([verify, decide], rows, 16)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_task_and_edit_is_kept(stages, kind):
    k = KINDS[kind]
    rows = []
    for task, op in [("t2i", None), ("und", None)] + [("edit", op) for op in k.edits]:
        got = _rows(stages, kind, task, op, SEEDS)
        rows += got
        for row in got:
            if row["status"] != "kept":
                continue
            assert row["width"] == 768 and row["height"] == 576
            if task == "edit":
                assert row["subdomain"].endswith(f"/{op}")
                source = decode_image(row["source_image"]["bytes"])
                target = decode_image(row["target_image"]["bytes"])
                mask = decode_image(row["aux_images"][0]["bytes"])[..., 0]
                assert changed_outside(source, target, mask) == 0 and (source != target).any()
                assert [i["language"] for i in row["instructions"]] == ["en", "zh"]
            elif task == "und":
                assert row["response"] and row["spec"]["answer"] == row["response"]
            else:
                assert row["instruction"] and row["target_image"]["bytes"]
    kept = sum(r["status"] == "kept" for r in rows)
    assert kept >= 0.95 * len(rows), [
        (r.get("reason"), r.get("detail")) for r in rows if r["status"] != "kept"
    ]


def test_draw_is_deterministic(stages):
    for kind, op in [
        ("punnett", "change_parent"),
        ("pedigree", "add_child"),
        ("central_dogma", "point_mutation"),
    ]:
        a, b = _rows(stages, kind, "edit", op, 1, 77), _rows(stages, kind, "edit", op, 1, 77)
        assert a[0]["program"] == b[0]["program"]
        assert a[0]["target_image"]["bytes"] == b[0]["target_image"]["bytes"]


# -- Punnett squares ----------------------------------------------------------------------------

PEA2 = [PN._gene("A", False, PN.PEA[0]), PN._gene("B", False, PN.PEA[1])]


def test_dihybrid_is_9_3_3_1():
    ratio = PN.pheno_ratio(PEA2, "AaBb", "AaBb")
    assert [k for _, k in ratio] == [9, 3, 3, 1]
    assert (
        PN.ratio_text(PEA2, ratio) == "9 yellow round : 3 yellow wrinkled : 3 green round : 1 green wrinkled"
    )
    assert [k for _, k in PN.count_ratio(PEA2, PN.grid("AaBb", "AaBb"))] == [9, 3, 3, 1]
    assert PN.gametes("AaBb") == ["AB", "Ab", "aB", "ab"]
    assert PN.genotype_probs("AaBb", "AaBb")["AaBb"] == Fraction(1, 4)
    assert [k for _, k in PN.pheno_ratio(PEA2, "AaBb", "aabb")] == [1, 1, 1, 1]  # the test cross


def test_monohybrid_ratios():
    genes = PEA2[:1]
    assert [k for _, k in PN.pheno_ratio(genes, "Aa", "Aa")] == [3, 1]
    probs = PN.genotype_probs("Aa", "Aa")
    assert PN.as_ratio([probs[g] for g in ("AA", "Aa", "aa")]) == [1, 2, 1]
    assert PN.grid("Aa", "Aa") == [["AA", "Aa"], ["Aa", "aa"]]
    snap = [PN._gene("R", True, PN.SNAPDRAGON)]  # incomplete dominance: 1 red : 2 pink : 1 white
    assert PN.ratio_text(snap, PN.pheno_ratio(snap, "Rr", "Rr")) == "1 red : 2 pink : 1 white"


def test_punnett_check_catches_a_wrong_grid():
    k = KINDS["punnett"]
    s = k.sample(sample_rng(2))
    edit = k.propose(sample_rng(3), "change_parent", s)
    t = k.apply(s, edit)
    assert k.check(s, t, edit) is None
    assert "ratio" in k.check(s, t, {**edit, "ratio": [[[0] * len(s["genes"]), 1]]})
    stale = {**t, "cells": s["cells"]}  # the parent changed but the cells did not follow
    if stale["cells"] != t["cells"]:
        assert k.check(s, stale, edit) is not None


# -- pedigrees ----------------------------------------------------------------------------------


def _brute(s: dict, mode: str) -> bool:
    """Every genotype assignment tried: the reference for :func:`genetics.consistent`."""
    people = s["people"]
    options = [
        [g for g in PD.genotypes(mode, p["sex"]) if PD.is_affected(mode, p["sex"], g) == p["affected"]]
        for p in people
    ]
    idx = {p["id"]: i for i, p in enumerate(people)}
    for assign in product(*options):
        if all(
            assign[idx[c]]
            in PD.child_genotypes(
                mode, assign[idx[f["father"]]], assign[idx[f["mother"]]], people[idx[c]]["sex"]
            )
            for f in s["families"]
            for c in f["children"]
        ):
            return True
    return False


def _family(father: bool, mother: bool, kids: list[tuple[str, bool]]) -> dict:
    people = [
        {"id": "I-1", "gen": 0, "sex": "M", "affected": father},
        {"id": "I-2", "gen": 0, "sex": "F", "affected": mother},
    ] + [{"id": f"II-{i + 1}", "gen": 1, "sex": sex, "affected": a} for i, (sex, a) in enumerate(kids)]
    return {
        "people": people,
        "families": [{"father": "I-1", "mother": "I-2", "children": [p["id"] for p in people[2:]]}],
    }


def test_pedigree_modes_known_cases():
    skipped = _family(False, False, [("F", True), ("M", False)])  # unaffected parents, affected daughter
    assert [m for m in PD.MODES if PD.consistent(skipped, m)] == ["ar"]
    both = _family(True, True, [("M", False)])  # affected parents, unaffected son
    assert [m for m in PD.MODES if PD.consistent(both, m)] == ["ad"]
    assert PD.carrier_case(_family(False, False, [("M", True), ("F", False)]))[1] == Fraction(2, 3)


def test_sampled_pedigrees_fit_their_mode():
    k = KINDS["pedigree"]
    for seed in range(40):
        s = k.sample(sample_rng(seed))
        assert PD.consistent(s, s["mode"])
        if len(s["people"]) <= 12:
            assert all(PD.consistent(s, m) == _brute(s, m) for m in PD.MODES)
        if seed < 10:
            edit = k.propose(sample_rng(seed + 100), "toggle_affected", s)
            assert PD.consistent(k.apply(s, edit), s["mode"])


# -- the central dogma --------------------------------------------------------------------------


def test_codon_table_and_translation():
    assert len(M.CODONS) == 64 and sum(a == "Stop" for a in M.CODONS.values()) == 3
    assert len(set(M.CODONS.values())) == 21  # 20 amino acids and stop
    coding = "ATGGCCAAGTTTGGCTGGTAAGCC"  # a stop codon ends translation
    assert M.template(coding).startswith("TACCGG")
    mrna = M.transcribe(coding)
    assert mrna == "AUGGCCAAGUUUGGCUGGUAAGCC"
    assert M.translate(mrna) == ["Met", "Ala", "Lys", "Phe", "Gly", "Trp"]
    assert M.classify("GCC", "GCA") == "silent" and M.classify("UGG", "UGA") == "nonsense"
    assert M.classify("AAG", "GAG") == "missense"


def test_point_mutation_check():
    k = KINDS["central_dogma"]
    s = {"kind": "central_dogma", "coding": "ATGGCCTGGAAG", "rows": ["coding", "template", "mrna", "protein"]}
    edit = {
        "op": "point_mutation",
        "position": 8,
        "old": "G",
        "base": "A",
        "kind": "nonsense",
        "aa_old": "Trp",
        "aa_new": "Stop",
    }
    t = k.apply(s, edit)
    assert M.translate(M.transcribe(t["coding"])) == ["Met", "Ala"] and k.check(s, t, edit) is None
    assert "missense" in k.check(s, t, {**edit, "kind": "missense"})
    assert k.check(s, {**t, "coding": "ATGGCATGAAAG"}, edit) is not None  # two bases changed
