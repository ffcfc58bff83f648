"""``synth biology``: food webs, phylogenies, enzyme kinetics and population growth draw, every
edit verifies (nothing changes outside its mask), and the computed answers match known values
(UPGMA and neighbour joining on textbook matrices, trophic levels of a hand-made web, Km)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import squareform

from pipelines.biology.config import BiologyConfig
from pipelines.biology.kinds.food_web import FoodWeb, food_chains, starved, trophic_levels
from pipelines.biology.kinds.phylogeny import Phylogeny, clades, neighbour_joining, splits, upgma
from pipelines.biology.kinds.plots import EnzymeKinetics, PopulationGrowth, fastest, logistic, mm_rate
from pipelines.diagram.stages import build_stages
from synth.evaluate.locality import changed_outside
from synth.identity import sample_rng
from synth.imageio import decode_image
from synth.stage import run_stages

KINDS = {
    "food_web": FoodWeb(),
    "phylogeny": Phylogeny(),
    "enzyme_kinetics": EnzymeKinetics(),
    "population_growth": PopulationGrowth(),
}
CASES = [(k, op) for k, kind in KINDS.items() for op in kind.edits]


@pytest.fixture(scope="module")
def stages():
    built = build_stages(BiologyConfig(kinds=list(KINDS)), KINDS, "biology")
    for s in built:
        s.setup()
    return built


def _rows(stages, kind: str, task: str, op: str | None, seeds) -> list[dict]:
    draw, verify, decide = stages
    rows = []
    for i, seed in enumerate(seeds):
        row = {"seed": seed, "_index": i, "sample_id": str(i)}
        rows.append(draw.fill(row, sample_rng(seed), KINDS[kind], task, op))
    return run_stages([verify, decide], rows, 16)


@pytest.mark.parametrize(("kind", "op"), CASES)
def test_every_edit_verifies(stages, kind, op):
    for row in _rows(stages, kind, "edit", op, (11, 12)):
        assert row["status"] == "kept", (row.get("reason"), row.get("detail"))
        assert row["subdomain"] == f"biology/{kind}/{op}"
        source, target = (decode_image(row[k]["bytes"]) for k in ("source_image", "target_image"))
        mask = decode_image(row["aux_images"][0]["bytes"])[..., 0]
        assert changed_outside(source, target, mask) == 0 and (source != target).any()
        assert row["scores"]["label_ned_mean"] <= 0.25
        assert [v["language"] for v in row["instructions"]] == ["en", "zh"]
        assert all(v["text"] for v in row["instructions"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_text_to_image_and_questions(stages, kind):
    for row in _rows(stages, kind, "t2i", None, (21,)) + _rows(stages, kind, "und", None, (22, 23)):
        assert row["status"] == "kept", (row.get("reason"), row.get("detail"))
        assert row["instructions"][1]["text"]
        if row["task"] == "und":
            s = row["spec"]["structure"]
            assert row["response"] == row["spec"]["answer"]
            assert KINDS[kind].ask(sample_rng(0), s).answer


def test_draw_is_deterministic(stages):
    draw = stages[0]
    for name, kind in KINDS.items():
        a, b = (
            draw.fill({"seed": 5, "_index": 0}, sample_rng(5), kind, "edit", kind.edits[0]) for _ in range(2)
        )
        assert a["target_image"]["bytes"] == b["target_image"]["bytes"], name
        assert a["program"] == b["program"], name


def test_upgma_on_the_textbook_matrix():
    """Wikipedia's UPGMA example: ((((a,b):8.5, e):11, (c,d):14):16.5), as scipy's average linkage."""
    ids = ["a", "b", "c", "d", "e"]
    d = np.array(
        [
            [0, 17, 21, 31, 23],
            [17, 0, 30, 34, 21],
            [21, 30, 0, 28, 39],
            [31, 34, 28, 0, 43],
            [23, 21, 39, 43, 0],
        ]
    )
    got = clades(upgma(ids, d))
    assert got == {
        frozenset("ab"): 8.5,
        frozenset("abe"): 11.0,
        frozenset("cd"): 14.0,
        frozenset("abcde"): 16.5,
    }
    heights = sorted(linkage(squareform(d), method="average")[:, 2] / 2)
    assert heights == sorted(got.values())


def test_neighbour_joining_on_the_textbook_matrix():
    """Wikipedia's neighbour-joining example: splits {a,b} | {c,d,e} and {d,e} | {a,b,c}, branch
    lengths 2, 3, 3, 4, 2, 2, 1."""
    ids = ["a", "b", "c", "d", "e"]
    d = np.array([[0, 5, 9, 9, 8], [5, 0, 10, 10, 9], [9, 10, 0, 8, 7], [9, 10, 8, 0, 3], [8, 9, 7, 3, 0]])
    edges = neighbour_joining(ids, d)
    assert splits(edges, set(ids)) == {frozenset("cde"), frozenset("de")}
    assert sorted(round(w, 6) for _, _, w in edges) == [1, 2, 2, 2, 3, 3, 4]


def test_phylogeny_is_rebuilt_from_its_matrix():
    kind = KINDS["phylogeny"]
    for seed in range(8):
        s = kind.sample(sample_rng(seed))
        assert kind.verify([s], []) is None
        # the matrix is ultrametric: UPGMA's heights are half the distances of the joined pairs
        heights = sorted(linkage(squareform(np.array(s["matrix"])), method="average")[:, 2] / 2)
        assert heights == sorted(clades(s["tree"]).values())


def test_food_web_answers():
    species = ["grass", "rabbit", "grasshopper", "frog", "snake", "hawk"]
    links = [
        ["grass", "rabbit"],
        ["grass", "grasshopper"],
        ["grasshopper", "frog"],
        ["frog", "snake"],
        ["rabbit", "snake"],
        ["snake", "hawk"],
        ["rabbit", "hawk"],
    ]
    assert trophic_levels(species, links) == {
        "grass": 1,
        "rabbit": 2,
        "grasshopper": 2,
        "frog": 3,
        "snake": 4,
        "hawk": 5,
    }
    assert food_chains(species, links) == 3  # g-r-h, g-r-s-h, g-gh-f-s-h
    assert starved(species, links, "grasshopper") == ["frog"]
    assert starved(species, links, "frog") == []


def test_checks_catch_wrong_edits():
    web = KINDS["food_web"]
    s = web.sample(sample_rng(4))
    edit = web.propose(sample_rng(5), "add_link", s)
    other = next(x for x in s["links"] if x != [edit["prey"], edit["predator"]])
    wrong = {**web.apply(s, edit), "links": [x for x in web.apply(s, edit)["links"] if x != other]}
    assert "links differ" in web.check(s, wrong, edit)
    tree = KINDS["phylogeny"]
    p = tree.sample_for(sample_rng(2), "add_taxon")
    edit = tree.propose(sample_rng(3), "add_taxon", p)
    assert tree.check(p, tree.apply(p, edit), edit) is None
    assert "clades" in tree.check(p, tree.apply(p, {**edit, "height": edit["height"] + 1}), edit)
    growth = KINDS["population_growth"]
    g = growth.sample(sample_rng(1))
    edit = growth.propose(sample_rng(1), "change_k", g)
    assert growth.check(g, {**growth.apply(g, edit), "r": g["r"] * 2}, edit)


def test_plots_read_off():
    kind = KINDS["enzyme_kinetics"]
    s = kind.sample(sample_rng(9))
    spec = kind.draw([s])[0].spec
    curve = next(c for c in spec["curves"] if c["id"] == "curve")
    km_read = float(np.interp(s["vmax"] / 2, curve["ys"], curve["xs"]))  # [S] where v = Vmax/2
    assert abs(km_read - s["km"]) < 0.02 * s["smax"]
    assert next(x for x in spec["lines"] if x["id"] == "km_line")["xs"] == [s["km"], s["km"]]
    assert mm_rate(s["km"], s["vmax"], s["km"]) == s["vmax"] / 2
    inhibited = kind.apply(s, {"op": "add_competitive", "type": "competitive", "conc": 2.0, "ki": 1.0})
    both = kind.draw([s, inhibited])
    assert both[0].spec["xlim"] == both[1].spec["xlim"] and both[0].spec["ylim"] == both[1].spec["ylim"]
    k2 = next(c for c in both[1].spec["curves"] if c["id"] == "inhibited")
    assert abs(float(np.interp(s["vmax"] / 2, k2["ys"], k2["xs"])) - 3 * s["km"]) < 0.03 * s["smax"]
    t = fastest(500, 0.5, 10)
    assert abs(logistic(t, 500, 0.5, 10) - 250) < 1e-9 and abs(t - np.log(49) / 0.5) < 1e-12
