"""Runs a pipeline on Ray: fixed work units streamed through a pool per segment of stages
(``synth.pools``), atomic commits.

The driver plans units once (recorded in ``run.json``), skips committed units on a rerun, keeps a
bounded number of units in flight (so memory does not grow with ``--num``) and shows progress.
Workers draw, process and commit their unit themselves; only the small manifest comes back.
"""

from __future__ import annotations

import atexit
import logging
import os
import time
from collections import deque
from typing import Any

import pyarrow.fs as pafs
import ray

from synth.config import PipelineConfig
from synth.decision import redecide
from synth.driver_lane import DriverLane
from synth.local_ray import lean_local_ray, ray_started_here, stop_local_ray
from synth.pipeline import PinError, Pipeline, RunIdentity, Unit, plan_units
from synth.pools import SegmentWorker, SetupError, plan_segments, schedule, start_pools
from synth.report import collect, now, versions
from synth.writer import OutputDir, read_manifest, unit_done

log = logging.getLogger(__name__)

#: Where a run's wall time goes, in order (``phase_seconds`` of each invocation in ``run.json``).
PHASES = ("setup", "units", "finalize")


class RunError(RuntimeError):
    """The run cannot start or finish; the message says why and what to do."""


def ensure_ray(address: str | None) -> None:
    """Join ``address`` (or ``RAY_ADDRESS``), else start an embedded local Ray (``lean_local_ray``)."""
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    try:
        with lean_local_ray():
            ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=True)
    except ConnectionError as e:
        raise RunError(
            f"cannot reach the Ray cluster at {address!r}: {e}. Start it or drop --address."
        ) from None
    if ray_started_here():
        atexit.register(stop_local_ray)


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
    """Remove half-written files left by a killed run anywhere in the folder (they are never read)."""
    for info in out.fs.get_file_info(pafs.FileSelector(out.root, recursive=True, allow_not_found=True)):
        if ".tmp-" in info.base_name and info.type == pafs.FileType.File:
            out.fs.delete_file(info.path)


def open_run(
    out: OutputDir,
    pipeline: Pipeline,
    cfg: PipelineConfig,
    num: int | None,
    overwrite: bool,
    rethreshold: bool = False,
) -> tuple[dict[str, Any], list[Unit], PipelineConfig]:
    """Check an existing run for compatibility and extend its plan to ``num`` samples (generators)
    or plan the units of the inputs (curation). Returns run.json, the plan and the config the
    stages get: with what the pipeline pins (its font set) as recorded when the run started."""
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
        redecides = pipeline.finalize or pipeline.decide  # decisions from stored scores
        if pipeline.decide and rethreshold and not prior.get("decisions_stored"):
            raise RunError(
                f"{out.uri} was made before its rows stored everything their decisions read, so "
                "--rethreshold cannot re-decide it; use --overwrite to redo it, or another --out."
            )
        if prior.get("decision_hash") != cfg.decision_hash() and not (redecides and rethreshold):
            hint = (
                "add --rethreshold to re-decide from the stored scores (no model runs again), "
                if redecides
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
            recorded = prior["plan"] if prior else []
            if num is None and rethreshold:  # re-decide the planned samples
                if not recorded:
                    raise RunError(f"--rethreshold re-decides an existing output; {out.uri} holds none")
                num = recorded[-1][1]
            plan = plan_units(recorded, num or 0, cfg.runtime.unit_size)
        except ValueError as e:
            raise RunError(str(e)) from None
    run = dict(prior or {})
    if pipeline.decide and not prior:  # its rows store what the decision reads (--rethreshold works)
        run["decisions_stored"] = True
    if prior and pipeline.decide and prior.get("decision_hash") != cfg.decision_hash():
        run["redecide"] = True  # until every committed unit is re-decided (an interrupted pass resumes)
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
    if pipeline.pin:
        try:
            run["pinned"], cfg = pipeline.pin(cfg, (prior or {}).get("pinned"))
        except PinError as e:
            raise RunError(f"cannot resume {out.uri}: {e}") from None
    run.setdefault("created", now())
    return run, plan, cfg


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
    pipeline.stages(cfg)  # what each stage reads is checked before anything runs
    run, plan, cfg = open_run(out, pipeline, cfg, num, overwrite, rethreshold)
    _clean_temporaries(out)
    out.write_json("run.json", run)
    # A two-pass pipeline commits its stages' units to its own folder first, then decides.
    stage_out = out.sub(pipeline.work_dir) if pipeline.work_dir else out
    # committed = manifest and shard sizes agree (``synth validate`` checks the checksums): no
    # download of every shard on object storage to skip it
    pending = [u for u in plan if not unit_done(stage_out, u.index, verify_checksums=False)]
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
    if pipeline.decide and run.get("redecide"):  # --rethreshold: the units committed before now
        t1 = time.perf_counter()
        committed = [u for u in plan if u not in pending]
        redecide_failures, run["redecided"] = redecide(pipeline, cfg, out, committed, progress)
        phases["finalize"] = time.perf_counter() - t1
        failures = {**failures, **redecide_failures}
        if not redecide_failures:
            del run["redecide"]
    wall = time.perf_counter() - t0

    report = collect(out, run)
    samples_run = sum(u.end - u.start for u in pending if u.index not in failures)
    run["invocations"] = run.get("invocations", []) + [
        {
            "started": started,
            "ended": now(),
            "units_run": sum(u.index not in failures for u in pending),
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
    """Run the pending units on a pool per segment of stages (``synth.pools``); records in
    ``phases`` the seconds spent setting up (workers started, models loaded) and running units,
    so a report shows what is a fixed cost and what per-sample. While an embedded Ray starts, the
    driver runs units itself (``synth.driver_lane``)."""
    t0 = time.perf_counter()
    ident = RunIdentity(pipeline.name, cfg.content_hash(), cfg.seed, cfg.split)
    queue = deque(pending)
    lane = _driver_lane(pipeline, cfg, ident, out, queue)
    try:
        ensure_ray(cfg.runtime.address)
        if lane:
            lane.close()
        has_gpus = ray.cluster_resources().get("GPU", 0) > 0
        segments = plan_segments(pipeline.build_stages(cfg), cfg, has_gpus)
        pools = start_pools(pipeline, cfg, ident, out.uri, segments, max(1, len(queue)))
    except Exception as e:  # an interrupt does not wait: a unit is committed or not, never half
        if lane:
            lane.close()
            lane.join()
        if isinstance(e, SetupError):
            raise RunError(str(e)) from None
        raise
    t1 = time.perf_counter()
    phases["setup"] = t1 - t0
    if lane:
        log.debug("the driver took %d unit(s) while Ray started", len(lane.taken))
    try:
        return schedule(pools, list(queue), pipeline.name, progress, lane)
    finally:
        phases["units"] = time.perf_counter() - t1
        for pool in pools:
            pool.close()


def _driver_lane(
    pipeline: Pipeline, cfg: PipelineConfig, ident: RunIdentity, out: OutputDir, queue: deque[Unit]
) -> DriverLane | None:
    """A lane of the driver's own while :func:`ensure_ray` starts an embedded Ray, for a pipeline
    that runs as one segment of plain tasks; None when Ray is up or a cluster is to be joined."""
    if not queue or ray.is_initialized() or cfg.runtime.address or os.environ.get("RAY_ADDRESS"):
        return None
    try:  # GPU shares or not, the same segments: so no stage asks for a GPU
        segments = plan_segments(pipeline.build_stages(cfg), cfg, has_gpus=True)
    except SetupError:
        return None  # reported where the pools are planned
    if len(segments) != 1 or segments[0].actors or segments[0].gpus > 0:
        return None
    return DriverLane(SegmentWorker(pipeline, cfg, ident, out.uri, segments[0], last=True), queue)
