"""The driver's own lane while an embedded Ray starts: it takes units from the front of the shared
queue until closed, never one after, and reports each unit's manifest or error."""

from __future__ import annotations

import threading
from collections import deque

from synth.driver_lane import DriverLane
from synth.pipeline import Unit


class FakeWorker:
    """Runs a unit when the test lets it; unit 2 fails."""

    def __init__(self):
        self.go = threading.Semaphore(0)

    def run(self, unit: Unit) -> dict:
        self.go.acquire()
        if unit.index == 2:
            raise OSError("disk full")
        return {"unit": unit.index, "counts": {"kept": unit.end - unit.start}}


def units(n: int) -> deque[Unit]:
    return deque(Unit(i, 10 * i, 10 * i + 10) for i in range(n))


def test_the_lane_takes_units_until_closed_and_never_one_after():
    worker, queue = FakeWorker(), units(5)
    lane = DriverLane(worker, queue)
    worker.go.release(2)  # units 0 and 1 finish; the lane then waits in unit 2
    while len(lane.taken) < 3:
        threading.Event().wait(0.01)
    lane.close()
    left = list(queue)
    worker.go.release(10)
    lane.join(5)
    assert [u.index for u, _, _ in lane.finished()] == [0, 1, 2] and not lane.open
    assert [u.index for u in lane.taken] == [0, 1, 2]
    assert [u.index for u in left] == [3, 4] and list(queue) == left  # the rest is the scheduler's


def test_each_unit_comes_back_once_with_its_manifest_or_its_error():
    worker, queue = FakeWorker(), units(3)
    worker.go.release(3)
    lane = DriverLane(worker, queue)
    lane.join(5)
    done = lane.finished()
    assert [(u.index, m and m["unit"], type(e).__name__ if e else None) for u, m, e in done] == [
        (0, 0, None),
        (1, 1, None),
        (2, None, "OSError"),
    ]
    assert lane.finished() == [] and not lane.open
