"""``synth llm serve`` stops the server it started on every way out (Ctrl-C, SIGTERM, during
startup, with SIGINT ignored by the shell that started it) and fails when the server dies. A
stand-in for vLLM's API server (a plain HTTP server answering ``/v1/models``) takes its place
through ``UNISYNTH_LLM_PYTHON``, so these run in seconds."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ports import free_port

FAKE_VLLM = f"""#!{sys.executable}
# called as: python -m vllm.entrypoints.openai.api_server --model M --host H --port P ...
import http.server, os, sys, threading, time
port = int(sys.argv[sys.argv.index("--port") + 1])
open(os.environ["FAKE_VLLM_PID"] + ".args", "w").write("\\n".join(sys.argv[1:]))
open(os.environ["FAKE_VLLM_PID"], "w").write(str(os.getpid()))
time.sleep(float(os.environ.get("FAKE_VLLM_DELAY", "0")))

class Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{{"data": [{{"id": "m"}}]}}')
    def log_message(self, *a):
        pass

server = http.server.HTTPServer(("127.0.0.1", port), Models)
threading.Thread(target=server.serve_forever, daemon=True).start()
time.sleep(float(os.environ.get("FAKE_VLLM_LIFE", "3600")))
sys.exit(3)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of an exited child counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture
def serve(tmp_path):
    """``start(...)`` runs ``synth llm serve`` on the stand-in and returns (process, the stand-in's pid
    file); the stand-in writes the arguments it was given beside it (``.args``)."""
    fake = tmp_path / "python"
    fake.write_text(FAKE_VLLM)
    fake.chmod(0o755)
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    started = []

    def start(delay=0.0, life=3600.0, ignore_sigint=False, config=None, args=()):
        (model / "config.json").write_text(json.dumps(config or {}))
        port = free_port()
        pid_file = tmp_path / f"fake-{port}.pid"
        env = {**os.environ, "UNISYNTH_LLM_PYTHON": str(fake), "FAKE_VLLM_PID": str(pid_file),
               "FAKE_VLLM_DELAY": str(delay), "FAKE_VLLM_LIFE": str(life)}  # fmt: skip
        cmd = [sys.executable, "-m", "synth.cli.main", "llm", "serve", "--model", str(model), "--port", str(port),
               "--log", str(tmp_path / f"vllm-{port}.log"), "--timeout", "60", *args]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            # as `cmd &` in a non-interactive shell starts it
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None,
        )
        started.append(proc)
        return proc, pid_file

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
    for pid_file in tmp_path.glob("fake-*.pid"):  # a stand-in left behind by a failed test
        if pid_file.read_text() and alive(pid := int(pid_file.read_text())):
            os.kill(pid, signal.SIGKILL)


def read_until(proc, text: str, timeout: float = 60.0) -> str:
    """Output of ``proc`` up to and including the line that holds ``text``."""
    seen, deadline = "", time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while text not in seen:
            assert time.monotonic() < deadline and proc.poll() is None, seen
            if sel.select(timeout=1.0):
                seen += proc.stdout.readline()
    return seen


def wait_for_pid(pid_file: Path) -> int:
    for _ in range(300):
        if pid_file.exists() and pid_file.read_text():
            return int(pid_file.read_text())
        time.sleep(0.1)
    raise AssertionError("the stand-in server never started")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_ready_stops_our_server(serve, sig):
    proc, pid_file = serve()
    read_until(proc, "ready: --set llm.base_url=")
    pid = wait_for_pid(pid_file)
    proc.send_signal(sig)
    assert proc.wait(30) == 0
    assert "stopping vLLM" in proc.stdout.read()
    assert not alive(pid)


def test_ctrl_c_during_startup_stops_our_server(serve):
    proc, pid_file = serve(delay=60)
    pid = wait_for_pid(pid_file)  # started, not answering yet
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert "ready" not in proc.stdout.read()
    assert not alive(pid)


def test_ctrl_c_works_when_the_shell_started_us_ignoring_it(serve):
    proc, pid_file = serve(ignore_sigint=True)
    read_until(proc, "ready: --set llm.base_url=")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert not alive(wait_for_pid(pid_file))


def test_a_server_that_dies_is_an_error(serve):
    proc, _ = serve(life=2)
    read_until(proc, "ready: --set llm.base_url=")
    assert proc.wait(30) != 0
    assert "vLLM exited with code 3" in proc.stdout.read()


def served_args(pid_file: Path) -> list[str]:
    wait_for_pid(pid_file)
    return Path(str(pid_file) + ".args").read_text().split("\n")


def flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def test_a_2048_token_model_is_served_with_its_own_context(serve):
    """It was started with --max-model-len 4096, which vLLM refuses ("greater than the derived
    max_model_len"): the default is now the model's own, capped, and said at start."""
    proc, pid_file = serve(config={"text_config": {"max_position_embeddings": 2048}})  # a VLM's config
    output = read_until(proc, "ready: --set llm.base_url=")
    assert "context: 2048 tokens (the model's own, max_position_embeddings)" in output
    assert flag(served_args(pid_file), "--max-model-len") == "2048"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0


@pytest.mark.parametrize(
    ("config", "requested", "expected", "said"),
    [
        ({"max_position_embeddings": 2048}, None, 2048, "the model's own, max_position_embeddings"),
        ({"max_position_embeddings": 131072}, None, 8192, "the model allows 131072 (max_position_embeddings); capped"),
        ({"max_position_embeddings": 131072}, 32768, 32768, "--max-model-len"),
        ({"max_position_embeddings": 2048}, 1024, 1024, "--max-model-len"),
        ({}, None, None, "the model's config.json names no context length"),
        ({}, 4096, 4096, "--max-model-len"),  # nothing to check it against: vLLM takes it as given
    ],
    ids=["own", "capped", "explicit-long", "explicit-short", "unknown", "unknown-explicit"],
)  # fmt: skip
def test_the_context_length_is_the_models_capped_or_the_one_asked(
    tmp_path, config, requested, expected, said
):
    from synth.llm_server import choose_max_model_len, server_command

    (tmp_path / "config.json").write_text(json.dumps(config))
    length, why = choose_max_model_len(str(tmp_path), requested)
    assert length == expected and said in why
    cmd = server_command(str(tmp_path), "127.0.0.1", 8000, length, "guidance", "/py")
    assert flag(cmd, "--max-model-len") == (None if expected is None else str(expected))


def test_a_context_longer_than_the_model_is_refused_before_start(serve):
    proc, pid_file = serve(config={"max_position_embeddings": 2048}, args=("--max-model-len", "4096"))
    assert proc.wait(30) == 2
    output = proc.stdout.read()
    assert "--max-model-len 4096 is longer than the model allows: 2048 (max_position_embeddings" in output
    assert not pid_file.exists()  # vLLM was never started


def test_the_derived_length_follows_vllms_rules(tmp_path):
    """RoPE factors multiply the length unless the length already includes them (YaRN); the
    tokenizer's model_max_length bounds it; the smallest key wins."""
    from synth.llm_server import model_context

    def context(config, tokenizer=None):
        (tmp_path / "config.json").write_text(json.dumps(config))
        (tmp_path / "tokenizer_config.json").write_text(json.dumps(tokenizer or {}))
        return model_context(str(tmp_path))

    assert (
        context({"max_position_embeddings": 2048, "rope_scaling": {"type": "linear", "factor": 4.0}})[0]
        == 8192
    )
    assert (
        context({"max_position_embeddings": 32768, "rope_scaling": {"rope_type": "yarn", "factor": 4.0}})[0]
        == 32768
    )
    assert (
        context(
            {
                "max_position_embeddings": 4096,
                "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
            }
        )[0]
        == 4096
    )
    assert context({"max_position_embeddings": 4096}, {"model_max_length": 1024}) == (
        1024,
        "tokenizer model_max_length",
    )
    assert context({"max_position_embeddings": 4096, "n_positions": 1024}) == (1024, "n_positions")
    assert context({"hidden_size": 8}) is None
