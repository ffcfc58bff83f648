"""The evaluators' unit runner with a toy scorer: a failed unit leaves the others committed and is
the only one redone; a worker that dies is restarted and set up again; units of whole groups."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synth.evaluate.units import EvalError, EvalUnit, open_work, plan_by_groups, run_units
from synth.writer import OutputDir


class Squares:
    """Scores unit rows as their squares; fails a unit while a marker file names it, or kills its
    worker process once (``die``)."""

    def __init__(self, markers: str):
        self.markers = markers
        self.calls = 0

    def setup(self) -> None:
        self.calls += 1

    def score_unit(self, unit: EvalUnit) -> list[dict]:
        assert self.calls, "score_unit before setup"
        marker = Path(self.markers) / f"fail-{unit.index}"
        if marker.exists():
            raise ValueError(f"unit {unit.index} refused")
        death = Path(self.markers) / f"die-{unit.index}"
        if death.exists():
            death.unlink()
            os._exit(1)
        return [{"row": x, "square": x * x} for x in unit.items]


def units() -> list[EvalUnit]:
    return plan_by_groups([[0, 1], [2], [3, 4, 5], [6]], 2)


def test_units_are_whole_groups():
    assert [u.items for u in units()] == [(0, 1), (2, 3, 4, 5), (6,)]
    assert [u.rows for u in units()] == [2, 4, 1]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_failed_unit_is_the_only_one_redone(workers, tmp_path, ray_session):
    work = OutputDir(str(tmp_path / "work"))
    open_work(work, "k1", {}, units(), overwrite=False)
    (tmp_path / "fail-1").touch()
    scorer = Squares(str(tmp_path))
    if workers == 0:
        with pytest.raises(ValueError, match="unit 1 refused"):  # in this process it raises as it is
            run_units(scorer, units(), work, "k1", workers=0, progress=False)
    else:
        with pytest.raises(EvalError, match="1 of 3 units failed"):
            run_units(scorer, units(), work, "k1", workers=workers, progress=False)
    (tmp_path / "fail-1").unlink()
    records, stats = run_units(Squares(str(tmp_path)), units(), work, "k1", workers=workers, progress=False)
    assert [r["square"] for r in records] == [x * x for x in range(7)]
    assert stats["units_run"] == (2 if workers == 0 else 1)  # in-process, unit 2 never started


def test_a_dead_worker_is_restarted_and_set_up_again(tmp_path, ray_session):
    work = OutputDir(str(tmp_path / "work"))
    open_work(work, "k", {}, units(), overwrite=False)
    (tmp_path / "die-0").touch()
    records, stats = run_units(Squares(str(tmp_path)), units(), work, "k", workers=1, progress=False)
    assert len(records) == 7 and stats["units_run"] == 3


def test_another_key_is_refused_unless_overwrite(tmp_path):
    work = OutputDir(str(tmp_path / "work"))
    open_work(work, "k1", {"pred": "a"}, units(), overwrite=False)
    run_units(Squares(str(tmp_path)), units(), work, "k1", workers=0, progress=False)
    with pytest.raises(EvalError, match="other predictions or settings"):
        open_work(work, "k2", {"pred": "b"}, units(), overwrite=False)
    open_work(work, "k2", {"pred": "b"}, units(), overwrite=True)
    assert [p.name for p in (tmp_path / "work").rglob("*") if p.is_file()] == ["eval.json"]
