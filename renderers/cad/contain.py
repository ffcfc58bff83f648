"""Read untrusted CAD files in a child process, so a hang or a crash in OpenCascade costs a child.

The child comes from a forkserver whose server process has already imported build123d, trimesh and
this package (set_forkserver_preload): a new child is a fork of that server, so it starts in
milliseconds instead of paying the imports (seconds), and it never inherits the caller's state
(a plain fork of a process that has run an OpenCascade boolean deadlocks). One child serves every
call; it is killed when a read runs past the timeout and a fresh one is forked on the next call.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

from renderers.cad.part import PartViews
from renderers.cad.read import CadReject, ReadLimits, precheck, read_part

PRELOAD = ["build123d", "trimesh", "renderers.cad.read"]
START_TIMEOUT = 300.0  # for a child to come up: the first one waits for the server's imports


def _pid() -> int:
    return os.getpid()


class Contained:
    """read_part in a long-lived child process with a per-read timeout (seconds). Raises
    CadReject: "timeout" past the timeout, "decode_error" when the child dies, and the child's
    own CadReject as it was raised."""

    def __init__(self, timeout: float = 60.0):
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._child: int | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id, None before the first read and after close()."""
        return self._child

    def read(self, data: bytes, suffix: str, limits: ReadLimits) -> PartViews:
        precheck(data, suffix, limits)  # a file refused unparsed never travels to the child
        pool = self._start()
        future = pool.submit(read_part, data, suffix, limits)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            self.close()
            raise CadReject("timeout", f"reading the {suffix} file ran past {self.timeout} s") from None
        except BrokenProcessPool as e:
            self.close()
            raise CadReject("decode_error", f"the CAD kernel crashed: {e}") from None

    def _start(self) -> ProcessPoolExecutor:
        """The pool, its child up and running, so the timeout counts the read alone."""
        if self._pool is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)  # effective when this process starts its server
            self._pool = ProcessPoolExecutor(1, mp_context=ctx)
            try:
                self._child = self._pool.submit(_pid).result(timeout=START_TIMEOUT)
            except (FutureTimeout, BrokenProcessPool) as e:
                self.close()
                raise RuntimeError(f"the CAD child process did not start: {e!r}") from e
        return self._pool

    def close(self) -> None:
        """Kill the child (a read in it may be hung) and drop the pool."""
        if self._pool is not None:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool, self._child = None, None

    def __getstate__(self) -> dict:  # a stage holding a reader pickles without its child
        return {"timeout": self.timeout, "_pool": None, "_child": None}
