"""The LLM client against a local server that misbehaves on purpose: timeouts, 500s, malformed
JSON, answers cut at max_tokens, slow answers, invalid answers. Nothing is lost, counts add up,
and the cache prevents repeats."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from synth.llm import Answer, Failure, LlmClient, LlmConfig, LlmSetupError, Request


class Flaky(BaseHTTPRequestHandler):
    """The behaviour is chosen by the first word of the user's message; ``seen`` counts requests."""

    seen: defaultdict = defaultdict(int)
    bodies: list = []

    def _reply(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._reply(200, json.dumps({"data": [{"id": "flaky-model"}]}).encode())

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Flaky.bodies.append(body)
        word = body["messages"][-1]["content"].split()[0]
        Flaky.seen[word] += 1
        n = Flaky.seen[word]

        def ok(text: str, finish: str = "stop") -> None:
            out = {
                "choices": [{"message": {"content": text}, "finish_reason": finish}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5},
            }
            self._reply(200, json.dumps(out).encode())

        if word == "good":
            ok('{"answer": 42}')
        elif word == "error500" and n == 1:
            self._reply(500, b'{"error": "boom"}')
        elif word == "malformed" and n == 1:
            self._reply(200, b'{"choices": [ {"mess')
        elif word == "truncated" and n == 1:
            ok('{"answer": 4', "length")
        elif word == "slow":
            time.sleep(0.5)
            ok('{"answer": 7}')
        elif word == "hang":
            time.sleep(3)
            ok('{"answer": 0}')
        elif word == "invalid":
            ok("not json at all" if body.get("seed", 0) % 2 == 0 else '{"answer": 1}')
        elif word == "alwaysinvalid":
            ok("still not json")
        elif word == "badrequest":
            self._reply(400, b'{"error": "bad"}')
        elif word == "down":
            self._reply(503, b"unavailable")
        else:
            ok('{"answer": 1}')

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def parse(text: str) -> int:
    try:
        return int(json.loads(text)["answer"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(str(e)) from e


def client(url, tmp_path, **kw) -> LlmClient:
    cfg = LlmConfig(
        base_url=url, timeout_s=1.0, retries=2, concurrency=4, cache_dir=str(tmp_path / "cache"), **kw
    )
    c = LlmClient(cfg)
    assert c.connect() == "flaky-model"
    return c


def req(word: str, seed: int = 0) -> Request:
    return Request([{"role": "user", "content": f"{word} please"}], schema={"type": "object"}, seed=seed)


def test_faults_are_retried_and_nothing_is_lost(url, tmp_path):
    c = client(url, tmp_path)
    words = [
        "good",
        "error500",
        "malformed",
        "truncated",
        "slow",
        "hang",
        "invalid",
        "alwaysinvalid",
        "badrequest",
        "down",
    ]
    out = c.run([req(w) for w in words], validate=parse)
    got = dict(zip(words, out, strict=True))
    assert len(out) == len(words)  # one result per request, in order
    for w in ("good", "error500", "malformed", "truncated", "slow", "invalid"):
        assert isinstance(got[w], Answer), (w, got[w])
    assert got["good"].value == 42 and got["slow"].value == 7 and got["invalid"].value == 1
    assert isinstance(got["hang"], Failure) and got["hang"].reason == "llm_error"  # timed out 3 times
    assert isinstance(got["down"], Failure) and got["down"].reason == "llm_error"
    assert isinstance(got["badrequest"], Failure) and got["badrequest"].reason == "llm_error"
    assert (
        got["alwaysinvalid"].reason == "llm_invalid_output"
        and "invalid answer" in got["alwaysinvalid"].detail
    )
    counts = c.take_counts()
    assert counts["failures"] == 4 and counts["cache_hits"] == 0
    # requests: 1 each for good/slow/badrequest, 2 for error500/malformed/truncated/invalid, 3 for hang/alwaysinvalid/down
    assert counts["requests_sent"] == 3 + 2 * 4 + 3 * 3
    assert counts["retries"] == counts["requests_sent"] - len(words)
    # every answer that arrived: good, error500, malformed, slow once; truncated and invalid twice; alwaysinvalid 3 times
    assert counts["tokens_in"] == 10 * (4 + 2 + 2 + 3)
    # The JSON schema went to the server as response_format.
    assert Flaky.bodies[0]["response_format"]["type"] == "json_schema"


def test_cache_prevents_repeats(url, tmp_path):
    c = client(url, tmp_path)
    first = c.run([req("cached", 5), req("alwaysinvalid", 5)], validate=parse)
    before = dict(Flaky.seen)
    again = client(url, tmp_path)  # a new client (a rerun) on the same cache folder
    second = again.run([req("cached", 5), req("alwaysinvalid", 5)], validate=parse)
    assert Flaky.seen["cached"] == before["cached"]  # answered from the cache
    assert Flaky.seen["alwaysinvalid"] == before["alwaysinvalid"] + 3  # invalid answers are never cached
    assert second[0].cached and second[0].value == first[0].value
    counts = again.take_counts()
    assert counts["cache_hits"] == 1 and counts["requests_sent"] == 3
    other_seed = again.run([req("cached", 6)], validate=parse)  # another sampling seed is another request
    assert not other_seed[0].cached


def test_concurrency_is_bounded(url, tmp_path):
    c = client(url, tmp_path, cache=False)
    t0 = time.perf_counter()
    out = c.run([req("slow", i) for i in range(8)], validate=parse)
    took = time.perf_counter() - t0
    assert all(isinstance(a, Answer) for a in out)
    assert 0.9 < took < 3.5  # 8 answers of 0.5 s, 4 at a time: about 1 s, not 4 s, not 0.5 s


def test_setup_errors_are_clear(url):
    with pytest.raises(LlmSetupError, match="llm.base_url"):
        LlmClient(LlmConfig())
    with pytest.raises(LlmSetupError, match="does not answer"):
        LlmClient(LlmConfig(base_url="http://127.0.0.1:9/v1", timeout_s=2)).connect()
    with pytest.raises(LlmSetupError, match="not llm.model"):
        LlmClient(LlmConfig(base_url=url, model="other")).connect()
