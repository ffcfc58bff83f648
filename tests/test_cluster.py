"""A real two-node Ray cluster on this machine: a head with the job server and a second raylet;
a run submitted with ``ray job submit --working-dir .`` writes a valid output, both on a cluster
without authentication and on one with Ray 2.60's token authentication.

Ray 2.60 turns token authentication on for ``ray start --head`` whenever a token exists on the
head (``~/.ray/auth_token``, which any earlier local ``ray.init()`` writes), and a ``ray job
submit`` without ``RAY_AUTH_MODE=token`` and the token then fails. The token cluster reproduces
exactly that: a plain ``ray start --head`` beside a token, and a client elsewhere (another home)
that has only ``RAY_AUTH_MODE`` and ``RAY_AUTH_TOKEN``, as the README's cluster section says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synth.validate import validate
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _node_ports() -> list[str]:
    """Fresh ports for a node's agents: the defaults (52365, ...) are taken by the test session's
    own Ray, and a node whose agent cannot bind never accepts jobs ("No available agent")."""
    flags = (
        "--dashboard-agent-listen-port",
        "--dashboard-agent-grpc-port",
        "--runtime-env-agent-port",
        "--metrics-export-port",
    )
    return [str(x) for flag in flags for x in (flag, free_port())]


@pytest.fixture(params=["disabled", "token"])
def cluster(request, tmp_path_factory):
    """The head, a second node, and ``client``: the environment a submitting user has."""
    if not shutil.which("ray", path=str(BIN)):
        pytest.fail("ray CLI missing from the venv: pip install 'ray[default]'")
    temp = Path("/tmp") / f"rayc{os.getpid()}"  # Ray's socket paths must stay short
    gcs, dash = free_port(), free_port()
    home = tmp_path_factory.mktemp("home")  # no stale ~/.ray/auth_token from another cluster
    env = {**os.environ, "RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO": "0", "HOME": str(home)}
    for key in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        env.pop(key, None)
    if request.param == "disabled":
        env["RAY_AUTH_MODE"] = "disabled"
        client = joining = env
    else:
        # The head finds the token in its home and turns authentication on by itself; a joining
        # node does not (it fails "InvalidAuthToken ... RAY_AUTH_MODE is currently 'disabled'"),
        # so it gets RAY_AUTH_MODE=token; the client has only the token's value, in another home.
        subprocess.run(
            [BIN / "ray", "get-auth-token", "--generate"], env=env, check=True, capture_output=True
        )
        token = subprocess.run(  # what the README has the user copy from the head
            [BIN / "ray", "get-auth-token"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        client = {**env, "HOME": str(tmp_path_factory.mktemp("laptop")), "RAY_AUTH_MODE": "token",
                  "RAY_AUTH_TOKEN": token}  # fmt: skip
        joining = {**env, "RAY_AUTH_MODE": "token"}
    head = subprocess.Popen(
        [BIN / "ray", "start", "--head", "--block", "--port", str(gcs), "--num-cpus", "1",
         "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dash), "--temp-dir", str(temp),
         "--include-dashboard", "true", "--ray-client-server-port", str(free_port()), *_node_ports()],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    worker = None
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            ok = subprocess.run(
                [BIN / "ray", "job", "list", "--address", f"http://127.0.0.1:{dash}"],
                env=client,
                capture_output=True,
            )
            if ok.returncode == 0:
                break
            time.sleep(2)
        else:
            pytest.fail("the Ray head's job server did not come up in 120 s")
        worker = subprocess.Popen(
            [BIN / "ray", "start", "--block", "--address", f"127.0.0.1:{gcs}", "--num-cpus", "1", *_node_ports()],
            env=joining, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        yield {"dashboard": f"http://127.0.0.1:{dash}", "gcs": f"127.0.0.1:{gcs}", "env": client,
               "auth": request.param}  # fmt: skip
    finally:
        for proc in (worker, head):
            if proc is not None:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


def test_job_submit_on_a_two_node_cluster(cluster, tmp_path):
    """The README's `ray job submit ... -- synth ...`, with the client environment it describes."""
    import json

    env = cluster["env"]
    nodes_up = False
    for _ in range(60):  # wait for the second node to register
        out = subprocess.run(
            [BIN / "ray", "status", "--address", cluster["gcs"]], env=env, capture_output=True, text=True
        )
        if out.stdout.count("node_") >= 2:
            nodes_up = True
            break
        time.sleep(2)
    assert nodes_up, "second node did not join"
    if cluster["auth"] == "token":  # the found problem: a client without the token is refused
        bare = {k: v for k, v in env.items() if k not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
        refused = subprocess.run(
            [BIN / "ray", "job", "submit", "--address", cluster["dashboard"], "--", "true"],
            env=bare, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert refused.returncode != 0
        assert "no authentication token was found" in refused.stdout + refused.stderr, refused.stderr[-2000:]
    out = tmp_path / "job_out"
    cmd = [
        BIN / "ray", "job", "submit", "--address", cluster["dashboard"], "--working-dir", str(ROOT), "--",
        str(BIN / "synth"), "text-render", "--num", "8", "--out", str(out), "--seed", "2", "--quiet",
        "--address", "auto", "--set", "runtime.unit_size=2", "--set", "render.sizes=[[512,512]]",
        "--set", "runtime.workers=2",
    ]  # fmt: skip
    for _ in range(20):  # the head answers `job list` before its job agent is ready
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
        if "No available agent" not in proc.stdout + proc.stderr:
            break
        time.sleep(3)
    assert proc.returncode == 0 and "succeeded" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = validate(str(out))
    assert result.ok, result.problems
    assert result.rows == 8
    manifests = [json.loads(p.read_text()) for p in (out / "_units").glob("*.json")]
    assert len(manifests) == 4
