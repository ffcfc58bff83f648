"""The dataset-wide passes of ``synth curate``, after every unit is scored into ``_work/score``:

1. read only the measurements (ids, sizes, hashes, scores) of every unit;
2. decide (``decide.py``), with near-duplicate grouping fanned out over Ray one task per batch of
   hash tables, never one call per image;
3. write each unit's ``data/`` and ``rejected/`` shards from its scored shard and its decisions.

A final unit records the digest of its decisions and of the scored shards it came from, so a
rerun rewrites exactly the units whose decisions changed (``--rethreshold``, ``--retry-errors``).
"""

from __future__ import annotations

import io
import os
import time
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray

from filters.phash import candidate_pairs_for_tables, near_duplicate_groups
from pipelines.curate.config import CurateConfig
from pipelines.curate.decide import MEASURE_COLUMNS, Anchors, decide
from synth.identity import digest
from synth.pipeline import Unit
from synth.pools import Pool, schedule
from synth.runner import RunError, ensure_ray
from synth.schema import SCHEMA, meta_of
from synth.writer import OutputDir, commit_unit, read_manifest, shard_name, unit_done

#: Where the scoring pass commits its units (the decision pass reads them from there).
WORK_DIR = "_work/score"
WORK_SCHEMA = pa.schema([*SCHEMA, pa.field("pixel_digest", pa.string())], metadata=SCHEMA.metadata)
#: Below this many hashes one process groups faster than shipping tables to Ray tasks.
RAY_GROUPING_MIN = 200_000


def group_on_ray(hashes: np.ndarray, radius: int, min_size: int = RAY_GROUPING_MIN) -> np.ndarray:
    """Near-duplicate group labels, the tables fanned out over Ray: the distinct hashes go to the
    object store once, each task checks a batch of the multi-index tables, and the driver joins
    the verified pairs into components. Small sets stay in this process."""

    def on_ray(distinct: np.ndarray, masks: list[np.uint64], r: int) -> np.ndarray:
        ref = ray.put(distinct)
        parts = max(1, min(len(masks), 2 * int(ray.cluster_resources().get("CPU", 1))))
        task = ray.remote(num_cpus=1)(candidate_pairs_for_tables)
        batches = [list(b) for b in np.array_split(np.array(masks, dtype=np.uint64), parts) if len(b)]
        pairs = [p for p in ray.get([task.remote(ref, b, r) for b in batches]) if len(p)]
        return np.unique(np.concatenate(pairs), axis=0) if pairs else np.empty((0, 2), np.int64)

    return near_duplicate_groups(hashes, radius, find_pairs=on_ray if len(hashes) >= min_size else None)


def read_measures(work: OutputDir, plan: list[Unit]) -> pa.Table:
    """The decision columns of every scored unit, with the unit index: only their column chunks
    are read, not the image bytes beside them (nine tenths of a shard)."""
    tables = []
    for unit in plan:
        for folder in ("data", "rejected"):
            with work.fs.open_input_file(work.path(f"{folder}/{shard_name(unit.index)}.parquet")) as f:
                table = pq.ParquetFile(f).read(columns=MEASURE_COLUMNS)
            tables.append(table.append_column("unit", pa.array([unit.index] * table.num_rows, pa.int32())))
    return pa.concat_tables(tables) if tables else WORK_SCHEMA.empty_table().select(MEASURE_COLUMNS)


def read_anchors(folders: list[str]) -> Anchors:
    """Kept images of earlier curated outputs: their ids and pHashes."""
    ids: list[str] = []
    hashes: list[np.ndarray] = []
    for folder in folders:
        prior = OutputDir(folder)
        if prior.read_json("run.json") is None:
            raise RunError(f"--against {folder}: no run.json there (not a synth output folder)")
        for shard in prior.list("data", ".parquet"):
            t = pq.read_table(io.BytesIO(prior.read_bytes(shard)), columns=["sample_id", "phash"])
            t = t.filter(pa.compute.is_valid(t.column("phash")))
            ids.extend(t.column("sample_id").to_pylist())
            hashes.append(t.column("phash").to_numpy())
    return Anchors(ids, np.concatenate(hashes) if hashes else np.empty(0, np.int64))


def write_final_unit(
    work_uri: str, out_uri: str, unit: Unit, decisions: dict[str, tuple], decided: str
) -> dict[str, Any]:
    """One unit's scored rows with their decisions applied, committed to ``data/`` and ``rejected/``."""
    t0 = time.perf_counter()
    work, out = OutputDir(work_uri), OutputDir(out_uri)
    scored = read_manifest(work, unit.index) or {}
    rows = []
    for folder in ("data", "rejected"):
        blob = work.read_bytes(f"{folder}/{shard_name(unit.index)}.parquet")
        rows.extend(pq.read_table(pa.BufferReader(blob), schema=WORK_SCHEMA).to_pylist())
    for row in rows:
        row["status"], row["reason"], row["detail"], row["dup_of"] = decisions[row["sample_id"]]
        meta = meta_of(row)
        if row.get("pixel_digest"):
            meta["pixel_sha256"] = row["pixel_digest"]
        row.pop("pixel_digest", None)
        row["meta"] = meta
    seconds = time.perf_counter() - t0
    extra = {
        "start": unit.start,
        "end": unit.end,
        "inputs": scored.get("inputs", len(rows)),
        "seconds": round(scored.get("seconds", 0.0) + seconds, 4),
        "stage_seconds": {**scored.get("stage_seconds", {}), "write": round(seconds, 4)},
        "node": os.uname().nodename,
        "decided": decided,
    }
    return commit_unit(out, unit.index, rows, extra).manifest


def finalize(
    cfg: CurateConfig, out: OutputDir, plan: list[Unit], progress: bool | None
) -> tuple[dict[int, str], dict[str, Any]]:
    ensure_ray(cfg.runtime.address)
    work = out.sub(WORK_DIR)
    t0 = time.perf_counter()
    table = read_measures(work, plan)
    anchors = read_anchors(cfg.against)
    result = decide(table, cfg.filters, anchors, group=group_on_ray)
    decide_seconds = time.perf_counter() - t0

    per_unit: dict[int, dict[str, tuple]] = defaultdict(dict)
    columns = zip(
        table.column("unit").to_pylist(),
        table.column("sample_id").to_pylist(),
        result.status,
        result.reason,
        result.detail,
        result.dup_of,
        strict=True,
    )
    for unit, sid, *decision in columns:
        per_unit[unit][sid] = tuple(decision)
    decided = {}
    for unit in plan:
        scored = read_manifest(work, unit.index) or {}
        shards = [scored.get(f, {}).get("sha256") for f in ("data", "rejected")]
        decided[unit.index] = digest(shards, sorted(per_unit[unit.index].items()), length=16)
    pending = [
        u
        for u in plan
        if (read_manifest(out, u.index) or {}).get("decided") != decided[u.index]
        or not unit_done(out, u.index, verify_checksums=False)
    ]
    task = ray.remote(num_cpus=1, max_retries=1)(write_final_unit)
    workers = max(1, int(ray.available_resources().get("CPU", 1)))

    def submit(unit: Unit, _payload):
        return task.remote(work.uri, out.uri, unit, per_unit[unit.index], decided[unit.index])

    failures = schedule([Pool(workers, make=submit)], pending, "curate: decide", progress) if pending else {}
    stats = {
        **result.stats,
        "against": len(anchors.ids),
        "decide_seconds": round(decide_seconds, 3),
        "units_written": len(pending) - len(failures),
    }
    return failures, stats
