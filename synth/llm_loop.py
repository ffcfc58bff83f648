"""One event loop and one HTTP session per LLM client, on a thread of their own, for the worker's life.

A stage submits a batch's requests here and returns at once, so the next batches' requests go out
while earlier answers are still coming, and ``llm.concurrency`` requests are in flight whatever
``runtime.batch_size`` is. (A loop and a session per batch held at most one batch in flight, and
the slowest answer of each batch held the rest back.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import heapq
import itertools
import threading
from collections.abc import AsyncIterator, Coroutine
from typing import Any


class Slots:
    """At most ``n`` requests in flight. A waiting retry goes before every waiting first ask, and
    within each, the oldest unit's (lowest ``rank``) before later ones', then first come first
    served. A row's retry can only start once its last answer came back, so its chain of samples
    is its unit's critical path; and a worker holds several units at once, so with their first
    asks interleaved they all reached their tails together and finished together, the requests in
    flight falling at each such boundary. Oldest first, the units finish one after another while
    the later ones' first asks fill the slots. Used on the loop's thread only."""

    def __init__(self, n: int):
        self.free = n
        self.waiting: list[tuple[bool, int, int, asyncio.Future]] = []  # a heap: first ask?, rank, arrival
        self.arrivals = itertools.count()

    @contextlib.asynccontextmanager
    async def take(self, retry: bool, rank: int = 0) -> AsyncIterator[None]:
        if self.free > 0 and not self.waiting:
            self.free -= 1
        else:
            turn = asyncio.get_running_loop().create_future()
            heapq.heappush(self.waiting, (not retry, rank, next(self.arrivals), turn))
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release()  # the slot came with the cancellation: pass it on
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self.waiting:
            turn = heapq.heappop(self.waiting)[-1]
            if not turn.done():  # skip waiters that were cancelled
                turn.set_result(None)
                return
        self.free += 1


class LoopThread:
    """A daemon thread running an asyncio loop that holds one ``aiohttp`` session and the
    :class:`Slots` bounding requests in flight. Coroutines are handed in from any thread with
    :meth:`submit`; :meth:`close` (or the client's finalizer) closes the session and stops it."""

    def __init__(self, concurrency: int, timeout_s: float):
        self.loop = asyncio.new_event_loop()
        # Cache reads and writes run off the loop (shared storage may be slow), up to one per request in flight.
        workers = max(4, min(64, concurrency))
        self.loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(workers, "unisynth-llm-io"))
        self.thread = threading.Thread(target=self.loop.run_forever, name="unisynth-llm", daemon=True)
        self.thread.start()
        self.session, self.slots = self.submit(self._open(concurrency, timeout_s)).result()

    @staticmethod
    async def _open(concurrency: int, timeout_s: float):
        import aiohttp

        # No connection cap of aiohttp's own (100 by default, which would silently bound a larger
        # llm.concurrency): the slots are the one bound.
        connector = aiohttp.TCPConnector(limit=0)
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s), connector=connector)
        return session, Slots(concurrency)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        """Schedule ``coro`` on the loop; its result (or exception) arrives in the future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        """Close the session and stop the loop (idempotent; a no-op once the loop is gone)."""
        if self.loop.is_closed():
            return
        if self.thread.is_alive():
            # shutting down anyway: an unclosed socket is the worst case
            with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
                self.submit(self.session.close()).result(timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()
