"""``synth llm serve`` stops the server it started on every way out (Ctrl-C, SIGTERM, during
startup, with SIGINT ignored by the shell that started it) and fails when the server dies. A
stand-in for vLLM's API server (a plain HTTP server answering ``/v1/models``) takes its place
through ``UNISYNTH_LLM_PYTHON``, so these run in seconds."""

from __future__ import annotations

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
    """``start(...)`` runs ``synth llm serve`` on the stand-in and returns (process, the stand-in's pid file)."""
    fake = tmp_path / "python"
    fake.write_text(FAKE_VLLM)
    fake.chmod(0o755)
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    started = []

    def start(delay=0.0, life=3600.0, ignore_sigint=False):
        port = free_port()
        pid_file = tmp_path / f"fake-{port}.pid"
        env = {**os.environ, "UNISYNTH_LLM_PYTHON": str(fake), "FAKE_VLLM_PID": str(pid_file),
               "FAKE_VLLM_DELAY": str(delay), "FAKE_VLLM_LIFE": str(life)}  # fmt: skip
        cmd = [sys.executable, "-m", "synth.cli.main", "llm", "serve", "--model", str(model), "--port", str(port),
               "--log", str(tmp_path / f"vllm-{port}.log"), "--timeout", "60"]  # fmt: skip
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
