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


def kill_after_units(cmd: list[str], out: Path, units: int = 2, timeout: float = 240) -> int:
    """Start ``cmd`` (a ``synth`` run into ``out``) in its own process group, SIGKILL the group
    once ``units`` units are committed, and return how many were committed by then."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + timeout
    while time.time() < deadline and len(list((out / "_units").glob("part-*.json"))) < units:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return len(list((out / "_units").glob("part-*.json")))
