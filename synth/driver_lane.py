"""Units the driver runs itself while the embedded Ray starts.

Starting a local Ray takes one to several seconds (its processes import and register), during
which the machine's cores are mostly idle and no unit can run. So where the runner starts that Ray
itself and the pipeline is one segment of plain tasks (no model actors, no GPU shares), a thread
of the driver takes units from the front of the queue meanwhile, runs each through the same
:class:`synth.pools.SegmentWorker` a Ray task would, and commits it. It takes no new unit once Ray
is up; the scheduler runs the rest. A unit's output does not depend on where it ran, so the
result is the same bytes. Joining a cluster never uses this: the driver's machine may not be one
that should do the work.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from synth.pipeline import Unit
from synth.pools import SegmentWorker


class DriverLane:
    """A thread that runs units from ``queue`` (shared with whoever schedules the rest) until
    :meth:`close`; what each unit came to is collected for the scheduler."""

    def __init__(self, worker: SegmentWorker, queue: deque[Unit]):
        self.worker, self.queue = worker, queue
        self.taken: list[Unit] = []
        self._results: deque[tuple[Unit, dict[str, Any] | None, BaseException | None]] = deque()
        self._closed = False
        self._lock = threading.Lock()  # no unit leaves the queue once close() has returned
        self._thread = threading.Thread(target=self._loop, name="synth-driver-lane", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._closed or not self.queue:
                    return
                unit = self.queue.popleft()
                self.taken.append(unit)
            try:
                self._results.append((unit, self.worker.run(unit), None))
            except Exception as e:  # noqa: BLE001 - reported as the unit's failure, as a task's would be
                self._results.append((unit, None, e))

    def close(self) -> None:
        """Take no new unit; the one in hand is finished. The queue is the scheduler's after this."""
        with self._lock:
            self._closed = True

    @property
    def open(self) -> bool:
        """A unit is running or finished and not yet collected."""
        return self._thread.is_alive() or bool(self._results)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def finished(self) -> list[tuple[Unit, dict[str, Any] | None, BaseException | None]]:
        """(unit, manifest, error) of the units finished since the last call."""
        done = []
        while self._results:
            done.append(self._results.popleft())
        return done
