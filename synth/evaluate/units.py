"""Evaluators run like a pipeline: fixed units, scored on Ray across every core, committed one file
per unit, resumable.

The rows to score are split once into units (the plan, each unit's rows with a key over the
predictions and the settings, is recorded in ``WORK/eval.json``; the same predictions and
settings always plan the same units). Each unit is scored by a worker that set its
scorer up once (OCR engine, CLIP model, judge client) and committed as
``WORK/units/part-NNNNNN.json``, written under a temporary name and renamed, so a unit is there
whole or not at all. A rerun with the same key skips the committed units; one with another key
is refused unless ``overwrite``. The report is built from the committed units in plan order, so
one process, many workers, or a killed and resumed run give the same figures.

A scorer is a picklable object with ``setup()`` and ``score_unit(unit) -> list[dict]``; it knows
nothing of Ray, and runs in a plain loop with ``workers=0``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tqdm import tqdm

from synth.report import now
from synth.writer import OutputDir, shard_name

log = logging.getLogger(__name__)

PLAN_FILE = "eval.json"


class EvalError(RuntimeError):
    """The evaluation cannot start or finish; the message says why and what to do."""


@dataclass(frozen=True)
class EvalUnit:
    """A fixed slice of the rows to score: ``items`` is what the scorer needs to find them."""

    index: int
    items: tuple
    rows: int


class Scorer(Protocol):
    def setup(self) -> None: ...

    def score_unit(self, unit: EvalUnit) -> list[dict[str, Any]]: ...


def _unit_file(index: int) -> str:
    return f"units/{shard_name(index)}.json"


def committed(work: OutputDir, unit: EvalUnit, key: str) -> list[dict[str, Any]] | None:
    """The unit's records when it is committed under ``key``, else None."""
    try:
        data = work.read_json(_unit_file(unit.index))
    except (OSError, json.JSONDecodeError):
        return None
    if not data or data.get("key") != key or data.get("unit") != unit.index:
        return None
    return data["records"] if len(data.get("records", [])) == data.get("rows") else None


def commit(work: OutputDir, unit: EvalUnit, key: str, records: list[dict[str, Any]]) -> int:
    work.write_json(
        _unit_file(unit.index), {"unit": unit.index, "key": key, "rows": len(records), "records": records}
    )
    return len(records)


def open_work(
    work: OutputDir, key: str, info: dict[str, Any], units: Sequence[EvalUnit], overwrite: bool
) -> None:
    """Record the plan (its key, and each unit's rows), or check the key against the one recorded
    (a rerun resumes only the same evaluation: other predictions or settings would mix figures)."""
    try:
        prior = work.read_json(PLAN_FILE)
    except (OSError, json.JSONDecodeError):
        prior = None
    if prior and prior.get("key") != key:
        if not overwrite:
            raise EvalError(
                f"{work.uri} holds an evaluation of other predictions or settings "
                f"({prior.get('info')}); pass --overwrite to start it again, or another --work"
            )
        work.delete_contents()
    for path in _temporaries(work):
        work.fs.delete_file(path)
    try:
        work.write_json(PLAN_FILE, {"key": key, "info": info, "units": [[u.index, u.rows] for u in units],
                                    "created": (prior or {}).get("created", now())})  # fmt: skip
    except OSError as e:
        raise EvalError(f"cannot write the work folder {work.uri}: {e}. Choose another --work.") from None


def _temporaries(work: OutputDir) -> list[str]:
    """Half-written unit files a killed run left (never read: a unit is its renamed file)."""
    import pyarrow.fs as pafs

    selector = pafs.FileSelector(work.path("units"), allow_not_found=True)
    return [i.path for i in work.fs.get_file_info(selector) if ".tmp-" in i.base_name]


class _Worker:
    """One Ray actor: the scorer set up once, then unit after unit, each committed here."""

    def __init__(self, scorer: Scorer, work_uri: str, key: str):
        self.scorer, self.work, self.key = scorer, OutputDir(work_uri), key
        self.ready = False

    def setup(self) -> bool:
        self.scorer.setup()
        self.ready = True
        return True

    def run(self, unit: EvalUnit) -> int:
        if not self.ready:  # an actor Ray restarted after a crash is built anew
            self.setup()
        return commit(self.work, unit, self.key, self.scorer.score_unit(unit))


def run_units(
    scorer: Scorer,
    units: Sequence[EvalUnit],
    work: OutputDir,
    key: str,
    *,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    desc: str = "eval",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Score every unit not yet committed under ``key``; return all records in plan order and
    what ran (units run, workers, seconds). ``workers=0`` scores in this process; ``None`` uses a
    Ray actor per free CPU (joining ``address`` or ``RAY_ADDRESS``, else a local Ray)."""
    t0 = time.perf_counter()
    pending = [u for u in units if committed(work, u, key) is None]
    failures: dict[int, str] = {}
    used = 0
    bar = tqdm(total=sum(u.rows for u in units), initial=sum(u.rows for u in units if u not in pending),
               unit="row", desc=desc, disable=not progress, dynamic_ncols=True)  # fmt: skip
    try:
        if pending and workers == 0:
            used = 1
            scorer.setup()
            for unit in pending:
                bar.update(commit(work, unit, key, scorer.score_unit(unit)))
        elif pending:
            used = _run_on_ray(scorer, pending, work, key, workers, address, bar, failures)
    finally:
        bar.close()
    if failures:
        first = next(iter(failures.values()))
        raise EvalError(
            f"{len(failures)} of {len(units)} units failed (first: {first}). Committed units are kept; "
            "run the same command again to redo only the failed ones."
        )
    records: list[dict[str, Any]] = []
    for unit in units:
        got = committed(work, unit, key)
        if got is None:
            raise EvalError(f"unit {unit.index} is not committed in {work.uri}; run the command again")
        records += got
    stats = {"units": len(units), "units_run": len(pending), "workers": used,
             "seconds": round(time.perf_counter() - t0, 3)}  # fmt: skip
    return records, stats


def _run_on_ray(scorer, pending, work, key, workers, address, bar, failures) -> int:
    import ray

    from synth.runner import RunError, ensure_ray

    try:
        ensure_ray(address)
    except RunError as e:
        raise EvalError(str(e)) from None
    free = int(ray.available_resources().get("CPU", 1))
    n = max(1, min(workers or free, len(pending)))
    actor_cls = ray.remote(num_cpus=1, max_restarts=1, max_task_retries=1)(_Worker)
    actors = [actor_cls.remote(scorer, work.uri, key) for _ in range(n)]
    try:
        try:  # set up before any work: a missing model fails here, naming it
            ray.get([a.setup.remote() for a in actors])
        except ray.exceptions.RayTaskError as e:
            cause = e.cause or e
            raise EvalError(f"evaluator setup failed: {cause}") from None
        queue, in_flight = list(pending), {}
        idle = list(actors)  # one unit per actor at a time: a queued unit could wait behind a slow one
        while queue or in_flight:
            while queue and idle:
                actor, unit = idle.pop(), queue.pop(0)
                in_flight[actor.run.remote(unit)] = (actor, unit)
            done, _ = ray.wait(list(in_flight), num_returns=1)
            actor, unit = in_flight.pop(done[0])
            idle.append(actor)
            try:
                bar.update(ray.get(done[0]))
            except (ray.exceptions.RayError, OSError) as e:
                failures[unit.index] = f"unit {unit.index}: {getattr(e, 'cause', None) or e}"
                log.warning("eval unit %d failed: %s", unit.index, failures[unit.index])
    finally:
        for a in actors:
            ray.kill(a)
    return n


def stamps(uris: Sequence[str]) -> list[list[Any]]:
    """``[uri, size, modification time]`` of each file (local or any ``pyarrow.fs`` URI): what
    tells a rerun that the predictions changed, without reading them."""
    from synth.inputs import filesystem

    out = []
    for uri in sorted(set(uris)):
        fs, path = filesystem(uri)
        info = fs.get_file_info(path)
        out.append([uri, info.size, info.mtime_ns])
    return out


def plan_by_groups(groups: Sequence[Sequence[Any]], unit_rows: int) -> list[EvalUnit]:
    """Units of about ``unit_rows`` rows made of whole groups (the rows of one edit share its
    images, so they stay together and the images are read once)."""
    units: list[EvalUnit] = []
    current: list[Any] = []
    for group in groups:
        current.extend(group)
        if len(current) >= unit_rows:
            units.append(EvalUnit(len(units), tuple(current), len(current)))
            current = []
    if current:
        units.append(EvalUnit(len(units), tuple(current), len(current)))
    return units
