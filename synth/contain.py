"""Run code on untrusted files in a child process, so a hang or a crash in a C++ parser costs a
child, never the worker.

The child comes from the forkserver: a new child is a fork of the server process, so it starts in
milliseconds instead of paying the imports, and it never inherits the caller's state (a plain fork
of a process that has run an OpenCascade boolean, or holds a GL context, can deadlock). The server
is one per process and imports what `preload` names when it starts, so the first Contained to
start decides its preload; each child imports its own preload again on start-up (free when the
server had them), so the timeout always counts the work alone. One child serves every call; it is
killed when a call runs past the timeout, and a fresh one is forked on the next call.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ClassVar, TypeVar

START_TIMEOUT = 300.0  # for a child to come up: the first one waits for the server's imports
T = TypeVar("T")
_PRELOAD: set[str] = set()  # every module asked for so far: the server, when it starts, takes them all


class Reject(Exception):
    """An input refused with a row's reason code. Each door for files from outside subclasses it
    (CadReject, AssetReject) and names the codes it may raise; its args are (reason, detail), so
    it pickles from a child to the parent unchanged."""

    REASONS: ClassVar[tuple[str, ...]] = ("decode_error", "timeout")  # a child's crash, a hang

    def __init__(self, reason: str, detail: str):
        if reason not in self.REASONS:
            raise ValueError(f"unknown reason {reason!r}; one of {self.REASONS}")
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def _start_child(modules: tuple[str, ...]) -> int:
    """The child's first task: import what its calls need, then say who it is."""
    for name in modules:
        importlib.import_module(name)
    return os.getpid()


class Contained:
    """Top-level (picklable) functions called in a long-lived child process, with a per-call
    timeout in seconds. Raises `reject` ("timeout" past the timeout, "decode_error" when the child
    dies) and passes any exception the function raises through as it was raised (a Reject keeps
    its class, reason and detail)."""

    def __init__(self, timeout: float = 60.0, preload: Sequence[str] = (), reject: type[Reject] = Reject):
        self.timeout = timeout
        self.preload = tuple(preload)
        self.reject = reject
        self._pool: ProcessPoolExecutor | None = None
        self._child: int | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id, None before the first call and after close()."""
        return self._child

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) in the child; fn and args must pickle (fn by its module and name)."""
        pool = self._start()
        future = pool.submit(fn, *args)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            self.close()
            raise self.reject("timeout", f"{_name(fn)} ran past {self.timeout} s") from None
        except BrokenProcessPool as e:
            self.close()
            raise self.reject("decode_error", f"the child process crashed in {_name(fn)}: {e}") from None

    def _start(self) -> ProcessPoolExecutor:
        """The pool, its child up with its imports done, so the timeout counts the call alone."""
        if self._pool is None:
            ctx = multiprocessing.get_context("forkserver")
            _PRELOAD.update(self.preload)
            ctx.set_forkserver_preload(sorted(_PRELOAD))  # effective when this process starts its server
            self._pool = ProcessPoolExecutor(1, mp_context=ctx)
            try:
                self._child = self._pool.submit(_start_child, self.preload).result(timeout=START_TIMEOUT)
            except (FutureTimeout, BrokenProcessPool) as e:
                self.close()
                raise RuntimeError(f"the contained child process did not start: {e!r}") from e
        return self._pool

    def close(self) -> None:
        """Kill the child (a call in it may be hung) and drop the pool."""
        if self._pool is not None:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool, self._child = None, None

    def __getstate__(self) -> dict:  # a stage holding one pickles without its child
        return {**self.__dict__, "_pool": None, "_child": None}


class Reader(Contained):
    """A door for untrusted files: the checks that need no parsing (`precheck`: the suffix, empty
    data, the byte cap) in the caller, the parser (`load`) in the child. Subclasses name both,
    the modules to preload and their Reject class."""

    load: ClassVar[Callable[..., Any]]
    precheck: ClassVar[Callable[..., str]]
    modules: ClassVar[tuple[str, ...]] = ()
    rejects: ClassVar[type[Reject]] = Reject

    def __init__(self, timeout: float = 60.0):
        super().__init__(timeout, self.modules, self.rejects)

    def read(self, data: bytes, suffix: str, limits: Any) -> Any:
        type(self).precheck(data, suffix, limits)  # a file refused unparsed never travels to the child
        return self.call(type(self).load, data, suffix, limits)


def precheck(data: bytes, suffix: str, accepted: Sequence[str], max_bytes: int, reject: type[Reject]) -> str:
    """The suffix, lower case with its dot, once the checks that need no parsing pass."""
    suffix = suffix.lower() if suffix.startswith(".") else f".{suffix.lower()}"
    if suffix not in accepted:
        raise reject("decode_error", f"unknown file type {suffix!r}; accepted: {', '.join(accepted)}")
    if not data:
        raise reject("decode_error", "the file is empty")
    if len(data) > max_bytes:
        raise reject("too_large", f"{len(data)} bytes exceeds the cap of {max_bytes}")
    return suffix


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
