"""A pool per stage: a pipeline's stages grouped into segments by the resources they ask for, each
segment run by its own workers, and units streamed through them with bounded queues.

On a node with 16 CPUs and one GPU, a pipeline of decoding and a model is two segments: decoding
runs as Ray tasks on the free CPUs while the model actors (a GPU share each) take batches as they
come, so neither waits on the other. Where every stage asks for the same kind of resource (every
CPU-only cluster), the pipeline is one segment and runs as before: one Ray task or one actor call
takes a unit through all its stages and commits it, with nothing moved between workers.

Stages know nothing of this: a segment worker builds the pipeline's stages, keeps its own, sets
them up once and runs :func:`synth.stage.run_stages` on each unit's rows. A unit's rows travel
from segment to segment through Ray's object store; the last segment commits the unit.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ray
from tqdm import tqdm

from synth.config import PipelineConfig
from synth.pipeline import Pipeline, RunIdentity, Unit
from synth.schema import SCHEMA
from synth.stage import Resources, Row, Stage, run_stages
from synth.writer import OutputDir, commit_unit

log = logging.getLogger(__name__)


class SetupError(RuntimeError):
    """A segment's workers could not set up (missing weights, a missing binary), or the
    config names resources for stages the pipeline does not have."""


@dataclass(frozen=True)
class Segment:
    """Consecutive stages (``first`` to ``stop``, indices into the stage list) run by one pool."""

    index: int
    first: int
    stop: int
    names: tuple[str, ...]
    cpus: float
    gpus: float
    actors: bool  # a stage keeps a model loaded: an actor pool, else Ray tasks
    units_in_flight: int = 1  # per actor, in threads: what every stage of the segment allows

    @property
    def label(self) -> str:
        return "+".join(self.names)


def stage_resources(stage: Stage, cfg: PipelineConfig, has_gpus: bool) -> Resources:
    """What a stage asks for: its declaration, then ``runtime.stages.<name>`` from the config; no
    GPU share on a cluster without GPUs (the same config runs CPU-only)."""
    base = stage.resources
    override = cfg.runtime.stages.get(stage.name)
    cpus = override.cpus if override and override.cpus is not None else base.cpus
    gpus = override.gpus if override and override.gpus is not None else base.gpus
    return Resources(cpus=cpus, gpus=gpus if has_gpus else 0.0)


def plan_segments(stages: list[Stage], cfg: PipelineConfig, has_gpus: bool) -> list[Segment]:
    """Split where a stage's GPU request differs from the stage before it (CPU work and model work
    then run side by side); a ``light`` stage (bookkeeping) stays with the stage before it. A
    segment asks for the most CPUs and GPU share any of its stages asks for. Where the last
    stages are on GPUs, a ``commit`` segment of no stages writes the unit on a CPU."""
    unknown = sorted(set(cfg.runtime.stages) - {s.name for s in stages})
    if unknown:
        raise SetupError(
            f"runtime.stages names {unknown}, not stages of {cfg.pipeline} ({', '.join(s.name for s in stages)})"
        )
    groups: list[list[int]] = []
    on_gpu: list[bool] = []  # each group's kind, set by its first stage
    for i, stage in enumerate(stages):
        gpu = stage_resources(stage, cfg, has_gpus).gpus > 0
        if groups and (stage.light or gpu == on_gpu[-1]):
            groups[-1].append(i)
        else:
            groups.append([i])
            on_gpu.append(gpu)
    segments = []
    for n, idx in enumerate(groups):
        res = [stage_resources(stages[i], cfg, has_gpus) for i in idx]
        segments.append(
            Segment(
                index=n,
                first=idx[0],
                stop=idx[-1] + 1,
                names=tuple(stages[i].name for i in idx),
                cpus=max(r.cpus for r in res),
                gpus=max(r.gpus for r in res),
                actors=any(stages[i].keeps_model for i in idx),
                units_in_flight=min(stages[i].units_in_flight for i in idx),
            )
        )
    if segments[-1].gpus > 0:  # writing the shards is CPU work: not on a GPU actor's time
        n = len(stages)
        segments.append(Segment(len(segments), n, n, ("commit",), cpus=1.0, gpus=0.0, actors=False))
    return segments


@dataclass
class Carry:
    """What a unit carries from segment to segment besides its rows: timings and counters, merged
    into the manifest by the segment that commits."""

    started: float = field(default_factory=time.perf_counter)
    stage_seconds: Counter = field(default_factory=Counter)
    stats: dict[str, Counter] = field(default_factory=dict)
    segments: list[dict[str, Any]] = field(default_factory=list)


class SegmentWorker:
    """One worker of a segment: builds the pipeline's stages, keeps its segment's, sets them up
    once, then runs unit after unit. The first segment makes the unit's rows; the last commits."""

    def __init__(
        self,
        pipeline: Pipeline,
        cfg: PipelineConfig,
        ident: RunIdentity,
        out_uri: str,
        segment: Segment,
        last: bool,
    ):
        self.pipeline, self.cfg, self.ident, self.out_uri = pipeline, cfg, ident, out_uri
        self.segment, self.last = segment, last
        self.stages: list[Stage] | None = None

    def setup(self) -> bool:
        if self.stages is None:
            stages = self.pipeline.build_stages(self.cfg)[self.segment.first : self.segment.stop]
            for stage in stages:
                stage.setup()
            self.stages = stages
        return True

    def run(self, unit: Unit, payload: tuple[list[Row], Carry] | None = None):
        """Rows of ``unit`` through this segment: returns (rows, carry) for the next segment, or
        the committed unit's manifest from the last one."""
        self.setup()
        start = time.time()
        rows, carry = payload if payload is not None else (None, Carry())
        if rows is None:
            rows = self.pipeline.rows_for(self.cfg, self.ident, unit)
        rows = run_stages(self.stages, rows, self.cfg.runtime.batch_size, carry.stage_seconds)
        for stage in self.stages:
            for family, counts in stage.take_stats().items():
                carry.stats.setdefault(family, Counter()).update(counts)
        carry.segments.append(
            {
                "segment": self.segment.label,
                "worker": f"{os.uname().nodename}:{os.getpid()}",
                "start": round(start, 4),
                "end": round(time.time(), 4),
            }  # fmt: skip
        )
        if not self.last:
            return rows, carry
        return self._commit(unit, rows, carry)

    def _commit(self, unit: Unit, rows: list[Row], carry: Carry) -> dict[str, Any]:
        fonts: dict[str, str] = {}
        for row in rows:
            fonts.update(row.get("_fonts", {}))
        extra = {
            "start": unit.start,
            "end": unit.end,
            "seconds": round(time.perf_counter() - carry.started, 4),
            "stage_seconds": {k: round(v, 4) for k, v in carry.stage_seconds.items()},
            "fonts": dict(sorted(fonts.items())),
            "node": os.uname().nodename,
        }
        if len(carry.segments) > 1:  # when and where each segment ran (the overlap of pools)
            extra["segments"] = carry.segments
        if carry.stats:
            extra["stats"] = {k: dict(sorted(v.items())) for k, v in sorted(carry.stats.items())}
        if self.pipeline.plan_inputs:
            extra["inputs"] = len(rows)
        schema = self.pipeline.work_schema or SCHEMA
        out, first_pass = OutputDir(self.out_uri), bool(self.pipeline.work_dir)
        return commit_unit(out, unit.index, rows, extra, schema, intermediate=first_pass).manifest


_TASK_WORKERS: dict[tuple[str, str, int, str], SegmentWorker] = {}


def _run_segment_task(spec: SegmentWorker, unit: Unit, payload=None):
    """A segment without models as a plain Ray task: ``spec`` (not set up) names the segment; the
    worker process keeps one set-up copy per pipeline, config, segment and output."""
    key = (spec.pipeline.name, spec.cfg.model_dump_json(), spec.segment.index, spec.out_uri)
    worker = _TASK_WORKERS.setdefault(key, spec)
    worker.ident, worker.last = spec.ident, spec.last
    return worker.run(unit, payload)


class Pool:
    """The workers of one segment on the cluster and how many of its units may be in flight."""

    def __init__(
        self, workers: int, make: Callable[[Unit, Any], Any] | None = None, actors: list | None = None
    ):
        """Tasks (``make(unit, payload)`` returns the call's object ref) or ``actors`` (each with a
        ``run(unit, payload)`` method), ``workers`` of them."""
        self.workers, self._make, self.actors = workers, make, actors or []
        self.load: Counter = Counter()  # units in flight by actor index
        #: One unit at a time per actor when a pool runs whole units (a unit takes seconds to
        #: minutes, so the round trip costs nothing, and a second queued unit could leave one actor
        #: finishing two at the end while the others idle); two when units stream in from an earlier
        #: pool, so the next unit is already queued when a model actor finishes one.
        self.per_actor = 1

    @property
    def capacity(self) -> int:
        return self.per_actor * len(self.actors) if self.actors else 2 * self.workers

    def in_flight(self) -> int:
        return sum(self.load.values())

    def submit(self, unit: Unit, payload) -> tuple[Any, int | None]:
        if not self.actors:
            self.load[None] += 1
            return self._make(unit, payload), None
        i = min(range(len(self.actors)), key=lambda k: (self.load[k], k))
        self.load[i] += 1
        return self.actors[i].run.remote(unit, payload), i

    def done(self, slot: int | None) -> None:
        self.load[slot] -= 1

    def close(self) -> None:
        for actor in self.actors:  # free their CPUs and GPUs now, for a second pass
            ray.kill(actor)


def worker_count(requested: int | None, cpus: float, gpus: float, available: dict, pending: int) -> int:
    """Actors (or concurrent tasks) to start: ``requested``, else as many as the free CPUs and,
    for GPU actors, the free GPU shares hold: more would wait unplaced and hold up the start."""
    fit = int(available.get("CPU", 1.0) // cpus) if cpus > 0 else pending
    if gpus > 0:
        fit = min(fit, int(available.get("GPU", 0.0) / gpus + 1e-9))
    return max(1, min(requested or max(1, fit), pending))


def start_pools(
    pipeline: Pipeline,
    cfg: PipelineConfig,
    ident: RunIdentity,
    out_uri: str,
    segments: list[Segment],
    pending: int,
) -> list[Pool]:
    """Workers for every segment. GPU segments first: as many actors as the GPU shares and
    ``runtime.workers`` allow, each loaded before any work starts (a setup error fails the run);
    the CPU segments then share the CPUs left, at least one task each."""
    available = dict(ray.available_resources())
    pools: dict[int, Pool] = {}
    cpu_segments = [s for s in segments if s.gpus == 0]
    try:
        for seg in sorted(segments, key=lambda s: s.gpus == 0):  # GPU segments take their CPUs first
            last = seg.index == len(segments) - 1
            free = dict(available)
            if seg.gpus > 0:  # leave a CPU for each CPU segment
                free["CPU"] = max(free.get("CPU", 1.0) - sum(s.cpus for s in cpu_segments), seg.cpus)
            else:  # CPU segments split what the actors left
                free["CPU"] = max(free.get("CPU", 1.0) / len(cpu_segments), seg.cpus)
            requested = cfg.runtime.workers if len(segments) == 1 or seg.gpus > 0 else None
            n = worker_count(requested, seg.cpus, seg.gpus, free, pending)
            if seg.actors:
                actor_cls = ray.remote(
                    num_cpus=seg.cpus, num_gpus=seg.gpus, max_restarts=1, max_task_retries=1,
                    max_concurrency=seg.units_in_flight,
                )(SegmentWorker)  # fmt: skip
                actors = [actor_cls.remote(pipeline, cfg, ident, out_uri, seg, last) for _ in range(n)]
                pools[seg.index] = Pool(n, actors=actors)
                pools[seg.index].per_actor = seg.units_in_flight
                try:  # load models up front: a setup error fails the run before any work
                    ray.get([a.setup.remote() for a in actors])
                except ray.exceptions.RayTaskError as e:
                    raise SetupError(f"setup of {pipeline.name} failed: {e.cause or e}") from None
                available["CPU"] = max(0.0, available.get("CPU", 1.0) - n * seg.cpus)
                available["GPU"] = max(0.0, available.get("GPU", 0.0) - n * seg.gpus)
            else:
                SegmentWorker(pipeline, cfg, ident, out_uri, seg, last).setup()  # cheap: check it here
                task = ray.remote(num_cpus=seg.cpus, num_gpus=seg.gpus, max_retries=1)(_run_segment_task)
                spec = SegmentWorker(pipeline, cfg, ident, out_uri, seg, last)

                def make(unit, payload, task=task, spec=spec):
                    return task.remote(spec, unit, payload)

                pools[seg.index] = Pool(n, make=make)
    except BaseException:
        for pool in pools.values():
            pool.close()
        raise
    result = [pools[s.index] for s in segments]
    if len(result) > 1:
        for pool in result[1:]:
            pool.per_actor = max(pool.per_actor, 2)
    return result


def schedule(
    pools: list[Pool], pending: list[Unit], desc: str, progress: bool | None, lane=None
) -> dict[int, str]:
    """Stream the pending units through the pools in order until all are committed. A pool takes
    a unit while it has room and, unless it is the last, while the next pool's queue is shorter
    than that pool's capacity: so the units between pools, and the rows they hold, stay bounded
    (at most the two pools' capacities), while the faster pool keeps every worker busy. A unit
    whose call fails is reported (its rows were never committed, so a rerun redoes it). ``lane``
    (a closed :class:`synth.driver_lane.DriverLane`) holds the units the driver took while Ray
    started: they are waited for, counted and reported the same way."""
    queue = deque(pending)
    ready: list[deque] = [deque() for _ in pools]  # (unit, payload ref) waiting for pool s
    in_flight: dict[Any, tuple[int, int | None, Unit]] = {}
    failures: dict[int, str] = {}
    totals: Counter = Counter()
    t0 = time.perf_counter()
    total = len(pending) + (len(lane.taken) if lane else 0)
    bar = tqdm(total=total, unit="unit", desc=desc, disable=progress is False, dynamic_ncols=True)

    def fill() -> None:
        for s in reversed(range(len(pools))):  # later pools first: they free the memory
            pool, waiting = pools[s], (queue if s == 0 else ready[s])
            while waiting and pool.in_flight() < pool.capacity:
                if s + 1 < len(pools) and len(ready[s + 1]) >= pools[s + 1].capacity:
                    break  # the next pool's queue is full: let it catch up
                unit, payload = (waiting.popleft(), None) if s == 0 else waiting.popleft()
                ref, slot = pool.submit(unit, payload)
                in_flight[ref] = (s, slot, unit)

    def committed(manifest: dict[str, Any] | None) -> None:
        if manifest is not None:
            totals.update(manifest["counts"])
        rate = sum(totals.values()) / max(time.perf_counter() - t0, 1e-9)
        bar.update(1)
        bar.set_postfix(
            samples_s=f"{rate:.1f}",
            kept=totals["kept"],
            rejected=totals["rejected"],
            error=totals["error"],
        )

    try:
        fill()
        while in_flight or (lane and lane.open):
            for unit, manifest, error in lane.finished() if lane else ():
                if error is not None:
                    _fail(failures, unit, error)
                committed(manifest)
            if not in_flight:
                lane.join(0.05)
                continue
            # while the driver's own unit runs, wake now and then to count it when it is done
            timeout = 0.05 if lane and lane.open else None
            done, _ = ray.wait(list(in_flight), num_returns=1, fetch_local=False, timeout=timeout)
            if not done:
                continue
            s, slot, unit = in_flight.pop(done[0])
            pools[s].done(slot)
            if s + 1 < len(pools):  # its rows stay in the object store, handed on by reference; a
                ready[s + 1].append((unit, done[0]))  # failed call fails the next one, reported below
                fill()
                continue
            manifest = None
            try:
                manifest = ray.get(done[0])
            except (ray.exceptions.RayError, OSError) as e:
                _fail(failures, unit, e)
            fill()
            committed(manifest)
    finally:
        bar.close()
    return failures


def _fail(failures: dict[int, str], unit: Unit, e: Exception) -> None:
    failures[unit.index] = f"unit {unit.index}: {getattr(e, 'cause', None) or e}"
    log.warning("unit %d failed: %s", unit.index, failures[unit.index])
