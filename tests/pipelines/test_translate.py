"""``synth translate`` on a real text-render output, against a local OpenAI-compatible test server:
same sample ids, a Chinese variant per English text, drawn texts verbatim or the row is rejected."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synth.cli.main import cli
from tests.cli_runner import invoke


def translate(body: dict) -> str:
    """Every string as "译文：<string>" (drawn texts survive); with BREAK in the system prompt the
    protected texts are dropped instead."""
    job = json.loads(body["messages"][-1]["content"])
    out = []
    for s in job["strings"]:
        if "BREAK" in body["messages"][0]["content"]:
            for p in job["protected"]:
                s = s.replace(p, "…")
        out.append("译文：" + s)
    assert body["response_format"]["json_schema"]["schema"]["properties"]["translations"]["maxItems"] == len(
        out
    )
    return json.dumps({"translations": out}, ensure_ascii=False)


@pytest.fixture(scope="module")
def server(fake_llm):
    return fake_llm(translate, "fake-translator", usage=(50, 40))


@pytest.fixture(scope="module")
def text_run(tmp_path_factory, ray_session, text_cfg_sets):
    out = tmp_path_factory.mktemp("translate") / "text"
    sets = [a for s in text_cfg_sets for a in ("--set", s)]
    args = ["text-render", "--num", "8", "--out", str(out), "--quiet", "--no-preview",
            "--set", "render.languages={en: 1}"]  # fmt: skip
    result = invoke(*args, *sets)
    assert result.exit_code == 0, result.output
    return out


def test_translate_keeps_ids_and_drawn_texts(text_run, server, tmp_path):
    out = tmp_path / "zh"
    result = invoke(
        "translate",
        "--input",
        str(text_run),
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
    before = {r["sample_id"]: r for r in pq.read_table(text_run / "data").to_pylist()}
    after = pq.read_table(out / "data").to_pylist()
    assert {r["sample_id"] for r in after} == set(before)  # the same rows, the same ids
    for row in after:
        added = [v for v in row["instructions"] if v["style"] == "instruction"]
        assert added and added[0]["language"] == "zh" and added[0]["text"] == "译文：" + row["instruction"]
        assert row["target_image"] == before[row["sample_id"]]["target_image"]  # images untouched
        assert json.loads(row["meta"])["translate"]["tokens_in"] == 50
    report = json.loads((out / "run.json").read_text())["report"]
    assert report["llm"]["requests_sent"] == len(after) and report["counts"]["kept"] == len(after)


def test_broken_drawn_text_is_translation_mismatch(text_run, server, tmp_path):
    out = tmp_path / "broken"
    result = invoke("translate", "--input", str(text_run), "--out", str(out), "--quiet", "--set", f"llm.base_url={server}",
                    "--set", "prompt=BREAK into {language}", "--set", f"llm.cache_dir={tmp_path / 'c'}")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out / "rejected").to_pylist()
    assert rows and all(r["reason"] == "translation_mismatch" and "missing" in r["detail"] for r in rows)
    kept = pq.read_table(out / "data").num_rows
    assert kept + len(rows) == pq.read_table(text_run / "data").num_rows  # every input accounted for


def test_translate_needs_an_llm(text_run, tmp_path):
    result = CliRunner().invoke(cli, ["translate", "--input", str(text_run), "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "llm.base_url" in str(result.exception)


def test_protected_texts_have_one_order():
    """The list goes into the request, so its order may not follow a set's (which changes with the
    process's hash seed): longest first, then by text."""
    from pipelines.translate.stages import protected

    row = {"texts": [{"text": t} for t in ("bb", "aa", "cc", "dddd")]}
    assert protected(row, ["aa bb cc dddd"]) == ["dddd", "aa", "bb", "cc"]


def test_a_worker_takes_its_next_unit_while_answers_are_coming(text_run, fake_llm, tmp_path):
    """Units of 2 rows at llm.concurrency 4 on one worker: the worker runs ceil(4 / 2) + 1 = 3
    units at once (the next unit's requests go out while one's last answers are coming), so more
    than a unit's requests are in flight; every unit's manifest still counts only its own."""
    import threading
    import time

    lock, now, peak = threading.Lock(), [0], [0]

    def slow(body: dict) -> str:
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.3)
        with lock:
            now[0] -= 1
        return translate(body)

    out = tmp_path / "overlap"
    sets = [f"llm.base_url={fake_llm(slow, 'slow-translator')}", f"llm.cache_dir={tmp_path / 'c'}",
            "llm.concurrency=4", "runtime.unit_size=2", "runtime.workers=1"]  # fmt: skip
    result = invoke("translate", "--input", str(text_run), "--out", str(out), "--quiet", "--no-preview",
                    *(a for s in sets for a in ("--set", s)))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert 2 < peak[0] <= 4, peak[0]
    manifests = [json.loads(p.read_text()) for p in sorted((out / "_units").glob("*.json"))]
    assert len(manifests) == 4
    for m in manifests:
        assert m["stats"]["llm"]["requests_sent"] == sum(m["counts"].values()) == 2, m
