"""Throughput of ``synth text-edit`` against the bare functions, and the verification pass rate per
edit operation.

Prints, as the median of ``--repeats`` alternating runs with every run's figures (one run of each
side decided nothing: the same machine gave 0.76 and 0.92):
  * pipeline triplets/s (Ray, one worker per core: draw, instructions, OCR verification, writing)
    vs the bare loop (the same stages in one process) x cores: the ratio, target >= 0.8
  * worker seconds per stage of the bare loop (drawing vs verification)
  * kept / attempted per operation over the pipeline runs (the Done-when asks for >= 85% overall,
    and every operation present)

    python benchmarks/bench_text_edit.py --num 300 --bare 44 --repeats 3
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
from repeats import alternating, medians

from pipelines.text_edit import PIPELINE
from synth.config import default_config_path, load_config
from synth.runner import run_pipeline


def config(*sets: str):
    return load_config(PIPELINE.config_model, default_config_path("text_edit"), ["seed=5", *sets])


def bare(num: int) -> tuple[float, Counter]:
    """The pipeline's stages in a plain loop in this process: triplets/s and seconds per stage."""
    return bare_loop(PIPELINE, config("verify.ocr.threads=1"), num)


def pipeline(num: int, cores: int, out: str) -> tuple[float, list[dict]]:
    """Triplets/s of the Ray pipeline end to end, and its rows' operation, status and reason."""
    cfg = config(f"runtime.workers={cores}", "verify.ocr.threads=1")
    t0 = time.perf_counter()
    run_pipeline(PIPELINE, cfg, out, num, progress=False)
    rate = num / (time.perf_counter() - t0)
    rows = [
        r
        for folder in ("data", "rejected")
        for r in pq.read_table(f"{out}/{folder}", columns=["subdomain", "status", "reason"]).to_pylist()
    ]
    return rate, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=300, help="triplets for each pipeline run")
    ap.add_argument("--bare", type=int, default=44, help="triplets for each bare loop")
    ap.add_argument("--repeats", type=int, default=3, help="bare and pipeline runs, alternating")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()
    cores = psutil.cpu_count(logical=True)

    import ray

    ray.init(num_cpus=cores, include_dashboard=False, logging_level="ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        runs = alternating(
            {
                "bare": lambda i: bare(args.bare),
                "pipeline": lambda i: pipeline(args.num, cores, f"{tmp}/run{i}"),
            },
            args.repeats,
        )
    attempted, kept, reasons = Counter(), Counter(), Counter()
    for rep in runs:
        for r in rep["pipeline"][1]:
            op = (r["subdomain"] or "?").split("/")[-1]
            attempted[op] += 1
            kept[op] += r["status"] == "kept"
            if r["status"] != "kept":
                reasons[f"{op}:{r['reason']}"] += 1
    figures = [
        {
            "bare_triplets_per_s_one_process": rep["bare"][0],
            "pipeline_triplets_per_s": rep["pipeline"][0],
            "pipeline_vs_bare_x_cores": rep["pipeline"][0] / (rep["bare"][0] * cores),
        }
        for rep in runs
    ]
    seconds = sum((rep["bare"][1] for rep in runs), Counter())
    result = {
        "cores": cores,
        "median": {k: round(v, 3) for k, v in medians(figures).items()},
        "runs": [{k: round(v, 3) for k, v in f.items()} for f in figures],
        "bare_seconds_by_stage": {k: round(v / len(runs), 2) for k, v in seconds.items()},
        "pass_rate": round(sum(kept.values()) / max(1, sum(attempted.values())), 4),
        "pass_rate_by_operation": {op: f"{kept[op]}/{attempted[op]}" for op in sorted(attempted)},
        "not_kept": dict(reasons.most_common()),
    }
    print(json.dumps(result, indent=2))
    print(
        f"pipeline / (bare x {cores} cores), median of {len(runs)}: "
        f"{result['median']['pipeline_vs_bare_x_cores']} (target >= 0.8; runs: "
        + ", ".join(str(f["pipeline_vs_bare_x_cores"]) for f in result["runs"])
        + f"); verification pass rate {result['pass_rate']:.1%} over {sum(attempted.values())} triplets"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
