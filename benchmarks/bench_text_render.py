"""Throughput and memory of ``synth text-render`` against the bare drawing+verifying function.

Prints, from one run on this machine:
  * pipeline samples/s vs (bare render+encode+verify loop in one process) x (cores used): target >= 0.8
  * verification cost vs rendering cost (recognising the known crops): target <= 3x (DESIGN: <= 4x)
  * the full detection pass (stray text) vs rendering, reported separately
  * peak memory (driver + Ray workers) at a small and a large --num: target large <= 1.2x small

    python benchmarks/bench_text_render.py --num 600 --bare 40 --mem-small 400 --mem-large 2000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections import Counter

import psutil

from pipelines.text_render import PIPELINE
from synth.config import default_config_path, load_config
from synth.pipeline import RunIdentity, Unit
from synth.runner import run_pipeline
from synth.stage import run_stages


def config(*sets: str):
    return load_config(PIPELINE.config_model, default_config_path("text_render"), ["seed=11", *sets])


def bare(num: int, full_pass_every: int | None = None) -> tuple[float, Counter]:
    """The same stages in a plain loop in this process: samples/s and seconds per stage.
    ``full_pass_every`` None keeps the config's value (what the pipeline runs)."""
    sets = ["verify.ocr.threads=1"] + (
        [] if full_pass_every is None else [f"verify.full_pass_every={full_pass_every}"]
    )
    return bare_loop(PIPELINE, config(*sets), num)


def bare_loop(pipeline, cfg, num: int) -> tuple[float, Counter]:
    """A generator pipeline's stages in a plain loop in this process: samples/s and seconds per
    stage (the bare work the Ray pipeline is compared with)."""
    stages = pipeline.build_stages(cfg)
    for s in stages:
        s.setup()
    ident = RunIdentity(pipeline.name, cfg.content_hash(), cfg.seed, cfg.split)
    rows = pipeline.rows_for(cfg, ident, Unit(0, 0, num))
    seconds: Counter = Counter()
    t0 = time.perf_counter()
    run_stages(stages, rows, cfg.runtime.batch_size, seconds)
    return num / (time.perf_counter() - t0), seconds


class PeakRss:
    """Peak summed RSS of this process and every Ray process on the machine, sampled every 0.2 s."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()

    def _sample(self) -> int:
        total = 0
        for p in psutil.process_iter(["name", "cmdline"]):
            try:
                cmd = " ".join(p.info["cmdline"] or [])
                if p.pid == os.getpid() or "ray" in cmd.lower():
                    total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return total

    def __enter__(self):
        def loop():
            while not self._stop.is_set():
                self.peak = max(self.peak, self._sample())
                time.sleep(0.2)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def pipeline_rate(num: int, workers: int, folder: str) -> tuple[float, int]:
    cfg = config(f"runtime.workers={workers}", "verify.ocr.threads=1")
    with PeakRss() as mem:
        t0 = time.perf_counter()
        run_pipeline(PIPELINE, cfg, folder, num, overwrite=True, progress=False)
        rate = num / (time.perf_counter() - t0)
    return rate, mem.peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=600, help="samples for the pipeline rate (setup amortised)")
    ap.add_argument("--bare", type=int, default=60, help="samples for the bare loop")
    ap.add_argument("--mem-small", type=int, default=2000)
    ap.add_argument("--mem-large", type=int, default=20000)
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    cores = psutil.cpu_count(logical=True)

    rate_bare, _ = bare(args.bare)  # the same work the pipeline does, sampled full passes included
    _, sec = bare(args.bare, full_pass_every=0)
    _, sec_full = bare(max(10, args.bare // 3), full_pass_every=1)
    render_s = sec["render"]
    verify_ratio = sec["verify"] / render_s
    full_ratio = (sec_full["verify"] / max(10, args.bare // 3) - sec["verify"] / args.bare) / (
        render_s / args.bare
    )
    ocr_share = sec["verify"] / sum(sec.values())

    import ray

    ray.init(num_cpus=cores, include_dashboard=False, logging_level="ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        rate_pipe, _ = pipeline_rate(args.num, cores, f"{tmp}/rate")
        mem = {}
        if not args.skip_memory:
            for n in (args.mem_small, args.mem_large):
                mem[n] = pipeline_rate(n, cores, f"{tmp}/mem{n}")[1]
    result = {
        "cores": cores,
        "bare_samples_per_s_one_process": round(rate_bare, 3),
        "pipeline_samples_per_s": round(rate_pipe, 3),
        "pipeline_vs_bare_x_cores": round(rate_pipe / (rate_bare * cores), 3),
        "verify_vs_render": round(verify_ratio, 3),
        "full_pass_vs_render": round(full_ratio, 3),
        "ocr_share_of_worker_time": round(ocr_share, 3),
        "peak_rss_mb": {str(k): round(v / 2**20) for k, v in mem.items()},
    }
    if len(mem) == 2:
        result["memory_large_vs_small"] = round(mem[args.mem_large] / mem[args.mem_small], 3)
    print(json.dumps(result, indent=2))
    print(
        f"pipeline / (bare x {cores} cores) = {result['pipeline_vs_bare_x_cores']} (target >= 0.8); "
        f"verify / render = {result['verify_vs_render']} (target <= 3); OCR share = {ocr_share:.0%}"
    )


if __name__ == "__main__":
    main()
