"""Runs a pipeline on Ray: fixed work units, one Ray task or actor call per unit, atomic commits.

The driver plans units once (recorded in ``run.json``), skips committed units on a rerun, keeps a
bounded number of units in flight (so memory does not grow with ``--num``) and shows progress.
Workers draw, process and commit their unit themselves; only the small manifest comes back.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from typing import Any

import pyarrow.fs as pafs
import ray
from tqdm import tqdm

from synth.config import PipelineConfig
from synth.pipeline import Pipeline, RunIdentity, Unit, plan_units
from synth.report import collect, now, versions
from synth.schema import SCHEMA
from synth.stage import Stage, run_stages
from synth.writer import OutputDir, commit_unit, read_manifest, unit_done

log = logging.getLogger(__name__)

#: Where a run's wall time goes, in order (``phase_seconds`` of each invocation in ``run.json``).
PHASES = ("setup", "units", "finalize")


class RunError(RuntimeError):
    """The run cannot start or finish; the message says why and what to do."""


class UnitProcessor:
    """Holds a pipeline's stages on one worker: set up once, then runs unit after unit."""

    def __init__(self, pipeline: Pipeline, cfg: PipelineConfig, ident: RunIdentity, out_uri: str):
        self.pipeline, self.cfg, self.ident, self.out_uri = pipeline, cfg, ident, out_uri
        self.stages: list[Stage] | None = None

    def setup(self) -> bool:
        if self.stages is None:
            stages = self.pipeline.build_stages(self.cfg)
            for stage in stages:
                stage.setup()
            self.stages = stages
        return True

    def run(self, unit: Unit) -> dict[str, Any]:
        self.setup()
        t0 = time.perf_counter()
        rows = self.pipeline.rows_for(self.cfg, self.ident, unit)
        stage_seconds: Counter = Counter()
        rows = run_stages(self.stages, rows, self.cfg.runtime.batch_size, stage_seconds)
        fonts: dict[str, str] = {}
        for row in rows:
            fonts.update(row.get("_fonts", {}))
        extra = {
            "start": unit.start,
            "end": unit.end,
            "seconds": round(time.perf_counter() - t0, 4),
            "stage_seconds": {k: round(v, 4) for k, v in stage_seconds.items()},
            "fonts": dict(sorted(fonts.items())),
            "node": os.uname().nodename,
        }
        stats: dict[str, Counter] = {}
        for stage in self.stages:
            for family, counts in stage.take_stats().items():
                stats.setdefault(family, Counter()).update(counts)
        if stats:
            extra["stats"] = {k: dict(sorted(v.items())) for k, v in sorted(stats.items())}
        if self.pipeline.plan_inputs:
            extra["inputs"] = len(rows)
        schema = self.pipeline.work_schema or SCHEMA
        return commit_unit(OutputDir(self.out_uri), unit.index, rows, extra, schema).manifest


_WORKER_CACHE: dict[tuple[str, str], UnitProcessor] = {}


def _run_unit_task(pipeline: Pipeline, cfg: PipelineConfig, ident: RunIdentity, out_uri: str, unit: Unit):
    """CPU-only pipelines: a plain Ray task; stages are set up once per worker process."""
    key = (pipeline.name, cfg.model_dump_json())
    proc = _WORKER_CACHE.get(key)
    if proc is None or proc.out_uri != out_uri:
        proc = _WORKER_CACHE[key] = UnitProcessor(pipeline, cfg, ident, out_uri)
    proc.ident = ident
    return proc.run(unit)


def ensure_ray(address: str | None) -> None:
    """Join ``address`` (or ``RAY_ADDRESS``), else start an embedded local Ray."""
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    try:
        ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=True)
    except ConnectionError as e:
        raise RunError(
            f"cannot reach the Ray cluster at {address!r}: {e}. Start it or drop --address."
        ) from None


def _check_writable(out: OutputDir) -> None:
    try:
        out.fs.create_dir(out.root, recursive=True)
        if out.fs.get_file_info(out.root).type != pafs.FileType.Directory:
            raise OSError("not a directory")
        out.write_bytes(".write-test", b"ok")
        out.fs.delete_file(out.path(".write-test"))
    except OSError as e:
        raise RunError(f"cannot write to {out.uri}: {e}. Choose another --out.") from None


def _clean_temporaries(out: OutputDir) -> None:
    """Remove half-written files left by a killed run (they are never read)."""
    for folder in (
        "data",
        "rejected",
        "_units",
        "_work",
        "_work/score/data",
        "_work/score/rejected",
        "_work/score/_units",
    ):
        if not out.exists(folder):
            continue
        for info in out.fs.get_file_info(pafs.FileSelector(out.path(folder))):
            if ".tmp-" in info.base_name:
                out.fs.delete_file(info.path)


def open_run(
    out: OutputDir,
    pipeline: Pipeline,
    cfg: PipelineConfig,
    num: int | None,
    overwrite: bool,
    rethreshold: bool = False,
) -> tuple[dict[str, Any], list[Unit]]:
    """Check an existing run for compatibility and extend its plan to ``num`` samples (generators)
    or plan the units of the inputs (curation)."""
    identity = {
        "pipeline": pipeline.name,
        "content_hash": cfg.content_hash(),
        "seed": cfg.seed,
        "split": cfg.split,
    }
    inputs_info = None
    planned = pipeline.plan_inputs(cfg) if pipeline.plan_inputs else None
    if planned is not None:
        input_units, inputs_info = planned
    prior = out.read_json("run.json")
    if prior and overwrite:
        out.delete_contents()
        prior = None
    if prior:
        for key, value in identity.items():
            if prior.get(key) != value:
                raise RunError(
                    f"{out.uri} holds a run with {key}={prior.get(key)!r}, this one has {key}={value!r}; "
                    "its samples would not match. Use another --out, or --overwrite to replace it."
                )
        if inputs_info and (prior.get("inputs") or {}).get("digest") != inputs_info["digest"]:
            raise RunError(
                f"the inputs changed since {out.uri} was planned ({(prior.get('inputs') or {}).get('entries')} "
                f"entries then, {inputs_info['entries']} now). Curate the new images into another --out "
                "(with --against this one to drop their duplicates), or --overwrite to start again."
            )
        if prior.get("decision_hash") != cfg.decision_hash() and not (pipeline.finalize and rethreshold):
            hint = (
                "add --rethreshold to re-decide from the stored scores (no model runs again), "
                if pipeline.finalize
                else "use --overwrite to redo it with the new ones, "
            )
            new = cfg.decisions()
            changed = "; ".join(
                f"{k}: {v} -> {new.get(k)}"
                for k, v in (prior.get("decisions") or {}).items()
                if new.get(k) != v
            )
            raise RunError(
                f"{out.uri} was decided with other thresholds ({changed}); {hint}or another --out."
            )
    if inputs_info is not None:
        plan = input_units
    else:
        try:
            plan = plan_units(prior["plan"] if prior else [], num or 0, cfg.runtime.unit_size)
        except ValueError as e:
            raise RunError(str(e)) from None
    run = dict(prior or {})
    run.update(identity)
    run.update(
        {
            "decision_hash": cfg.decision_hash(),
            "decisions": cfg.decisions(),
            "config": cfg.model_dump(mode="json"),
            "plan": [[u.start, u.end] for u in plan],
            "versions": versions(),
            "status": "running",
        }
    )
    if inputs_info is not None:
        run["inputs"] = inputs_info
    if pipeline.describe:
        run["models"] = pipeline.describe(cfg)
    run.setdefault("created", now())
    return run, plan


def run_pipeline(
    pipeline: Pipeline,
    cfg: PipelineConfig,
    out_uri: str,
    num: int | None = None,
    *,
    overwrite: bool = False,
    retry_errors: bool = False,
    rethreshold: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Run ``num`` samples of ``pipeline`` (or all of its inputs) into ``out_uri``; returns run.json."""
    out = OutputDir(out_uri)
    _check_writable(out)
    run, plan = open_run(out, pipeline, cfg, num, overwrite, rethreshold)
    _clean_temporaries(out)
    out.write_json("run.json", run)
    # A two-pass pipeline commits its scored units under _work/ first, then decides.
    stage_out = out.sub("_work/score") if pipeline.finalize else out

    pending = [u for u in plan if not unit_done(stage_out, u.index)]
    if retry_errors:
        pending += [
            u
            for u in plan
            if u not in pending
            and (read_manifest(stage_out, u.index) or {}).get("counts", {}).get("error", 0) > 0
        ]
        pending.sort(key=lambda u: u.index)
    started, t0 = now(), time.perf_counter()
    phases: dict[str, float] = {}  # seconds by PHASES
    failures = _execute(pipeline, cfg, stage_out, pending, progress, phases) if pending else {}
    if pipeline.finalize and not failures:
        t1 = time.perf_counter()
        failures, run["decided"] = pipeline.finalize(cfg, out, plan, progress)
        phases["finalize"] = time.perf_counter() - t1
    wall = time.perf_counter() - t0

    report = collect(out, run)
    samples_run = sum(u.end - u.start for u in pending if u.index not in failures)
    run["invocations"] = run.get("invocations", []) + [
        {
            "started": started,
            "ended": now(),
            "units_run": len(pending) - len(failures),
            "units_failed": len(failures),
            "wall_seconds": round(wall, 3),
            "phase_seconds": {k: round(v, 3) for k, v in phases.items()},
            "samples_per_second": round(samples_run / wall, 3) if wall > 0 else None,
        }
    ]
    run["status"] = "complete" if report["units_done"] == len(plan) else "incomplete"
    run["report"] = report
    out.write_json("run.json", run)
    if failures:
        first = next(iter(failures.values()))
        raise RunError(
            f"{len(failures)} of {len(plan)} units failed (first: {first}). Committed units are kept; "
            f"run the same command again to redo only the failed ones."
        )
    return run


def _execute(
    pipeline: Pipeline,
    cfg: PipelineConfig,
    out: OutputDir,
    pending: list[Unit],
    progress: bool | None,
    phases: dict[str, float],
) -> dict[int, str]:
    """Run the pending units; records in ``phases`` the seconds spent setting up (workers started,
    models loaded) and running units, so a report shows what a fixed cost and what per-sample."""
    t0 = time.perf_counter()
    ensure_ray(cfg.runtime.address)
    stages = pipeline.build_stages(cfg)
    cpus = max(s.resources.cpus for s in stages)
    # Model actors take a GPU share where the cluster has GPUs; the same config runs CPU-only.
    gpus = max(s.resources.gpus for s in stages) if ray.cluster_resources().get("GPU", 0) > 0 else 0
    workers = worker_count(cfg.runtime.workers, cpus, gpus, ray.available_resources(), len(pending))
    ident = RunIdentity(pipeline.name, cfg.content_hash(), cfg.seed, cfg.split)

    actors: list = []
    if any(s.keeps_model for s in stages):
        actor_cls = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=1, max_task_retries=1)(
            UnitProcessor
        )
        actors = [actor_cls.remote(pipeline, cfg, ident, out.uri) for _ in range(workers)]
        try:  # load models up front: a setup error fails the run before any work
            ray.get([a.setup.remote() for a in actors])
        except ray.exceptions.RayTaskError as e:
            for actor in actors:
                ray.kill(actor)
            raise RunError(f"setup of {pipeline.name} failed: {e.cause or e}") from None
        # one unit in flight per actor: a unit takes seconds to minutes, so the round trip to the
        # driver between units costs nothing, while a second queued unit could leave one actor
        # finishing two units at the end of the run as the others idle
        slots = [(a, 1) for a in actors]

        def submit(slot, unit):
            return slot.run.remote(unit)

    else:
        for stage in stages:  # cheap CPU stages: check setup here, before spending the cluster
            stage.setup()
        task = ray.remote(num_cpus=cpus, num_gpus=gpus, max_retries=1)(_run_unit_task)
        slots = [(None, 2 * workers)]

        def submit(slot, unit):
            return task.remote(pipeline, cfg, ident, out.uri, unit)

    t1 = time.perf_counter()
    phases["setup"] = t1 - t0
    try:
        return schedule(slots, submit, pending, pipeline.name, progress)
    finally:
        phases["units"] = time.perf_counter() - t1
        for actor in actors:  # free their CPUs and GPUs now, for a second pass
            ray.kill(actor)


def worker_count(requested: int | None, cpus: float, gpus: float, available: dict, pending: int) -> int:
    """Actors (or concurrent tasks) to start: ``requested``, else as many as the free CPUs and,
    for GPU actors, the free GPU shares hold: more would wait unplaced and hold up the start."""
    fit = int(available.get("CPU", 1.0) // cpus)
    if gpus > 0:
        fit = min(fit, int(available.get("GPU", 0.0) / gpus + 1e-9))
    return min(requested or max(1, fit), pending)


def schedule(slots, submit, pending: list[Unit], desc: str, progress: bool | None) -> dict[int, str]:
    """Keep each slot's capacity of units in flight until all are done; a unit whose call fails
    is reported (not retried here: its rows were never committed, so a rerun redoes it).
    ``submit(slot, unit)`` returns an object ref to the unit's manifest."""
    queue = list(reversed(pending))
    in_flight: dict[Any, tuple[Any, Unit]] = {}
    failures: dict[int, str] = {}
    totals: Counter = Counter()
    t0 = time.perf_counter()
    bar = tqdm(total=len(pending), unit="unit", desc=desc, disable=progress is False, dynamic_ncols=True)
    try:
        for slot, capacity in slots:
            for _ in range(capacity):
                if queue:
                    unit = queue.pop()
                    in_flight[submit(slot, unit)] = (slot, unit)
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1)
            slot, unit = in_flight.pop(done[0])
            try:
                manifest = ray.get(done[0])
                totals.update(manifest["counts"])
            except (ray.exceptions.RayError, OSError) as e:
                failures[unit.index] = f"unit {unit.index}: {getattr(e, 'cause', None) or e}"
                log.warning("unit %d failed: %s", unit.index, failures[unit.index])
            if queue:
                nxt = queue.pop()
                in_flight[submit(slot, nxt)] = (slot, nxt)
            rate = sum(totals.values()) / max(time.perf_counter() - t0, 1e-9)
            bar.update(1)
            bar.set_postfix(
                samples_s=f"{rate:.1f}",
                kept=totals["kept"],
                rejected=totals["rejected"],
                error=totals["error"],
            )
    finally:
        bar.close()
    return failures
