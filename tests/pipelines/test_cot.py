"""``synth cot`` on real physics and cs-diagram rows against a local test server: plans grounded in
each row's own elements are stored and rendered; a plan that names something else is asked again,
then the row is ``llm_invalid_output``; the per-row schema carries the row's names as enums."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from pipelines.cot.plan import render
from pipelines.cot.stages import validator, vocabulary
from tests.cli_runner import invoke

SCHEMAS: list = []


def plan(body: dict) -> str:
    """Plans on the first element the schema enumerates (as guided decoding would); with INVENT in
    the system prompt it names an element no row has."""
    schema = body["response_format"]["json_schema"]["schema"]
    SCHEMAS.append(schema)
    operation = schema["properties"]["operations"]["items"]["properties"]
    target = (
        "the moon"
        if "INVENT" in body["messages"][0]["content"]
        else operation["target"].get("enum", ["figure"])[0]
    )
    return json.dumps({"objective": "Draw the figure as asked.", "subtasks": ["lay out", "draw"],
                       "constraints": [{"subject": target, "requirement": "is drawn and labelled"}],
                       "operations": [{"action": operation["action"]["enum"][0], "target": target, "detail": "first"}]})  # fmt: skip


@pytest.fixture(scope="module")
def server(fake_llm):
    return fake_llm(plan, "fake-planner", usage=(80, 60))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, ray_session):
    base = tmp_path_factory.mktemp("cot")
    for command in ("physics", "cs-diagram"):
        args = [
            command,
            "--num",
            "6",
            "--out",
            str(base / command),
            "--quiet",
            "--no-preview",
            "--set",
            "tasks={t2i: 1, edit: 1}",
        ]
        result = invoke(*args)
        assert result.exit_code == 0, result.output
    return base


def test_grounded_plans(runs, server, tmp_path):
    out = tmp_path / "cot"
    result = invoke("cot", "--input", str(runs / "physics"), "--input", str(runs / "cs-diagram"), "--out", str(out), "--quiet",
                    "--set", f"llm.base_url={server}", "--set", f"llm.cache_dir={tmp_path / 'c'}")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert invoke("validate", str(out)).exit_code == 0
    rows = pq.read_table(out / "data").to_pylist()
    assert len(rows) == 12
    for row in rows:
        meta = json.loads(row["meta"])["cot"]
        assert meta["flavour"] == "science"  # science rows get the science flavour
        names, _ = vocabulary(row)
        assert meta["plan"]["operations"][0]["target"] in names
        assert row["cot"].startswith("Objective:") and "Operations:\n1. " in row["cot"]
    # Each request's schema enumerated that row's own names.
    assert all(s["properties"]["operations"]["items"]["properties"]["target"].get("enum") for s in SCHEMAS)


def test_ungrounded_plans_are_invalid(runs, server, tmp_path):
    out = tmp_path / "invent"
    result = invoke("cot", "--input", str(runs / "physics"), "--out", str(out), "--quiet", "--set", f"llm.base_url={server}",
                    "--set", "prompts={general: x, knowledge: x, meme: x, science: INVENT}", "--set", "llm.retries=1")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out / "rejected").to_pylist()
    assert len(rows) == 6 and all(
        r["reason"] == "llm_invalid_output" and "not in this row" in r["detail"] for r in rows
    )


def test_validator_checks_numbers_and_names():
    check = validator(["R1", "q0"], {4.0, 6.0}, ["draw"])
    good = {"objective": "o", "subtasks": ["s"], "constraints": [{"subject": "R1", "requirement": "reads 4 Ω"}],
            "operations": [{"action": "draw", "target": "q0", "detail": "d"}]}  # fmt: skip
    assert check(json.dumps(good)) == good
    bad = {**good, "constraints": [{"subject": "R1", "requirement": "reads 5 Ω"}]}
    with pytest.raises(ValueError, match="5"):
        check(json.dumps(bad))
    assert "1. draw q0: d" in render(good)
