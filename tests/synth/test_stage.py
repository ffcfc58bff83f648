"""The stage contract: one failing row is marked, its batch-mates go on."""

from __future__ import annotations

from collections import Counter

import pytest

from synth.stage import Stage, is_open, mark, run_stages


class Tag(Stage):
    name = "tag"

    def __init__(self):
        self.calls: list[int] = []

    def process_batch(self, rows):
        self.calls.append(len(rows))
        return super().process_batch(rows)

    def process_row(self, row):
        row.setdefault("seen", []).append(self.name)
        return row


class FailOn(Stage):
    name = "failer"
    error_reason = "render_error"

    def __init__(self, bad: set[str]):
        self.bad = bad

    def process_row(self, row):
        if row["sample_id"] in self.bad:
            raise RuntimeError(f"cannot draw {row['sample_id']}")
        row["drawn"] = True
        return row


class Rejecter(Stage):
    name = "rejecter"

    def process_row(self, row):
        if row["sample_id"] == "r1":
            mark(row, "too_small", "8 px")
        return row


def make_rows(n: int) -> list[dict]:
    return [{"sample_id": f"r{i}"} for i in range(n)]


def test_statuses_default_to_kept():
    rows = run_stages([Tag()], make_rows(5), batch_size=2)
    assert [r["status"] for r in rows] == ["kept"] * 5
    assert all(r.get("reason") is None for r in rows)
    assert all(r["seen"] == ["tag"] for r in rows)


def test_batching():
    stage = Tag()
    run_stages([stage], make_rows(5), batch_size=2)
    assert stage.calls == [2, 2, 1]


def test_only_the_failing_row_is_marked():
    after = Tag()
    rows = run_stages([FailOn({"r2"}), after], make_rows(4), batch_size=4)
    by_id = {r["sample_id"]: r for r in rows}
    bad = by_id["r2"]
    assert bad["status"] == "rejected"  # render_error is a rejection
    assert bad["reason"] == "render_error"
    assert "failer" in bad["detail"] and "RuntimeError" in bad["detail"] and "cannot draw r2" in bad["detail"]
    assert "drawn" not in bad
    assert "seen" not in bad  # later stages skip closed rows
    for sid in ("r0", "r1", "r3"):
        assert by_id[sid]["status"] == "kept"
        assert by_id[sid]["drawn"] is True
        assert by_id[sid]["seen"] == ["tag"]
    assert after.calls == [3]


def test_default_error_reason_gives_error_status():
    class Boom(Stage):
        name = "boom"

        def process_row(self, row):
            raise OSError("disk")

    rows = run_stages([Boom()], make_rows(2), batch_size=8)
    assert [r["status"] for r in rows] == ["error", "error"]
    assert [r["reason"] for r in rows] == ["io_error", "io_error"]


def test_rejected_rows_skip_later_stages():
    after = Tag()
    rows = run_stages([Rejecter(), after], make_rows(3), batch_size=8)
    assert [r["status"] for r in rows] == ["kept", "rejected", "kept"]
    assert rows[1]["reason"] == "too_small"
    assert "seen" not in rows[1]


def test_seconds_are_counted_per_stage():
    seconds = Counter()
    run_stages([Tag(), Rejecter()], make_rows(3), batch_size=2, seconds=seconds)
    assert set(seconds) == {"tag", "rejecter"}
    assert all(v >= 0 for v in seconds.values())


def test_mark_and_is_open():
    row = {"sample_id": "x"}
    assert is_open(row)
    row["status"] = "kept"
    assert is_open(row)
    mark(row, "llm_error", "x" * 2000)
    assert row["status"] == "error" and row["reason"] == "llm_error"
    assert len(row["detail"]) == 500
    assert not is_open(row)
    with pytest.raises(ValueError, match="unknown reason"):
        mark({}, "nope", "")


def test_base_stage_process_row_is_abstract():
    rows = run_stages([Stage()], make_rows(1), batch_size=1)
    assert rows[0]["status"] == "error"
    assert "NotImplementedError" in rows[0]["detail"]


class Deferred(Stage):
    """A stage that waits on a service: ``submit_batch`` starts, the returned callable finishes."""

    name = "deferred"

    def __init__(self, events: list, bad_finish: set[str] = frozenset()):
        self.events, self.bad_finish = events, bad_finish

    def submit_batch(self, rows):
        ids = [r["sample_id"] for r in rows]
        self.events.append(("submit", ids))

        def finish():
            self.events.append(("finish", ids))
            if len(rows) > 1 and self.bad_finish & set(ids):
                raise RuntimeError("a bad answer")
            for r in rows:
                r["answered"] = True

        return finish

    def process_batch(self, rows):
        if self.bad_finish & {r["sample_id"] for r in rows}:
            raise RuntimeError("a bad answer")
        return self.submit_batch(rows)() or rows


def test_a_waiting_stage_lets_the_next_batches_start():
    """Every batch is submitted before the first is collected; later stages see answered rows; a
    batch whose collection raises is redone row by row, and row order is kept."""
    events: list = []
    after = Tag()
    rows = run_stages([Tag(), Deferred(events, {"r3"}), after], make_rows(5), batch_size=2)
    assert events[:3] == [("submit", ["r0", "r1"]), ("submit", ["r2", "r3"]), ("submit", ["r4"])]
    assert events[3] == ("finish", ["r0", "r1"])
    assert [r["sample_id"] for r in rows] == [f"r{i}" for i in range(5)]
    assert [r["status"] for r in rows] == ["kept", "kept", "kept", "error", "kept"]
    assert "deferred: RuntimeError: a bad answer" in rows[3]["detail"] and "answered" not in rows[3]
    assert all(r["answered"] and r["seen"] == ["tag", "tag"] for r in rows if r["sample_id"] != "r3")
    assert after.calls == [2, 1, 1]  # batches after the waiting stage, in the order collected
