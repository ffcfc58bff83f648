"""``synth chemistry``: every kind draws through the shared diagram stages, every edit verifies with
no pixel changed outside its mask, answers are RDKit's, every bundled SMILES parses."""

from __future__ import annotations

import pytest
from rdkit import Chem

from pipelines.chemistry.config import ChemistryConfig
from pipelines.chemistry.kinds import KINDS
from pipelines.chemistry.kinds.reaction import run
from pipelines.chemistry.molecules import NAMED
from pipelines.chemistry.stages import build_stages
from renderers.svg.safe import SvgRenderer
from synth.evaluate.locality import changed_outside
from synth.identity import sample_rng
from synth.imageio import decode_image
from synth.stage import run_stages

MOLECULE = KINDS["molecule"]


@pytest.fixture(scope="module")
def stages():
    built = build_stages(ChemistryConfig())
    for s in built:
        s.setup()
    return built


def _rows(stages, kind: str, task: str, op: str | None, n: int, start: int = 1000) -> list[dict]:
    draw, verify, decide = stages
    rows = []
    for i in range(n):
        row = {"seed": start + i, "_index": i, "sample_id": str(i)}
        rows.append(draw.fill(row, sample_rng(row["seed"]), KINDS[kind], task, op))
    return run_stages([verify, decide], rows, 16)


@pytest.mark.parametrize("op", MOLECULE.edits)
def test_every_edit_verifies(stages, op):
    rows = _rows(stages, "molecule", "edit", op, 6)
    kept = [r for r in rows if r["status"] == "kept"]
    assert len(kept) >= 5, [(r.get("reason"), r.get("detail")) for r in rows if r["status"] != "kept"]
    for row in kept:
        source = decode_image(row["source_image"]["bytes"])
        target = decode_image(row["target_image"]["bytes"])
        mask = decode_image(row["aux_images"][0]["bytes"])[..., 0]
        assert changed_outside(source, target, mask) == 0
        assert (source != target).any() and mask.any() and (mask > 0).mean() < 0.3
        assert row["subdomain"] == f"chemistry/molecule/{op}"
        assert row["instructions"][1]["language"] == "zh"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_text_to_image_and_questions(stages, kind):
    rows = _rows(stages, kind, "t2i", None, 6) + _rows(stages, kind, "und", None, 6)
    kept = [r for r in rows if r["status"] == "kept"]
    assert len(kept) >= 10, [(r.get("reason"), r.get("detail")) for r in rows if r["status"] != "kept"]
    for row in kept:
        assert row["width"] == 768 and row["height"] == 512
        if row["task"] == "und":
            assert row["response"] and row["spec"]["answer"] == row["response"]
        else:
            assert row["instruction"] and row["target_image"]["bytes"]


def test_answers_are_computed():
    ethanol = MOLECULE.structure("CCO")
    answers = {MOLECULE.ask(sample_rng(i), ethanol).answer for i in range(60)}
    assert "C2H6O" in answers and "46.07 g/mol" in answers
    benzene = MOLECULE.structure("c1ccccc1")
    q = [MOLECULE.ask(sample_rng(i), benzene) for i in range(60)]
    assert any("aromatic rings" in x.text.en and x.answer == "1" for x in q)
    assert run("esterification", ["CC(=O)O", "CCO"]) == Chem.MolToSmiles(Chem.MolFromSmiles("CCOC(C)=O"))
    assert run("hydrogenation", ["C=C"]) == "CC"


def test_bundled_smiles_parse():
    assert len(NAMED) > 150
    for m in NAMED:
        assert Chem.MolFromSmiles(m.smiles) is not None, m
        assert m.en and m.zh


def test_checks_catch_wrong_edits():
    s = MOLECULE.structure("Clc1ccc(O)cc1")
    edit = MOLECULE.propose(sample_rng(0), "replace_substituent", s)
    wrong = MOLECULE.structure("Clc1ccc(N)cc1") if edit["from"] == "Cl" else MOLECULE.structure("Clc1ccccc1")
    assert MOLECULE.check(s, wrong, edit) is not None
    assert MOLECULE.check(s, MOLECULE.apply(s, edit), edit) is None
    alanine = MOLECULE.structure("C[C@H](N)C(=O)O")
    inv = {"op": "invert_stereocentre", "aid": 2, "from": "S", "to": "R"}
    assert MOLECULE.check(alanine, alanine, inv) is not None
    assert MOLECULE.check(alanine, MOLECULE.apply(alanine, inv), inv) is None


def test_pinned_layout_changes_only_the_edited_atom():
    s = MOLECULE.structure("OC(=O)c1ccc(Cl)cc1N")
    edit = {"op": "replace_substituent", "aid": 8, "from": "Cl", "to": "Br"}
    a, b = MOLECULE.draw([s, MOLECULE.apply(s, edit)])
    ea, eb = a.elements(), b.elements()
    assert {k for k in ea if ea[k] != eb.get(k)} == {"a8", "b7-8"}
    SvgRenderer().rgb(a.svg(), 768, 512)  # our renderer parses it


def test_draw_is_deterministic(stages):
    a = _rows(stages, "molecule", "edit", "add_group", 2)
    b = _rows(stages, "molecule", "edit", "add_group", 2)
    assert [r["target_image"]["bytes"] for r in a] == [r["target_image"]["bytes"] for r in b]
    c = _rows(stages, "reaction", "t2i", None, 1)
    d = _rows(stages, "reaction", "t2i", None, 1)
    assert c[0]["program"] == d[0]["program"]
