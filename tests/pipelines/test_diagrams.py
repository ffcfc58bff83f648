"""The diagram domains (``cs-diagram``, ``physics``): every kind draws, every edit verifies, every
answer is computed; the structural checks catch wrong edits; the CLI runs end to end."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipelines.cs_diagram.config import CsDiagramConfig
from pipelines.cs_diagram.kinds import KINDS as CS_KINDS
from pipelines.diagram.stages import build_stages
from pipelines.physics.config import PhysicsConfig
from pipelines.physics.kinds import KINDS as PHYSICS_KINDS
from synth.cli.main import cli
from synth.evaluate.locality import changed_outside
from synth.identity import sample_rng
from synth.imageio import decode_image
from synth.stage import run_stages
from tests.cli_runner import invoke

DOMAINS = {"cs": (CsDiagramConfig, CS_KINDS), "physics": (PhysicsConfig, PHYSICS_KINDS)}
CASES = [(d, k, op) for d, (_, kinds) in DOMAINS.items() for k, kind in kinds.items() for op in kind.edits]


@pytest.fixture(scope="module")
def stages():
    out = {}
    for domain, (config, kinds) in DOMAINS.items():
        built = build_stages(config(), kinds, domain)
        for s in built:
            s.setup()
        out[domain] = built
    return out


def _rows(stages, domain: str, kind: str, task: str, op: str | None, n: int) -> list[dict]:
    draw, verify, decide = stages[domain]
    kinds = DOMAINS[domain][1]
    rows = []
    for i in range(n):
        row = {"seed": 1000 + i, "_index": i, "sample_id": str(i)}
        rows.append(draw.fill(row, sample_rng(row["seed"]), kinds[kind], task, op))
    return run_stages([verify, decide], rows, 16)


@pytest.mark.parametrize(("domain", "kind", "op"), CASES)
def test_every_edit_verifies(stages, domain, kind, op):
    rows = _rows(stages, domain, kind, "edit", op, 2)
    for row in rows:
        assert row["status"] == "kept", (row.get("reason"), row.get("detail"))
        assert row["task"] == "edit" and row["subdomain"].endswith(f"/{op}")
        source, target = (
            decode_image(row["source_image"]["bytes"]),
            decode_image(row["target_image"]["bytes"]),
        )
        mask = decode_image(row["aux_images"][0]["bytes"])[..., 0]
        assert changed_outside(source, target, mask) == 0  # only the edited elements moved
        assert (source != target).any() and mask.any()
        assert row["instructions"][0]["language"] == "en" and row["instructions"][1]["language"] == "zh"
        spec = row["spec"]
        assert spec["edit"]["op"] == op and spec["source"] != spec["target"]


@pytest.mark.parametrize(("domain", "kind"), [(d, k) for d, (_, kinds) in DOMAINS.items() for k in kinds])
def test_text_to_image_and_questions(stages, domain, kind):
    t2i = _rows(stages, domain, kind, "t2i", None, 2)
    und = _rows(stages, domain, kind, "und", None, 2)
    for row in t2i + und:
        assert row["status"] == "kept", (row.get("reason"), row.get("detail"))
    for row in t2i:
        assert row["target_image"]["bytes"] and row["instruction"] and row.get("source_image") is None
    for row in und:
        assert row["response"] and row["source_image"]["bytes"] and row.get("target_image") is None
        # The answer is recomputed from the stored structure by the kind itself.
        k = DOMAINS[domain][1][kind]
        assert row["spec"]["answer"] == row["response"]
        assert k.ask(sample_rng(0), row["spec"]["structure"]).answer is not None


def test_checks_catch_wrong_edits():
    bst = CS_KINDS["bst"]
    s = bst.sample(sample_rng(3))
    keys = sorted(int(k) for k in (set(s["left"]) | set(s["right"]) | {s["root"]}))
    edit = {"op": "insert", "key": next(k for k in range(1, 100) if k not in keys)}
    wrong = bst.apply(s, {"op": "insert", "key": next(k for k in range(99, 0, -1) if k not in keys)})
    assert "keys" in bst.check(s, wrong, edit)
    heap = CS_KINDS["heap"]
    h = {"kind": "heap", "array": [1, 3, 2, 7]}
    assert "heap property" in heap.check(
        h, {"kind": "heap", "array": [9, 3, 2, 7, 1]}, {"op": "push", "value": 9}
    )
    circuit = PHYSICS_KINDS["series_circuit"]
    c = circuit.sample(sample_rng(5))
    edit = circuit.propose(sample_rng(6), "change_value", c)
    other = next(
        x for x in c["components"] if x["type"] in ("resistor", "bulb") and x["id"] != edit["component"]
    )
    tampered = {
        **c,
        "components": [
            {**x, "value": x["value"] + 1} if x["id"] == other["id"] else x
            for x in circuit.apply(c, edit)["components"]
        ],
    }
    assert "changed" in circuit.check(c, tampered, edit)
    incline = PHYSICS_KINDS["incline"]
    m = incline.sample(sample_rng(1))
    assert "does not mention" in incline.check(
        m, {**m, "angle": m["angle"] + 5}, {"op": "change_value", "set": {"mass": m["mass"]}}
    )


def test_structures_and_answers():
    from pipelines.cs_diagram import structures as S

    t = S.bst_from([50, 30, 70, 20, 40, 60, 80])
    assert S.inorder(t) == [20, 30, 40, 50, 60, 70, 80]
    assert S.preorder(t) == [50, 30, 20, 40, 70, 60, 80]
    assert S.postorder(t) == [20, 40, 30, 60, 80, 70, 50]
    d = S.bst_delete(t, 50)  # two children: the successor 60 takes its place
    assert d["root"] == 60 and S.is_bst(d) and 50 not in S.inorder(d)
    r = S.bst_rotate(t, 50, "right")
    assert r["root"] == 30 and S.is_bst(r) and S.inorder(r) == S.inorder(t)
    h, changed = S.heap_pop([1, 3, 2, 7, 4])
    assert h == [2, 3, 4, 7] and S.is_heap(h) and 0 in changed
    g = {"edges": [["A", "B", 1], ["B", "C", 2], ["A", "C", 5]], "directed": False}
    assert S.shortest_path(g, "A", "C") == (3, ["A", "B", "C"])
    assert S.bfs(g, "A") == ["A", "B", "C"] and S.dfs(g, "C") == ["C", "A", "B"]
    nfa = {
        "start": "q0",
        "accept": ["q2"],
        "delta": [["q0", "a", "q0"], ["q0", "a", "q1"], ["q1", "b", "q2"]],
    }
    assert S.accepts(nfa, "aab") and not S.accepts(nfa, "aba") and not S.is_deterministic(nfa)
    from pipelines.physics.kinds.circuits import current, resistance

    par = {
        "topology": "parallel",
        "voltage": 6,
        "components": [
            {"id": "R1", "type": "resistor", "value": 3},
            {"id": "R2", "type": "resistor", "value": 6},
        ],
    }
    assert resistance(par) == pytest.approx(2.0) and current(par) == pytest.approx(3.0)
    from pipelines.physics.kinds.optics import image_distance

    assert image_distance(30, 10) == pytest.approx(15.0)


def test_draw_is_deterministic(stages):
    a = _rows(stages, "cs", "bar_chart", "edit", "change_value", 2)
    b = _rows(stages, "cs", "bar_chart", "edit", "change_value", 2)
    assert [r["target_image"]["bytes"] for r in a] == [r["target_image"]["bytes"] for r in b]
    c = _rows(stages, "physics", "lens", "edit", "move_object", 1)
    d = _rows(stages, "physics", "lens", "edit", "move_object", 1)
    assert c[0]["program"] == d[0]["program"] and c[0]["source_image"] == d[0]["source_image"]


def test_labels_are_read_back(stages):
    row = _rows(stages, "physics", "series_circuit", "t2i", None, 1)[0]
    assert row["texts"] and all(t["bbox"][2] > t["bbox"][0] for t in row["texts"])
    assert row["scores"]["label_ned_mean"] <= 0.25
    assert any("Ω" in t["text"] or " V" in t["text"] for t in row["texts"])


@pytest.mark.parametrize("command", ["cs-diagram", "physics", "chemistry", "biology"])
def test_cli_run_validates(command, tmp_path, ray_session):
    out = tmp_path / command
    result = invoke(command, "--num", "24", "--out", str(out), "--quiet", "--set", "runtime.unit_size=12")
    assert result.exit_code == 0, result.output
    report = json.loads(invoke("validate", str(out), "--json").output)
    assert report["ok"], report["problems"]
    rows = pq.read_table(out / "data").to_pylist()
    assert len(rows) >= 22  # nearly all verify
    assert {r["task"] for r in rows} == {"t2i", "edit", "und"}
    assert all(r["domain"] == "science" for r in rows)
    html = (out / "preview" / "index.html").read_text()
    assert "<svg" not in html  # SVG shows only as rendered images
    assert "<b>answer:</b>" in html  # questions show their computed answers


def test_kinds_config_key_and_bad_kind(tmp_path, ray_session):
    out = tmp_path / "some"
    result = invoke(
        "cs-diagram",
        "--num",
        "6",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "kinds=[bst,heap,graph_bfs,dfa,linked_list,bar_chart]",
    )
    assert result.exit_code == 0, result.output
    kinds = {json.loads(r["meta"])["kind"] for r in pq.read_table(out / "data").to_pylist()}
    assert kinds <= {"bst", "heap", "graph_bfs", "dfa", "linked_list", "bar_chart"}
    bad = CliRunner().invoke(
        cli, ["cs-diagram", "--num", "2", "--out", str(tmp_path / "x"), "--set", "kinds=[btree]"]
    )
    assert bad.exit_code != 0 and "bst" in str(bad.exception)  # the allowed kinds are named
    images = CliRunner().invoke(cli, ["physics", "--num", "2", "--out", str(tmp_path / "y"), "--images", "x"])
    assert images.exit_code != 0 and "--images does not apply" in images.output


def test_mask_covers_exactly_the_changed_elements(stages):
    row = _rows(stages, "cs", "array", "edit", "swap", 1)[0]
    mask = decode_image(row["aux_images"][0]["bytes"])[..., 0] > 0
    source, target = decode_image(row["source_image"]["bytes"]), decode_image(row["target_image"]["bytes"])
    diff = (source != target).any(axis=2)
    assert diff[mask].any() and not diff[~mask].any()
    assert mask.mean() < 0.2  # two cells, not the picture
    assert np.array_equal(mask, decode_image(row["aux_images"][0]["bytes"])[..., 0] > 0)
