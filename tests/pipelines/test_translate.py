"""``synth translate`` on a real text-render output, against a local OpenAI-compatible test server:
same sample ids, a Chinese variant per English text, drawn texts verbatim or the row is rejected."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synth.cli.main import cli


class Translator(BaseHTTPRequestHandler):
    """Answers every string as "译文：<string>" (drawn texts survive); with BREAK in the system
    prompt it drops the protected texts instead."""

    def _send(self, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._send({"data": [{"id": "fake-translator"}]})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        job = json.loads(body["messages"][-1]["content"])
        out = []
        for s in job["strings"]:
            if "BREAK" in body["messages"][0]["content"]:
                for p in job["protected"]:
                    s = s.replace(p, "…")
            out.append("译文：" + s)
        assert body["response_format"]["json_schema"]["schema"]["properties"]["translations"][
            "maxItems"
        ] == len(out)
        self._send(
            {
                "choices": [{"message": {"content": json.dumps({"translations": out}, ensure_ascii=False)}}],
                "usage": {"prompt_tokens": 50, "completion_tokens": 40},
            }
        )

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Translator)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()


@pytest.fixture(scope="module")
def text_run(tmp_path_factory, ray_session, text_cfg_sets):
    out = tmp_path_factory.mktemp("translate") / "text"
    sets = [a for s in text_cfg_sets for a in ("--set", s)]
    result = CliRunner().invoke(
        cli,
        [
            "text-render",
            "--num",
            "8",
            "--out",
            str(out),
            "--quiet",
            "--no-preview",
            "--set",
            "render.languages={en: 1}",
            *sets,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


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
