"""Throughput of ``synth meme`` against its bare stages, and how clean the caption removal is.

Photo templates (``--num``): each photo is captioned with a bundled plan, then detected, erased,
captioned anew from a bundled plan (the LLM stage left out: ``stages=[detect,remove,render,verify]``),
read back and written. Prints, from one run on this machine:
  * pipeline memes/s (Ray, one worker per core) vs the same stages in one process x cores: the ratio
    (target at least 0.8)
  * worker seconds per stage of the bare loop
  * the removal's OCR-clean rate: of the captions detection found, the share OCR no longer finds
    after erasing (target at least 0.95), and detection's recall of the known captions
  * kept / attempted per row kind, and the reasons of the rest

    python benchmarks/bench_meme.py --num 240 --bare 48
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter

import psutil
import pyarrow.parquet as pq

from pipelines.meme import PIPELINE
from synth.config import default_config_path, load_config
from synth.pipeline import RunIdentity, Unit
from synth.runner import run_pipeline
from synth.schema import meta_of, scores_of
from synth.stage import run_stages

SETS = ["seed=7", "verify.ocr.threads=1", "stages=[detect,remove,render,verify]"]


def config(*sets: str):
    return load_config(PIPELINE.config_model, default_config_path(PIPELINE.name), [*SETS, *sets])


def bare_loop(num: int) -> tuple[float, Counter]:
    """The stages in a plain loop in this process: memes/s and seconds per stage."""
    cfg = config()
    stages = PIPELINE.build_stages(cfg)
    for s in stages:
        s.setup()
    ident = RunIdentity(PIPELINE.name, cfg.content_hash(), cfg.seed, cfg.split)
    rows = PIPELINE.rows_for(cfg, ident, Unit(0, 0, num))
    seconds: Counter = Counter()
    t0 = time.perf_counter()
    run_stages(stages, rows, cfg.runtime.batch_size, seconds)
    return num / (time.perf_counter() - t0), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=240, help="rows for the pipeline run")
    ap.add_argument("--bare", type=int, default=48, help="rows for the bare loop")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()
    cores = psutil.cpu_count(logical=True)

    import ray

    ray.init(num_cpus=cores, include_dashboard=False, logging_level="ERROR")
    rate_bare, seconds = bare_loop(args.bare)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_pipeline(PIPELINE, config(f"runtime.workers={cores}"), f"{tmp}/run", args.num, progress=False)
        rate_pipe = args.num / (time.perf_counter() - t0)
        rows = [r for d in ("data", "rejected") for r in pq.read_table(f"{tmp}/run/{d}").to_pylist()]
    attempted, kept, reasons = Counter(), Counter(), Counter()
    removal: dict[int, list[bool]] = {}
    recall: dict[int, float] = {}
    for r in rows:
        kind = r["subdomain"].split("/")[1]
        attempted[kind] += 1
        kept[kind] += r["status"] == "kept"
        if r["status"] != "kept":
            reasons[f"{kind}:{r['reason']}"] += 1
        template = meta_of(r)["template"]
        if r["spec"]:
            removal[template] = json.loads(r["spec"])["erase"]["clean"]
        if "detect_recall" in scores_of(r):
            recall[template] = scores_of(r)["detect_recall"]
    erased = [c for cs in removal.values() for c in cs]
    result = {
        "cores": cores,
        "bare_rows_per_s_one_process": round(rate_bare, 3),
        "pipeline_rows_per_s": round(rate_pipe, 3),
        "pipeline_vs_bare_x_cores": round(rate_pipe / (rate_bare * cores), 3),
        "bare_seconds_by_stage": {k: round(v, 2) for k, v in seconds.items()},
        "templates": len(removal),
        "captions_detected": len(erased),
        "removal_ocr_clean_rate": round(sum(erased) / max(1, len(erased)), 4),
        "detect_recall_mean": round(sum(recall.values()) / max(1, len(recall)), 4),
        "pass_rate_by_kind": {k: f"{kept[k]}/{attempted[k]}" for k in sorted(attempted)},
        "not_kept": dict(reasons.most_common()),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
