"""Throughput of ``synth text-edit`` against the bare functions, and the verification pass rate per
edit operation.

Prints, from one run on this machine:
  * pipeline triplets/s (Ray, one worker per core: draw, instructions, OCR verification, writing)
    vs the bare loop (the same stages in one process) x cores: the ratio
  * worker seconds per stage of the bare loop (drawing vs verification)
  * kept / attempted per operation in the pipeline run (the Done-when asks for >= 85% overall, and
    every operation present)

    python benchmarks/bench_text_edit.py --num 300 --bare 44
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

from pipelines.text_edit import PIPELINE
from synth.config import default_config_path, load_config
from synth.runner import run_pipeline


def config(*sets: str):
    return load_config(PIPELINE.config_model, default_config_path("text_edit"), ["seed=5", *sets])


def bare(num: int) -> tuple[float, Counter]:
    """The pipeline's stages in a plain loop in this process: triplets/s and seconds per stage."""
    return bare_loop(PIPELINE, config("verify.ocr.threads=1"), num)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=300, help="triplets for the pipeline run")
    ap.add_argument("--bare", type=int, default=44, help="triplets for the bare loop")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()
    cores = psutil.cpu_count(logical=True)
    rate_bare, seconds = bare(args.bare)

    import ray

    ray.init(num_cpus=cores, include_dashboard=False, logging_level="ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(f"runtime.workers={cores}", "verify.ocr.threads=1")
        t0 = time.perf_counter()
        run_pipeline(PIPELINE, cfg, f"{tmp}/run", args.num, progress=False)
        rate_pipe = args.num / (time.perf_counter() - t0)
        rows = [
            r
            for folder in ("data", "rejected")
            for r in pq.read_table(
                f"{tmp}/run/{folder}", columns=["subdomain", "status", "reason"]
            ).to_pylist()
        ]
    attempted, kept, reasons = Counter(), Counter(), Counter()
    for r in rows:
        op = (r["subdomain"] or "?").split("/")[-1]
        attempted[op] += 1
        kept[op] += r["status"] == "kept"
        if r["status"] != "kept":
            reasons[f"{op}:{r['reason']}"] += 1
    result = {
        "cores": cores,
        "bare_triplets_per_s_one_process": round(rate_bare, 3),
        "pipeline_triplets_per_s": round(rate_pipe, 3),
        "pipeline_vs_bare_x_cores": round(rate_pipe / (rate_bare * cores), 3),
        "bare_seconds_by_stage": {k: round(v, 2) for k, v in seconds.items()},
        "pass_rate": round(sum(kept.values()) / max(1, len(rows)), 4),
        "pass_rate_by_operation": {op: f"{kept[op]}/{attempted[op]}" for op in sorted(attempted)},
        "not_kept": dict(reasons.most_common()),
    }
    print(json.dumps(result, indent=2))
    print(
        f"pipeline / (bare x {cores} cores) = {result['pipeline_vs_bare_x_cores']}; "
        f"verification pass rate {result['pass_rate']:.1%} over {len(rows)} triplets"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
