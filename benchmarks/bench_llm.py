"""Throughput of ``synth cot`` against vLLM's own serving benchmark on the same server and model,
and a rerun that the cache answers.

``synth cot`` runs with the shipped config's unit and batch sizes (configs/cot.yaml: units of 64
rows, batches of 8) on one worker at ``llm.concurrency`` (64 by default), so its requests in
flight are that worker's: the requests of every batch of a unit stream out as they are made,
not one batch at a time.

Prints, from one run on this machine:
  * synth cot: rows/s, requests/s and output tokens/s (guided JSON, our client, Ray, writing),
    end to end and over its units phase alone (without Ray's actor start and the run's setup)
  * vLLM's serving benchmark (``vllm.benchmarks.serve``) at the same max concurrency, with random
    prompts of the same mean input and output lengths (``--ignore-eos``): requests/s and output
    tokens/s
  * the ratios of output tokens/s (target at least 0.9); ours and vLLM's run alternately,
    ``--rounds`` times, and the median ratio is printed, since a shared machine's load varies
  * the rerun into a new folder: cache hits / rows answered (target 100%) and requests sent

    python benchmarks/bench_llm.py --num 320 --concurrency 64
    python benchmarks/bench_llm.py --unit-size 320     # one unit: what unit boundaries cost
    python benchmarks/bench_llm.py --base-url http://127.0.0.1:8000/v1 --model /models/Qwen3-8B
    python benchmarks/bench_llm.py --server-core 0     # the server on a core of its own, as on a GPU node

Without --base-url it saves the test suite's tiny random-weight VLM (tests/make_tiny_vlm.py) and
serves it with ``synth llm serve``'s code.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipelines import registry
from synth.config import default_config_path, load_config
from synth.llm_server import LlmServer, llm_python
from synth.runner import run_pipeline

REPO = Path(__file__).resolve().parent.parent

VLLM_BENCH = """
import json, sys
from vllm.benchmarks.serve import add_cli_args, main
from vllm.utils.argparse_utils import FlexibleArgumentParser
parser = FlexibleArgumentParser()
add_cli_args(parser)
main(parser.parse_args(sys.argv[1:]))
"""


def run(name: str, out: str, num: int | None, *sets: str) -> dict:
    pipeline = registry()[name]
    cfg = load_config(pipeline.config_model, default_config_path(name), ["seed=7", *sets])
    t0 = time.perf_counter()
    result = run_pipeline(pipeline, cfg, out, num, progress=False)
    phases = result["invocations"][-1].get("phase_seconds") or {}
    return {"seconds": time.perf_counter() - t0, "units_seconds": phases.get("units"), "report": result["report"],
            "runtime": cfg.runtime}  # fmt: skip


def vllm_bench(
    url: str, model: str, prompts: int, concurrency: int, len_in: int, len_out: int, tmp: str, name: str
) -> dict:
    base = url.removesuffix("/v1")
    args = ["--backend", "openai-chat", "--base-url", base, "--endpoint", "/v1/chat/completions", "--model", model,
            "--dataset-name", "random", "--random-input-len", str(len_in), "--random-output-len", str(len_out),
            "--num-prompts", str(prompts), "--max-concurrency", str(concurrency), "--ignore-eos",
            "--save-result", "--result-dir", tmp, "--result-filename", name, "--seed", "7"]  # fmt: skip
    done = subprocess.run([llm_python(), "-c", VLLM_BENCH, *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"vLLM's benchmark failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(Path(tmp, name).read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=320, help="cs-diagram rows to expand")
    ap.add_argument(
        "--concurrency", type=int, default=64, help="llm.concurrency and vLLM's --max-concurrency"
    )
    ap.add_argument("--unit-size", type=int, default=None,
                    help="override runtime.unit_size (default: the shipped config's), to see what unit boundaries cost")  # fmt: skip
    ap.add_argument("--rounds", type=int, default=3,
                    help="ours and vLLM's, alternating (the median ratio is printed: a shared machine's load varies)")  # fmt: skip
    ap.add_argument("--server-core", type=int, default=None,
                    help="serve on this CPU core alone and run both clients on the others, as on a GPU node, where the "
                         "server's work is off the clients' CPU (on a shared CPU, any client's own work slows the server)")  # fmt: skip
    ap.add_argument("--base-url", default=None, help="an existing server (else the tiny model is served)")
    ap.add_argument("--model", default=None, help="the model folder (served, or the server's model name)")
    args = ap.parse_args()
    if args.base_url and not args.model:
        ap.error("--base-url needs --model: the server's model (vLLM's benchmark loads its tokenizer)")
    cores = os.sched_getaffinity(0)
    if args.server_core is not None:
        if args.base_url:
            ap.error("--server-core places the server this benchmark starts; with --base-url it starts none")
        if args.server_core not in cores or len(cores) < 2:
            ap.error(f"--server-core {args.server_core}: this process may use cores {sorted(cores)}")
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        model = args.model
        if args.base_url is None:
            if model is None:
                model = f"{tmp}/tiny-vlm"
                subprocess.run([llm_python(), str(REPO / "tests" / "make_tiny_vlm.py"), model], check=True,
                               capture_output=True)  # fmt: skip
            if args.server_core is not None:  # the server inherits this core, everything after the rest
                os.sched_setaffinity(0, {args.server_core})
            server = LlmServer(model, port=8765, log=f"{tmp}/vllm.log").wait()
            if args.server_core is not None:
                os.sched_setaffinity(0, cores - {args.server_core})
        url = args.base_url or server.url
        try:
            inputs = run("cs_diagram", f"{tmp}/cs", args.num, "tasks={t2i: 1, edit: 1}")
            # One worker, so the requests in flight are one client's llm.concurrency; unit and
            # batch sizes stay the shipped config's.
            llm = [f"llm.base_url={url}", f"llm.concurrency={args.concurrency}", "llm.temperature=1.0",
                   "llm.max_tokens=512", "max_chars=80", "max_items=4", "runtime.workers=1",
                   *([f"runtime.unit_size={args.unit_size}"] if args.unit_size else [])]  # fmt: skip
            sets = [f"inputs={json.dumps([f'{tmp}/cs'])}", *llm]
            rounds = []
            for i in range(args.rounds):  # a cache of its own each round: every answer is asked for
                ours = run("cot", f"{tmp}/cot{i}", None, *sets, f"llm.cache_dir={tmp}/cache{i}")
                c = ours["report"]["llm"]
                sent = c["requests_sent"]
                len_in, len_out = round(c["tokens_in"] / sent), round(c["tokens_out"] / sent)
                theirs = vllm_bench(url, model, sent, args.concurrency, len_in, len_out, tmp, f"vllm{i}.json")
                rounds.append((ours, theirs, len_in, len_out))
            again = run("cot", f"{tmp}/cot_again", None, *sets, f"llm.cache_dir={tmp}/cache0")
        finally:
            if server is not None:
                server.stop()
    rows = inputs["report"]["counts"]["kept"]
    rt = rounds[0][0]["runtime"]
    if args.server_core is not None:
        print(f"the server on core {args.server_core} alone; both clients, Ray and the writer on the others")
    print(f"input: {rows} cs-diagram rows ({inputs['report']['counts']}); llm.concurrency {args.concurrency}, "
          f"runtime.unit_size {rt.unit_size}, runtime.batch_size {rt.batch_size}, runtime.workers {rt.workers}")  # fmt: skip
    ratios, unit_ratios = [], []
    for i, (ours, theirs, len_in, len_out) in enumerate(rounds, 1):
        c, s, units = ours["report"]["llm"], ours["seconds"], ours["units_seconds"]
        sent = c["requests_sent"]
        ratios.append(c["tokens_out"] / s / theirs["output_throughput"])
        print(f"round {i}: synth cot {rows / s:.2f} rows/s, {sent / s:.2f} requests/s, {c['tokens_out'] / s:.0f} "
              f"output tok/s end to end ({s:.1f} s; {sent} requests, {c['retries']} retries, mean {len_in} in / "
              f"{len_out} out tokens, off_schema {c['off_schema']}; {ours['report']['counts']})")  # fmt: skip
        if units:
            unit_ratios.append(c["tokens_out"] / units / theirs["output_throughput"])
            print(f"  units phase alone: {sent / units:.2f} requests/s, {c['tokens_out'] / units:.0f} output tok/s "
                  f"({units:.1f} s)")  # fmt: skip
        print(f"  vLLM serving benchmark: {theirs['request_throughput']:.2f} requests/s, "
              f"{theirs['output_throughput']:.0f} output tok/s ({theirs['completed']} completed, "
              f"{theirs['duration']:.1f} s); ratio {ratios[-1]:.2f}")  # fmt: skip
    print(f"ratio (output tokens/s, ours / vLLM's), median of {len(ratios)}: {statistics.median(ratios):.2f} end to end"
          + (f", {statistics.median(unit_ratios):.2f} units phase" if unit_ratios else ""))  # fmt: skip
    kept = rounds[0][0]["report"]["counts"]
    r = again["report"]["llm"]
    answered = kept["kept"] + kept["rejected"]
    print(f"rerun of round 1 into a new folder: {r['cache_hits']} cache hits for {answered} answered rows "
          f"({r['cache_hits'] / max(answered, 1):.0%}), {r['requests_sent']} requests sent, "
          f"{again['seconds']:.1f} s")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
