"""A small client for OpenAI-compatible chat servers (vLLM's ``/v1/chat/completions``).

Synchronous, with a per-request timeout, retries with backoff on connection errors and 5xx, and
token counts and cost per answer. Every answer is untrusted text: callers parse and validate it.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from synth.config import Strict


class LlmConfig(Strict):
    base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1"
    )
    model: str | None = Field(None, description="model name on that server; None = the server's first model")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key, if any")
    timeout_s: float = Field(120.0, gt=0, description="per request")
    retries: int = Field(
        2, ge=0, le=10, description="extra tries on connection errors, 5xx and invalid answers"
    )
    max_tokens: int = Field(2048, ge=16)
    temperature: float = Field(0.2, ge=0, le=2)
    price_in_per_mtok: float = Field(
        0.0, ge=0, description="cost per million prompt tokens, for the row's meta"
    )
    price_out_per_mtok: float = Field(0.0, ge=0, description="cost per million answer tokens")


class LlmSetupError(RuntimeError):
    """No usable server: the run fails before any work, saying how to provide one."""


class LlmError(RuntimeError):
    """A request that failed after its retries (the row becomes ``llm_error``)."""

    reason = "llm_error"


@dataclass(frozen=True)
class Answer:
    text: str
    tokens_in: int
    tokens_out: int
    cost: float


class LlmClient:
    def __init__(self, cfg: LlmConfig):
        if not cfg.base_url:
            raise LlmSetupError(
                "no LLM configured: pass --set llm.base_url=http://HOST:PORT/v1 (any OpenAI-compatible server, "
                "e.g. vLLM's `python -m vllm.entrypoints.openai.api_server --model DIR`)"
            )
        self.cfg = cfg
        self.base = cfg.base_url.rstrip("/")
        key = os.environ.get(cfg.api_key_env)
        self.headers = {
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {key}"} if key else {}),
        }
        self.model = cfg.model

    def _request(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path, data=data, headers=self.headers, method="POST" if body else "GET"
        )
        with urllib.request.urlopen(req, timeout=self.cfg.timeout_s) as resp:  # noqa: S310 - the configured server
            return json.loads(resp.read().decode())

    def connect(self) -> str:
        """Check the server answers and resolve the model name (fails fast with what to do)."""
        try:
            models = [m["id"] for m in self._request("/models").get("data", [])]
        except (OSError, ValueError, KeyError) as e:
            raise LlmSetupError(
                f"the LLM server at {self.base} does not answer ({e}); start it or fix llm.base_url"
            ) from e
        if self.model is None:
            if not models:
                raise LlmSetupError(f"the LLM server at {self.base} lists no models; set llm.model")
            self.model = models[0]
        return self.model

    def chat(self, messages: list[dict[str, Any]], seed: int | None = None) -> Answer:
        if self.model is None:
            self.connect()
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.cfg.max_tokens,
            "temperature": self.cfg.temperature,
        }
        if seed is not None:
            body["seed"] = seed
        last: Exception | None = None
        for attempt in range(self.cfg.retries + 1):
            try:
                out = self._request("/chat/completions", body)
                text = out["choices"][0]["message"]["content"] or ""
                usage = out.get("usage") or {}
                tin, tout = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
                cost = (tin * self.cfg.price_in_per_mtok + tout * self.cfg.price_out_per_mtok) / 1e6
                return Answer(text, tin, tout, round(cost, 8))
            except urllib.error.HTTPError as e:
                last = e
                if e.code < 500:
                    break  # a request the server will never accept
            except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
                last = e
            time.sleep(min(8.0, 0.5 * 2**attempt))
        raise LlmError(f"{self.base}: {type(last).__name__}: {last}")
