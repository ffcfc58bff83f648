"""``synth rewrite`` on real cs-diagram edit rows against a local test server: phrasings that keep
every protected text are added, those that lose one are dropped, rows left with none rejected."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from pipelines.rewrite.stages import protected
from tests.cli_runner import invoke


def rewrite(body: dict) -> str:
    """Three phrasings: two keep the instruction whole; the third drops every protected text.
    With LOSE in the system prompt all three drop them."""
    job = json.loads(body["messages"][-1]["content"])
    lost = job["instruction"]
    for k in job["keep"]:
        lost = lost.replace(k, "that")
    if "LOSE" in body["messages"][0]["content"]:
        out = [lost, "Do " + lost, "Now " + lost]
    else:
        out = ["Please: " + job["instruction"], "Could you " + job["instruction"], lost]
    return json.dumps({"rewrites": out})


@pytest.fixture(scope="module")
def server(fake_llm):
    return fake_llm(rewrite, "fake-rewriter", usage=(30, 60))


@pytest.fixture(scope="module")
def edits(tmp_path_factory, ray_session):
    out = tmp_path_factory.mktemp("rewrite") / "cs"
    args = ["cs-diagram", "--num", "8", "--out", str(out), "--quiet", "--no-preview", "--set", "tasks={edit: 3, t2i: 1}",
            "--set", "kinds=[bst,graph_path,bar_chart,flowchart]"]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return out


def test_protected_texts():
    row = {"instruction": "Replace \"SALE\" with \"促销\" and insert 42 after node A.", "texts": [{"text": "SALE"}],
           "spec": {"edit": {"op": "insert", "key": 42, "node": "A"}}}  # fmt: skip
    assert protected(row) == ["SALE", "42", "促销", "A"]


def test_rewrite_adds_phrasings_that_keep_every_protected_text(edits, server, tmp_path):
    out = tmp_path / "rw"
    result = invoke(
        "rewrite",
        "--input",
        str(edits),
        "--out",
        str(out),
        "--quiet",
        "--set",
        f"llm.base_url={server}",
        "--set",
        f"llm.cache_dir={tmp_path / 'c'}",
    )
    assert result.exit_code == 0, result.output
    assert invoke("validate", str(out)).exit_code == 0
    rows = pq.read_table(out / "data").to_pylist()
    assert len(rows) == pq.read_table(edits / "data").num_rows
    for row in rows:
        added = [v["text"] for v in row["instructions"] if v["style"] == "rewrite"]
        if row["task"] != "edit":
            assert not added  # other tasks pass unchanged
            continue
        keep = protected(row)
        assert len(added) == 2 and all(k in t for t in added for k in keep)
        assert json.loads(row["meta"])["rewrite"]["dropped"] == (1 if keep else 0)


def test_rows_without_a_good_phrasing_are_rejected(edits, server, tmp_path):
    out = tmp_path / "lose"
    result = invoke("rewrite", "--input", str(edits), "--out", str(out), "--quiet", "--set", f"llm.base_url={server}",
                    "--set", "prompt=LOSE {n} {language}", "--set", f"llm.cache_dir={tmp_path / 'c'}")  # fmt: skip
    assert result.exit_code == 0, result.output
    rejected = pq.read_table(out / "rejected").to_pylist()
    assert rejected and all(r["reason"] == "verify_failed" and "rewrite:" in r["detail"] for r in rejected)
    kept = pq.read_table(out / "data").num_rows
    assert kept + len(rejected) == pq.read_table(edits / "data").num_rows
