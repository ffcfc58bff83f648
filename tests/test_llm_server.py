"""The real vLLM server, started by ``synth llm serve`` (shared per session): guided JSON-schema
answers parse every time, the cache answers a rerun, and Ctrl-C stops only our server."""

from __future__ import annotations

import json
import signal
import urllib.request

import pytest

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


def test_server_refuses_a_folder_without_a_model(tmp_path):
    with pytest.raises(ServeError, match="config.json"):
        LlmServer(str(tmp_path))


def test_cpu_command_line():
    cmd = server_command("/m", "127.0.0.1", 8001, 1024, "guidance", "/py")
    assert cmd[:3] == ["/py", "-m", "vllm.entrypoints.openai.api_server"]
    assert json.loads(cmd[cmd.index("--structured-outputs-config") + 1]) == {"backend": "guidance"}


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
