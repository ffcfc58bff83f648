"""The run report: ``run.json`` holds the resolved config and plan; counts are rebuilt from the
unit manifests on disk, so the report is always what the shards say."""

from __future__ import annotations

import platform
import time
from collections import Counter
from importlib import metadata
from typing import Any

from synth.writer import OutputDir, read_manifest

VERSIONED = ("unisynth", "ray", "pyarrow", "numpy", "pillow", "rapidocr", "onnxruntime", "faker")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def collect(out: OutputDir, run: dict[str, Any]) -> dict[str, Any]:
    """Counts by status and reason, fonts seen, and timings, over every committed unit."""
    counts: Counter = Counter()
    reasons: Counter = Counter()
    fonts: dict[str, str] = {}
    font_conflicts: set[str] = set()
    seconds = 0.0
    done = 0
    stage_seconds: Counter = Counter()
    stats: dict[str, Counter] = {}  # e.g. "llm": requests_sent, cache_hits, tokens...
    inputs = 0
    for unit, (start, end) in enumerate(run.get("plan", [])):
        manifest = read_manifest(out, unit)
        if not manifest:
            inputs += end - start
            continue
        done += 1
        inputs += manifest.get("inputs", end - start)  # a tar unit counts the images it held
        counts.update(manifest["counts"])
        reasons.update(manifest["reasons"])
        seconds += manifest.get("seconds", 0.0)
        stage_seconds.update(manifest.get("stage_seconds", {}))
        for family, values in manifest.get("stats", {}).items():
            stats.setdefault(family, Counter()).update(values)
        for name, digest in manifest.get("fonts", {}).items():
            if fonts.setdefault(name, digest) != digest:
                font_conflicts.add(name)
    total = sum(counts.values())
    return {
        "units_done": done,
        "units_planned": len(run.get("plan", [])),
        "inputs": inputs,
        "rows": total,
        "counts": {s: counts.get(s, 0) for s in ("kept", "rejected", "error")},
        "reasons": dict(sorted(reasons.items())),
        "worker_seconds": round(seconds, 3),
        "stage_seconds": {k: round(v, 3) for k, v in sorted(stage_seconds.items())},
        "fonts": dict(sorted(fonts.items())),
        "font_conflicts": sorted(font_conflicts),
        **{family: dict(sorted(values.items())) for family, values in sorted(stats.items())},
    }


def summary_line(report: dict[str, Any]) -> str:
    c = report["counts"]
    reasons = ", ".join(f"{k}={v}" for k, v in report["reasons"].items()) or "none"
    return (
        f"{report['rows']} rows: {c['kept']} kept, {c['rejected']} rejected, {c['error']} error "
        f"(reasons: {reasons})"
    )


def inspect(out_uri: str) -> dict[str, Any]:
    """What ``synth inspect --json`` prints: the run's identity, counts by status and reason (from
    the unit manifests), the last invocation's timings, and non-null counts per column of data/."""
    out = OutputDir(out_uri)
    run = out.read_json("run.json")
    if run is None:
        raise FileNotFoundError(f"{out.uri} has no run.json: not a synth output folder")
    last = (run.get("invocations") or [{}])[-1]
    return {
        "out": out.uri,
        "pipeline": run["pipeline"],
        "status": run.get("status"),
        "content_hash": run["content_hash"],
        "seed": run["seed"],
        "split": run["split"],
        **collect(out, run),
        "samples_per_second": last.get("samples_per_second"),
        "phase_seconds": last.get("phase_seconds"),
        "schema": column_counts(out),
    }


def column_counts(out: OutputDir) -> dict[str, int]:
    """Non-null counts per top-level column over data/, from Parquet footers only (no data read)."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for shard in out.list("data", ".parquet"):
        with out.fs.open_input_file(out.path(shard)) as f:
            meta = pq.ParquetFile(f).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                col = group.column(c)
                top = col.path_in_schema.split(".")[0]
                stats = col.statistics
                if stats is not None and stats.has_null_count and "." not in col.path_in_schema:
                    counts[top] = counts.get(top, 0) + group.num_rows - stats.null_count
                else:
                    counts.setdefault(top, 0)
    return counts
