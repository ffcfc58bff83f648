"""The ``synth`` CLI run in-process, as the tests call it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from click.testing import CliRunner, Result

from synth.cli.main import cli


def invoke(*args: str) -> Result:
    """Exceptions propagate (``catch_exceptions=False``), so a failure shows its traceback."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def kill_when(cmd: list[str], ready, timeout: float = 240, env: dict | None = None) -> bool:
    """Start ``cmd`` in its own process group, SIGKILL the group as soon as ``ready()`` is true
    (or at ``timeout``), and return whether it was."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env
    )
    deadline = time.time() + timeout
    while time.time() < deadline and not ready() and proc.poll() is None:
        time.sleep(0.05)
    hit = ready()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return hit


def kill_after_units(cmd: list[str], out: Path, units: int = 2, timeout: float = 240) -> int:
    """Start ``cmd`` (a ``synth`` run into ``out``) in its own process group, SIGKILL the group
    once ``units`` units are committed, and return how many were committed by then."""
    kill_when(cmd, lambda: len(list((out / "_units").glob("part-*.json"))) >= units, timeout)
    return len(list((out / "_units").glob("part-*.json")))
