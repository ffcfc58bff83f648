"""Throughput of ``synth physics``, ``synth cs-diagram``, ``synth geometry``, ``synth cad``, ``synth chemistry``
and ``synth biology`` against their bare functions, the share of time in verification, and the pass rate per kind.

Prints, from one run on this machine, per domain:
  * pipeline samples/s (Ray, one worker per core: draw, render, mask, OCR verification, writing)
    vs the bare loop (the same stages in one process) x cores: the ratio
  * worker seconds per stage of the bare loop, and the share of them in verification (the OCR
    read-back; geometry also ray-casts every piece while drawing, and cad shades and checks every
    view against the mesh, both counted under draw)
  * kept / attempted per kind (the Done-when asks for every kind in a default run)

    python benchmarks/bench_diagrams.py --num 400 --bare 60 [--domains geometry cad chemistry biology]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter

import psutil
import pyarrow.parquet as pq
from bench_text_render import bare_loop

from pipelines.biology import PIPELINE as BIOLOGY
from pipelines.cad import PIPELINE as CAD
from pipelines.chemistry import PIPELINE as CHEMISTRY
from pipelines.cs_diagram import PIPELINE as CS
from pipelines.geometry import PIPELINE as GEOMETRY
from pipelines.physics import PIPELINE as PHYSICS
from synth.config import default_config_path, load_config
from synth.runner import run_pipeline


def config(pipeline, *sets: str):
    return load_config(
        pipeline.config_model, default_config_path(pipeline.name), ["seed=7", "verify.ocr.threads=1", *sets]
    )


def measure(pipeline, num: int, bare_num: int, cores: int) -> dict:
    rate_bare, seconds = bare_loop(pipeline, config(pipeline), bare_num)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_pipeline(
            pipeline, config(pipeline, f"runtime.workers={cores}"), f"{tmp}/run", num, progress=False
        )
        rate_pipe = num / (time.perf_counter() - t0)
        rows = [
            r
            for folder in ("data", "rejected")
            for r in pq.read_table(
                f"{tmp}/run/{folder}", columns=["subdomain", "task", "status", "reason", "meta"]
            ).to_pylist()
        ]
    attempted, kept, tasks, reasons = Counter(), Counter(), Counter(), Counter()
    for r in rows:
        kind = json.loads(r["meta"] or "{}").get("kind") or "?"  # the drawing stage records it
        attempted[kind] += 1
        kept[kind] += r["status"] == "kept"
        tasks[r["task"]] += r["status"] == "kept"
        if r["status"] != "kept":
            reasons[f"{kind}:{r['reason']}"] += 1
    return {
        "bare_samples_per_s_one_process": round(rate_bare, 3),
        "pipeline_samples_per_s": round(rate_pipe, 3),
        "pipeline_vs_bare_x_cores": round(rate_pipe / (rate_bare * cores), 3),
        "bare_seconds_by_stage": {k: round(v, 2) for k, v in seconds.items()},
        "verify_share": round(seconds.get("verify", 0.0) / max(1e-9, sum(seconds.values())), 3),
        "kept": sum(kept.values()),
        "pass_rate": round(sum(kept.values()) / max(1, len(rows)), 4),
        "kept_by_task": dict(tasks),
        "pass_rate_by_kind": {k: f"{kept[k]}/{attempted[k]}" for k in sorted(attempted)},
        "not_kept": dict(reasons.most_common()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=400, help="samples per domain for the pipeline run")
    ap.add_argument("--bare", type=int, default=60, help="samples per domain for the bare loop")
    ap.add_argument("--json", default=None, help="also write the figures here")
    ap.add_argument(
        "--domains",
        nargs="+",
        default=["physics", "cs_diagram", "geometry", "cad", "chemistry", "biology"],
        help="which domains to run",
    )
    args = ap.parse_args()
    cores = psutil.cpu_count(logical=True)

    import ray

    ray.init(num_cpus=cores, include_dashboard=False, logging_level="ERROR")
    result = {"cores": cores}
    for pipeline in (PHYSICS, CS, GEOMETRY, CAD, CHEMISTRY, BIOLOGY):
        if pipeline.name in args.domains:
            result[pipeline.name] = measure(pipeline, args.num, args.bare, cores)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
