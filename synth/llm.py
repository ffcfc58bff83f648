"""The client for OpenAI-compatible chat servers (vLLM's ``/v1/chat/completions``).

* Requests stream: ``submit`` hands them to the client's own event loop and HTTP session (one
  per worker, for its life; ``synth/llm_loop.py``) and returns futures at once, so a stage's next
  batches go out while earlier answers are still coming. At most ``llm.concurrency`` are in
  flight, whatever the batch size; ``run`` is submit and wait. Each has a timeout, and retries
  with backoff on connection errors, 5xx and malformed answers; an answer that is invalid or cut
  at ``llm.max_tokens`` is asked again at once with the next seed (the server is fine).
* JSON-schema structured outputs (``response_format`` ``json_schema``) and a ``validate`` callable:
  an answer that fails it is asked again with the next sampling seed, then the request fails
  ``llm_invalid_output``; a server that keeps failing gives ``llm_error``. Failures are values,
  not exceptions, so one bad row never sinks a batch.
* An on-disk cache keyed by the request as first asked (model, messages, sampling parameters and
  its seed), holding only answers that passed validation: a resumed or repeated run sends nothing
  already answered, even an answer that took a second seed. A request whose every sample was
  invalid leaves only the next untried seed there, so ``--retry-errors`` asks with new seeds
  instead of repeating the samples that failed. It lives in the user's cache folder by default,
  or ``llm.cache_dir`` (any ``pyarrow.fs`` URI, so a cluster can share it).
* Several servers: ``llm.base_url`` may be a list; each request goes to the server with the
  fewest requests in flight, and a retry after a server error goes to another one.
* Counts (``requests_sent``, ``cache_hits``, ``tokens_in``, ``tokens_out``, ``retries``,
  ``failures``, ``off_schema``) for ``run.json``. ``off_schema`` counts answers that are not JSON
  following the requested schema: with guided decoding on (vLLM) it must stay 0, so a non-zero
  figure means the server ignored ``response_format``.

Every answer is untrusted text: callers parse and validate it. What a stage that asks does with
the client (rows in, answers applied, units held per worker) is ``synth/llm_stage.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import itertools
import json
import logging
import os
import threading
import urllib.request
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow.fs as pafs
from pydantic import Field

from synth.config import Strict
from synth.llm_loop import LoopThread

log = logging.getLogger(__name__)

COUNTS = ("requests_sent", "cache_hits", "tokens_in", "tokens_out", "retries", "failures", "off_schema")


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "unisynth", "llm")


class LlmConfig(Strict):
    base_url: str | list[str] | None = Field(
        None,
        description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1, or a list of them "
        "serving the same model (requests are balanced across them)",
    )
    model: str | None = Field(None, description="model name on that server; None = the server's first model")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key, if any")
    timeout_s: float = Field(120.0, gt=0, description="per request")
    retries: int = Field(
        2, ge=0, le=10, description="extra tries on connection errors, 5xx and invalid answers"
    )
    concurrency: int = Field(16, ge=1, le=1024, description="requests in flight per worker")
    max_tokens: int = Field(2048, ge=16)
    temperature: float = Field(0.2, ge=0, le=2)
    cache: bool = Field(True, description="reuse validated answers across runs")
    cache_dir: str | None = Field(None, description="cache folder or URI; None = ~/.cache/unisynth/llm")
    price_in_per_mtok: float = Field(
        0.0, ge=0, description="cost per million prompt tokens, for the row's meta"
    )
    price_out_per_mtok: float = Field(0.0, ge=0, description="cost per million answer tokens")


#: Keys of ``llm`` that change how answers are fetched, not what is asked: in no hash.
RUNTIME_KEYS = tuple(
    f"llm.{k}"
    for k in (
        "base_url",
        "api_key_env",
        "timeout_s",
        "retries",
        "concurrency",
        "cache",
        "cache_dir",
        "price_in_per_mtok",
        "price_out_per_mtok",
    )
)


class LlmSetupError(RuntimeError):
    """No usable server: the run fails before any work, saying how to provide one."""


class LlmError(RuntimeError):
    """A request that failed after its retries (the row becomes ``llm_error``)."""

    reason = "llm_error"


@dataclass(frozen=True)
class Request:
    messages: list[dict[str, Any]]
    schema: dict[str, Any] | None = None  # JSON schema the answer must follow (guided decoding)
    seed: int | None = None
    #: This request's own check (text -> value, or ValueError); else the one given to ``run``.
    validate: Callable[[str], Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Answer:
    text: str
    value: Any  # what ``validate`` returned
    tokens_in: int
    tokens_out: int
    cost: float
    cached: bool = False


@dataclass(frozen=True)
class Failure:
    reason: str  # llm_error or llm_invalid_output
    detail: str
    tokens_in: int = 0
    tokens_out: int = 0


def follows(schema: dict[str, Any], text: str) -> bool:
    """Whether ``text`` is JSON that follows ``schema`` (what guided decoding promises)."""
    import jsonschema

    try:
        return jsonschema.Draft202012Validator(schema).is_valid(json.loads(text))
    except ValueError:
        return False


def string_list(key: str, n: int, max_chars: int) -> tuple[dict[str, Any], Callable[[str], list[str]]]:
    """The schema and the parser of an answer that is ``{key: [n non-empty strings]}`` (what
    translate and rewrite ask for); ``max_chars`` bounds each string, so guided decoding stops a
    runaway answer before ``max_tokens`` cuts it."""
    item = {"type": "string", "minLength": 1, "maxLength": max_chars}
    schema = {
        "type": "object",
        "properties": {key: {"type": "array", "items": item, "minItems": n, "maxItems": n}},
        "required": [key],
        "additionalProperties": False,
    }

    def parse(text: str) -> list[str]:
        try:
            value = json.loads(text)[key]
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"not the {key} object: {e}") from e
        if not isinstance(value, list) or len(value) != n:
            raise ValueError(f"expected {n} strings under {key!r}")
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError(f"every item of {key!r} must be non-empty text")
        return value

    return schema, parse


class _Transient(Exception):
    """Worth another try with the same seed (the server failed, not the sample): connection
    errors, 5xx and 429, malformed response bodies."""


class LlmClient:
    def __init__(self, cfg: LlmConfig):
        if not cfg.base_url:
            raise LlmSetupError(
                "no LLM configured: pass --set llm.base_url=http://HOST:PORT/v1 (any OpenAI-compatible server, "
                "e.g. one started by `synth llm serve --model DIR`)"
            )
        self.cfg = cfg
        urls = [cfg.base_url] if isinstance(cfg.base_url, str) else list(cfg.base_url)
        self.bases = [u.rstrip("/") for u in urls]
        self.in_flight = [0] * len(self.bases)
        key = os.environ.get(cfg.api_key_env)
        self.headers = {
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {key}"} if key else {}),
        }
        self.model = cfg.model
        # The submitting thread's unit: its counts and rank (a worker's unit runs in one thread, so
        # a unit's counts are its own even when units overlap). Counts are written on the loop's
        # thread and read by take_counts, which also ends the thread's unit.
        self._unit = threading.local()
        self._unit_lock = threading.Lock()
        self._ranks = itertools.count()
        self._fs: pafs.FileSystem | None = None
        self._root = ""
        self._loop: LoopThread | None = None
        self._loop_lock = threading.Lock()

    # -- setup ---------------------------------------------------------------------------------

    def connect(self) -> str:
        """Check every server answers and serves the model; resolve the model name from the first
        server when none is configured (fails fast, saying what to do)."""
        for base in self.bases:
            try:
                req = urllib.request.Request(base + "/models", headers=self.headers)
                with urllib.request.urlopen(req, timeout=min(self.cfg.timeout_s, 30)) as resp:  # noqa: S310 - the configured server
                    models = [m["id"] for m in json.loads(resp.read().decode()).get("data", [])]
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise LlmSetupError(
                    f"the LLM server at {base} does not answer ({e}); start it or fix llm.base_url"
                ) from e
            if self.model is None:
                if not models:
                    raise LlmSetupError(f"the LLM server at {base} lists no models; set llm.model")
                self.model = models[0]
            elif models and self.model not in models:
                raise LlmSetupError(
                    f"the LLM server at {base} serves {models}, not llm.model={self.model!r}"
                    + (
                        " (every server in llm.base_url must serve the same model)"
                        if len(self.bases) > 1
                        else ""
                    )
                )
        return self.model

    # -- cache ---------------------------------------------------------------------------------

    def _cache_path(self, body: dict[str, Any]) -> str | None:
        if not self.cfg.cache:
            return None
        if self._fs is None:
            uri = self.cfg.cache_dir or default_cache_dir()
            if "://" not in uri:
                os.makedirs(uri, exist_ok=True)
                uri = os.path.abspath(uri)
            self._fs, self._root = pafs.FileSystem.from_uri(uri)
        key = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return f"{self._root}/{key[:2]}/{key}.json"

    def _cache_get(self, path: str | None) -> dict | None:
        if path is None:
            return None
        try:
            with self._fs.open_input_stream(path) as f:
                return json.loads(f.read().decode())
        except (OSError, ValueError):
            return None

    def _cache_put(self, path: str | None, entry: dict) -> None:
        if path is None:
            return
        try:
            self._fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with self._fs.open_output_stream(tmp) as f:
                f.write(json.dumps(entry, ensure_ascii=False).encode())
            self._fs.move(tmp, path)
        except OSError:
            pass  # a cache that cannot be written costs a repeat, never the answer

    # -- requests ------------------------------------------------------------------------------

    def _body(self, req: Request, seed: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": req.messages,
            "max_tokens": self.cfg.max_tokens,
            "temperature": self.cfg.temperature,
        }
        if seed is not None:
            body["seed"] = seed
        if req.schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": req.schema},
            }
        return body

    def _pick(self, avoid: int | None) -> int:
        """The server with the fewest requests in flight (not ``avoid``, the one that just failed,
        when there is another); ties go round from a per-process offset, so many workers do not
        all start on the first server."""
        n = len(self.bases)
        order = sorted(
            range(n), key=lambda i: (i == avoid and n > 1, self.in_flight[i], (i - os.getpid()) % n)
        )
        return order[0]

    async def _post(self, session, body: dict[str, Any], server: int) -> tuple[str, int, int, bool]:
        import aiohttp

        url = self.bases[server] + "/chat/completions"
        try:
            async with session.post(url, json=body, headers=self.headers) as resp:
                raw = await resp.read()
                if resp.status >= 500 or resp.status == 429:
                    raise _Transient(f"HTTP {resp.status}: {raw[:200]!r}")
                if resp.status >= 400:
                    raise LlmError(f"HTTP {resp.status}: {raw[:300]!r}")
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise _Transient(f"{type(e).__name__}: {e}") from e
        try:
            out = json.loads(raw.decode())
            choice = out["choices"][0]
            text = choice["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise _Transient(f"malformed answer: {raw[:120]!r}") from e
        usage = out.get("usage") or {}
        cut = choice.get("finish_reason") == "length"
        return text, int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)), cut

    async def _one(
        self, req: Request, validate: Callable[[str], Any] | None, counts: Counter, rank: int
    ) -> Answer | Failure:
        session, slots = self._loop.session, self._loop.slots
        validate = req.validate or validate
        path = self._cache_path(self._body(req, req.seed))  # the request as first asked
        seed = req.seed
        entry = await asyncio.to_thread(self._cache_get, path)
        if entry is not None and "text" in entry:
            try:
                value = validate(entry["text"]) if validate else entry["text"]
                self._count(counts, "cache_hits", 1)
                a, b = entry["tokens_in"], entry["tokens_out"]
                return Answer(entry["text"], value, a, b, self.cost(a, b), True)
            except ValueError:  # a validator that grew stricter: sample anew
                entry = {"next_seed": entry.get("seed", seed) + 1} if seed is not None else None
        if entry is not None and seed is not None:
            seed = int(entry.get("next_seed", seed))  # skip the samples an earlier run found invalid
        start, tin, tout = seed, 0, 0
        last, invalid, server, failed, wait = "no answer", False, None, 0, 0.0
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                self._count(counts, "retries", 1)
            if wait:  # a server in trouble is given time; an invalid sample is asked again at once
                await asyncio.sleep(wait)
            body = self._body(req, seed)
            try:
                async with slots.take(retry=attempt > 0, rank=rank):
                    server = self._pick(avoid=server)
                    self.in_flight[server] += 1
                    self._count(counts, "requests_sent", 1)
                    try:
                        text, a, b, cut = await self._post(session, body, server)
                    finally:
                        self.in_flight[server] -= 1
            except _Transient as e:  # the server failed, not the sample: same seed, another server
                last, invalid, failed = str(e), False, failed + 1
                wait = min(8.0, 0.25 * 2**failed)
                continue
            except LlmError as e:
                self._count(counts, "failures", 1)
                return Failure("llm_error", str(e), tin, tout)
            server, wait = None, 0.0
            tin, tout = tin + a, tout + b  # every answer that arrived was paid for
            self._count(counts, "tokens_in", a)
            self._count(counts, "tokens_out", b)
            if req.schema is not None and not cut and not follows(req.schema, text):
                self._count(counts, "off_schema", 1)
            try:
                if cut:
                    raise ValueError(f"the answer was cut at llm.max_tokens={self.cfg.max_tokens}")
                value = validate(text) if validate else text
            except ValueError as e:
                last, invalid = f"invalid answer: {e}", True
                seed = None if seed is None else seed + 1  # another sample, not the same one again
                continue
            # What the answer cost, invalid samples before it included: a cached rerun writes the
            # same figures into the row as the run that paid for it (same config, same bytes).
            entry = {"text": text, "tokens_in": tin, "tokens_out": tout, "seed": seed}
            await asyncio.to_thread(self._cache_put, path, entry)
            return Answer(text, value, tin, tout, self.cost(tin, tout))
        if seed != start:
            # not an answer: where a retry starts sampling
            await asyncio.to_thread(self._cache_put, path, {"next_seed": seed})
        self._count(counts, "failures", 1)
        return Failure("llm_invalid_output" if invalid else "llm_error", last, tin, tout)

    def cost(self, tin: int, tout: int) -> float:
        return round((tin * self.cfg.price_in_per_mtok + tout * self.cfg.price_out_per_mtok) / 1e6, 8)

    def _count(self, counts: Counter, key: str, n: int) -> None:
        with self._unit_lock:
            counts[key] += n

    def _thread_counts(self) -> Counter:
        """The calling thread's counts (what its requests have cost since its last take_counts)."""
        if not hasattr(self._unit, "counter"):
            self._unit.counter = Counter()
        return self._unit.counter

    def _thread_rank(self) -> int:
        """The calling thread's unit's place among the units this client has served, taken at its
        first request since its last take_counts: an older unit's requests go first."""
        if getattr(self._unit, "rank", None) is None:
            with self._unit_lock:
                self._unit.rank = next(self._ranks)
        return self._unit.rank

    def _started(self) -> LoopThread:
        """The client's loop and session, started on first use and kept for the client's life
        (the worker's): closed by :meth:`close` or when the client is collected."""
        with self._loop_lock:
            if self._loop is None:
                if self.model is None:
                    self.connect()
                self._loop = LoopThread(self.cfg.concurrency, self.cfg.timeout_s)
                weakref.finalize(self, self._loop.close)
            return self._loop

    def submit(
        self, requests: list[Request], validate: Callable[[str], Any] | None = None
    ) -> list[concurrent.futures.Future]:
        """Send requests now and return at once: one future per request, in order, each resolving
        to an :class:`Answer` or a :class:`Failure`. Requests of many calls share the bound of
        ``llm.concurrency`` in flight and go out retries first, then the oldest unit's (a thread's
        requests until its take_counts), then in the order submitted. ``validate`` turns an
        answer's text into its value or raises ValueError (a request's own ``validate`` wins)."""
        loop, counts, rank = self._started(), self._thread_counts(), self._thread_rank()
        return [loop.submit(self._one(r, validate, counts, rank)) for r in requests]

    def run(
        self, requests: list[Request], validate: Callable[[str], Any] | None = None
    ) -> list[Answer | Failure]:
        """Answers (or failures) for many requests, in order: :meth:`submit`, then wait."""
        return [f.result() for f in self.submit(requests, validate)]

    def close(self) -> None:
        """Close the HTTP session and stop the loop; a later request starts a new one."""
        with self._loop_lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.close()

    def take_counts(self) -> dict[str, int]:
        """The counts of this thread's requests since its last call: a unit's, for its manifest
        (every request of a unit is answered when the unit is done, so none is left over). The
        thread's next request starts a new unit, ranked after every unit so far."""
        counts = self._thread_counts()
        with self._unit_lock:
            out = {k: int(counts.get(k, 0)) for k in COUNTS}
            counts.clear()
            self._unit.rank = None
        return out
