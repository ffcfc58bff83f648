"""The LLM client against a local server that misbehaves on purpose: timeouts, 500s, malformed
JSON, answers cut at max_tokens, slow answers, invalid answers. Nothing is lost, counts add up,
and the cache prevents repeats."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict

import pytest

from synth.llm import Answer, Failure, LlmClient, LlmConfig, LlmSetupError, Request, follows, string_list
from synth.llm_stage import LlmStage
from synth.stage import Stage, run_stages

SEEN: defaultdict = defaultdict(int)
BODIES: list = []


def flaky(body: dict):
    """The behaviour is chosen by the first word of the user's message; SEEN counts requests."""
    BODIES.append(body)
    word = body["messages"][-1]["content"].split()[0]
    SEEN[word] += 1
    n = SEEN[word]
    if word == "good":
        return '{"answer": 42}'
    if word == "error500" and n == 1:
        return 500, b'{"error": "boom"}'
    if word == "malformed" and n == 1:
        return 200, b'{"choices": [ {"mess'
    if word == "truncated" and n == 1:
        return {"choices": [{"message": {"content": '{"answer": 4'}, "finish_reason": "length"}]}
    if word == "slow":
        time.sleep(0.5)
        return '{"answer": 7}'
    if word == "hang":
        time.sleep(3)
        return '{"answer": 0}'
    if word == "invalid":
        return "not json at all" if body.get("seed", 0) % 2 == 0 else '{"answer": 1}'
    if word == "alwaysinvalid":
        return "still not json"
    if word == "badrequest":
        return 400, b'{"error": "bad"}'
    if word == "down":
        return 503, b"unavailable"
    return '{"answer": 1}'


@pytest.fixture(scope="module")
def url(fake_llm):
    return fake_llm(flaky, "flaky-model")


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
    # Answers that are not JSON of the requested schema: invalid once, alwaysinvalid three times.
    assert counts["off_schema"] == 1 + 3
    # The JSON schema went to the server as response_format.
    assert BODIES[0]["response_format"]["type"] == "json_schema"


def test_an_invalid_sample_is_asked_again_at_once_and_a_failing_server_is_given_time(
    url, tmp_path, monkeypatch
):
    """Backoff is for a server in trouble: a bad sample from a healthy server waits for nothing
    (a wait there idled the worker's requests in flight at every unit's tail)."""
    import asyncio

    waits: list[float] = []
    sleep = asyncio.sleep

    async def recorded(delay, *args, **kw):
        if delay:  # not a library's sleep(0), a yield
            waits.append(delay)
        return await sleep(delay, *args, **kw)

    monkeypatch.setattr(asyncio, "sleep", recorded)
    c = client(url, tmp_path, cache=False)
    out = c.run([req("alwaysinvalid", 30)], validate=parse)
    assert out[0].reason == "llm_invalid_output" and c.take_counts()["requests_sent"] == 3
    assert waits == []
    SEEN.pop("error500", None)  # its first request fails again
    out = c.run([req("error500", 30)], validate=parse)
    assert out[0].value == 1 and waits == [0.5]


def test_waiting_retries_go_first_then_the_oldest_units_and_the_bound_holds():
    """Retries before first asks; within each, the lower rank (the older unit) first, then by
    arrival; never more than the slots; a waiter cancelled while waiting never holds a slot."""
    import asyncio

    from synth.llm_loop import Slots

    async def scenario() -> tuple[list[str], int]:
        slots, order, peak, busy = Slots(2), [], 0, 0

        async def ask(name: str, retry: bool, rank: int, hold: float) -> None:
            nonlocal peak, busy
            async with slots.take(retry, rank):
                busy += 1
                peak = max(peak, busy)
                order.append(name)
                await asyncio.sleep(hold)
                busy -= 1

        tasks = [asyncio.create_task(ask(n, False, 0, 0.05)) for n in "ab"]
        await asyncio.sleep(0.01)
        waiters = (("c", False, 1), ("d", False, 0), ("e", False, 1), ("r", True, 1), ("s", True, 0))
        tasks += [asyncio.create_task(ask(n, retry, rank, 0.01)) for n, retry, rank in waiters]
        cancelled = asyncio.create_task(ask("x", True, 0, 0))
        await asyncio.sleep(0.01)
        cancelled.cancel()
        await asyncio.gather(*tasks)
        return order, peak

    order, peak = asyncio.run(scenario())
    assert order == ["a", "b", "s", "r", "d", "c", "e"] and peak == 2


def test_a_threads_requests_rank_as_one_unit_until_its_take_counts(url, tmp_path):
    """A worker's unit runs in one thread: its requests share a rank, taken at its first request;
    take_counts ends the unit, and the thread's next unit ranks after every unit so far."""
    c = client(url, tmp_path)
    c.run([req("cached", 1)], validate=parse)
    first = c._thread_rank()
    other: list[int] = []
    thread = threading.Thread(
        target=lambda: (c.run([req("cached", 2)], validate=parse), other.append(c._thread_rank()))
    )
    thread.start()
    thread.join()
    c.run([req("cached", 3)], validate=parse)
    assert c._thread_rank() == first and other == [first + 1]
    c.take_counts()
    c.run([req("cached", 4)], validate=parse)
    assert c._thread_rank() == first + 2


def test_cache_prevents_repeats(url, tmp_path):
    c = client(url, tmp_path)
    first = c.run([req("cached", 5), req("alwaysinvalid", 5)], validate=parse)
    before = dict(SEEN)
    again = client(url, tmp_path)  # a new client (a rerun) on the same cache folder
    second = again.run([req("cached", 5), req("alwaysinvalid", 5)], validate=parse)
    assert SEEN["cached"] == before["cached"]  # answered from the cache
    assert SEEN["alwaysinvalid"] == before["alwaysinvalid"] + 3  # invalid answers are never cached
    # ... and the rerun samples anew: seeds 8, 9, 10, after 5, 6, 7 were found invalid.
    asked = [b["seed"] for b in BODIES if b["messages"][-1]["content"].startswith("alwaysinvalid")]
    assert asked[-6:] == [5, 6, 7, 8, 9, 10]
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


def test_string_list_schema_and_parser_agree():
    rule, parse = string_list("rewrites", 2, 10)
    good = '{"rewrites": ["a b", "c"]}'
    assert follows(rule, good) and parse(good) == ["a b", "c"]
    for bad in ('{"rewrites": ["a"]}', '{"rewrites": ["a", ""]}', '{"other": []}', "[1, 2]", "nope"):
        with pytest.raises(ValueError):
            parse(bad)
    assert not follows(rule, '{"rewrites": ["a", "far too long a string"]}')
    assert not follows(rule, '{"rewrites": ["a", "b"], "extra": 1}')


def test_an_answer_that_took_a_second_seed_is_cached_for_the_request(url, tmp_path):
    first = client(url, tmp_path).run([req("invalid", 20)], validate=parse)  # seed 20 invalid, 21 valid
    assert first[0].value == 1
    again = client(url, tmp_path)
    second = again.run([req("invalid", 20)], validate=parse)
    assert second[0].cached and again.take_counts()["requests_sent"] == 0


def test_requests_are_balanced_across_servers(fake_llm, tmp_path):
    hits: defaultdict = defaultdict(int)

    def server(name: str, fail: bool = False):
        def answer(body):
            hits[name] += 1
            time.sleep(0.2)
            return (503, b"overloaded") if fail else '{"answer": 3}'

        return fake_llm(answer, "shared-model")

    urls = [server("a"), server("b")]
    c = LlmClient(LlmConfig(base_url=urls, concurrency=4, cache=False, timeout_s=5))
    assert c.connect() == "shared-model"
    out = c.run([req("x", i) for i in range(8)], validate=parse)
    assert all(isinstance(a, Answer) for a in out) and hits["a"] == hits["b"] == 4
    # A server that fails: each retry goes to the other server, so nothing fails.
    c = LlmClient(LlmConfig(base_url=[server("down", fail=True), server("up")], concurrency=4, cache=False))
    out = c.run([req("y", i) for i in range(6)], validate=parse)
    assert all(isinstance(a, Answer) for a in out), out
    assert hits["up"] == 6 and c.take_counts()["failures"] == 0
    # Every server must serve the model.
    other = fake_llm(lambda body: "{}", "another-model")
    with pytest.raises(LlmSetupError, match="same model"):
        LlmClient(LlmConfig(base_url=[urls[0], other])).connect()


# -- streaming: a worker's requests in flight are bounded by llm.concurrency, not by the batch ------


class InFlight:
    """A fake server's answer that records how many requests it holds at once and the order they
    finish in; each answer echoes the request's strings, after ``delay(strings)`` seconds."""

    def __init__(self, delay):
        self.delay, self.now, self.peak, self.finished = delay, 0, 0, []
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> str:
        strings = json.loads(body["messages"][-1]["content"])["strings"]
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.delay(strings))
        with self.lock:
            self.now -= 1
            self.finished.append(strings[0])
        return json.dumps({"translations": [f"zh:{s}" for s in strings]})


def translate_stage(url: str, tmp_path, concurrency: int):
    """The shipped translate stage on a worker (built from configs/translate.yaml, set up)."""
    from pipelines.translate import PIPELINE as pipeline
    from synth.config import default_config_path, load_config

    sets = [f"llm.base_url={url}", f"llm.concurrency={concurrency}", f"llm.cache_dir={tmp_path / 'cache'}"]
    cfg = load_config(pipeline.config_model, default_config_path("translate"), sets)
    (stage,) = pipeline.build_stages(cfg)
    stage.setup()
    return stage


def unit_rows(n: int, start: int = 0) -> list[dict]:
    return [
        {"sample_id": f"s{i}", "seed": i, "instruction": f"row {i}", "language": "en", "instructions": [],
         "captions": [], "texts": [], "meta": {}}
        for i in range(start, start + n)
    ]  # fmt: skip


def test_a_unit_streams_past_the_batch_size(fake_llm, tmp_path):
    """A unit of 64 rows in batches of 8 at llm.concurrency 32: the next batches' requests go out
    while earlier answers are pending, so more than a batch is in flight (one loop per batch held
    it at 8), never more than the concurrency; the counts add up to the unit's requests."""
    server = InFlight(lambda strings: 0.15)
    stage = translate_stage(fake_llm(server, "streaming-model"), tmp_path, concurrency=32)
    rows = run_stages([stage], unit_rows(64), batch_size=8)
    assert all(r["status"] == "kept" for r in rows), [r.get("detail") for r in rows if r["status"] != "kept"][
        :3
    ]
    assert 8 < server.peak <= 32, server.peak
    counts = stage.take_stats()["llm"]
    assert counts["requests_sent"] == 64 and counts["tokens_in"] == 64 * 10 and counts["failures"] == 0


def test_answers_that_come_back_out_of_order_land_in_their_rows(fake_llm, tmp_path):
    """Early rows answer last: each row still gets its own answer and the rows keep their order."""
    server = InFlight(lambda strings: 0.3 - 0.004 * int(strings[0].split()[1]))
    stage = translate_stage(fake_llm(server, "reversing-model"), tmp_path, concurrency=64)
    rows = run_stages([stage], unit_rows(64), batch_size=8)
    assert server.finished[:8] != [f"row {i}" for i in range(8)]  # the answers did come back out of order
    assert [r["sample_id"] for r in rows] == [f"s{i}" for i in range(64)]
    for i, row in enumerate(rows):
        assert row["status"] == "kept"
        assert row["instructions"] == [{"style": "instruction", "language": "zh", "text": f"zh:row {i}"}]


def test_a_worker_keeps_one_loop_and_session_across_units(fake_llm, tmp_path):
    server = InFlight(lambda strings: 0.01)
    stage = translate_stage(fake_llm(server, "reused-model"), tmp_path, concurrency=16)
    run_stages([stage], unit_rows(24), batch_size=8)
    loop, session = stage.client._loop, stage.client._loop.session
    threads = {t for t in threading.enumerate() if t.name == "unisynth-llm"}
    first = stage.take_stats()["llm"]["requests_sent"]
    run_stages([stage], unit_rows(24, start=24), batch_size=8)  # the worker's next unit
    assert stage.client._loop is loop and loop.session is session and not session.closed
    assert {t for t in threading.enumerate() if t.name == "unisynth-llm"} == threads
    assert first == stage.take_stats()["llm"]["requests_sent"] == 24  # each unit's own counts
    stage.client.close()
    assert session.closed and not loop.thread.is_alive()


def test_one_rows_failing_answer_never_fails_its_batch(fake_llm, tmp_path):
    """An ``apply`` that raises on one row marks that row only, and nothing is asked again."""

    class Picky(LlmStage, Stage):
        name = "picky"

        def __init__(self, cfg: LlmConfig):
            self.llm_cfg = cfg

        def ask(self, rows):
            return [(r, Request([{"role": "user", "content": f"good {r['sample_id']}"}]), None) for r in rows]

        def apply(self, row, got, context):
            if row["sample_id"] == "b2":
                raise KeyError("no such field")
            row["answer"] = got.value

    url = fake_llm(lambda body: '{"answer": 5}', "picky-model")
    stage = Picky(LlmConfig(base_url=url, cache=False))
    stage.setup()
    rows = run_stages([stage], [{"sample_id": f"b{i}"} for i in range(6)], batch_size=3)
    assert [r["status"] for r in rows] == ["kept", "kept", "error", "kept", "kept", "kept"]
    assert rows[2]["reason"] == "llm_error" and "picky: KeyError" in rows[2]["detail"]
    assert stage.take_stats()["llm"]["requests_sent"] == 6


def test_units_that_overlap_on_one_worker_keep_their_own_counts(fake_llm, tmp_path):
    """Two units run at once on one stage (threads of one worker, one client): each unit's
    take_stats counts its own requests, not the other's in flight."""
    active, overlapped = set(), []

    def answer(body: dict) -> str:
        row = int(json.loads(body["messages"][-1]["content"])["strings"][0].split()[1])
        active.add(row)
        overlapped.append(min(active) < 100 <= max(active))
        time.sleep(0.05)
        active.discard(row)
        return json.dumps({"translations": [f"zh:row {row}"]})

    stage = translate_stage(fake_llm(answer, "overlap-model"), tmp_path, concurrency=8)
    got: dict[int, dict] = {}

    def unit(n: int, start: int) -> None:
        run_stages([stage], unit_rows(n, start), batch_size=4)
        got[n] = stage.take_stats()["llm"]

    threads = [threading.Thread(target=unit, args=(n, start)) for n, start in ((10, 0), (20, 100))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert any(overlapped)  # both units had requests in flight at once
    assert got[10]["requests_sent"] == 10 and got[20]["requests_sent"] == 20
    assert got[10]["tokens_in"] == 100 and got[20]["tokens_in"] == 200


@pytest.mark.parametrize(
    ("concurrency", "unit", "retries"), [(64, 64, 2), (256, 64, 2), (16, 64, 0), (100, 30, 4)]
)
def test_a_worker_holds_units_enough_to_fill_the_slots_through_a_units_tail(concurrency, unit, retries):
    """A unit's last rows may need every sample one after another, so its tail lasts up to
    retries + 1 answer times; the units after it (besides one being read or committed) must hold
    that many rounds of first asks, or the requests in flight fall to none at unit boundaries (on
    a CPU vLLM, 3 units at 64 and 64 left the slots empty for 5 s of a 24 s run)."""

    class Asker(LlmStage, Stage):
        name = "asker"

        def __init__(self):
            self.llm_cfg = LlmConfig(
                base_url="http://127.0.0.1:9/v1", concurrency=concurrency, retries=retries
            )

        @property
        def requests_per_unit(self) -> int:
            return unit

        def ask(self, rows):
            return []

    held = Asker().units_in_flight
    assert (held - 2) * unit >= (retries + 1) * concurrency
    assert (held - 3) * unit < (retries + 1) * concurrency  # and no more than that: rows wait in memory


def test_a_stage_of_its_own_process_batch_runs_one_unit_at_a_time():
    class Own(LlmStage, Stage):
        name = "own"
        llm_cfg = LlmConfig(base_url="http://127.0.0.1:9/v1", concurrency=64)

        def process_batch(self, rows):
            return rows

    assert Own().units_in_flight == 1
