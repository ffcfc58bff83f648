"""Throughput of ``synth cot`` against vLLM's own serving benchmark on the same server and model,
and a rerun that the cache answers.

Prints, from one run on this machine:
  * synth cot: rows/s, requests/s and output tokens/s (guided JSON, our client, Ray, writing)
  * vLLM's serving benchmark (``vllm.benchmarks.serve``) at the same concurrency, with random
    prompts of the same mean input and output lengths (``--ignore-eos``): requests/s and output
    tokens/s
  * the ratio of output tokens/s (target at least 0.9)
  * the rerun into a new folder: cache hits / rows answered (target 100%) and requests sent

    python benchmarks/bench_llm.py --num 160 --concurrency 16
    python benchmarks/bench_llm.py --base-url http://127.0.0.1:8000/v1 --model /models/Qwen3-8B

Without --base-url it saves the test suite's tiny random-weight VLM (tests/make_tiny_vlm.py) and
serves it with ``synth llm serve``'s code.
"""

from __future__ import annotations

import argparse
import json
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
    return {"seconds": time.perf_counter() - t0, "report": result["report"]}


def vllm_bench(
    url: str, model: str, prompts: int, concurrency: int, len_in: int, len_out: int, tmp: str
) -> dict:
    base = url.removesuffix("/v1")
    args = ["--backend", "openai-chat", "--base-url", base, "--endpoint", "/v1/chat/completions", "--model", model,
            "--dataset-name", "random", "--random-input-len", str(len_in), "--random-output-len", str(len_out),
            "--num-prompts", str(prompts), "--max-concurrency", str(concurrency), "--ignore-eos",
            "--save-result", "--result-dir", tmp, "--result-filename", "vllm.json", "--seed", "7"]  # fmt: skip
    done = subprocess.run([llm_python(), "-c", VLLM_BENCH, *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"vLLM's benchmark failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(Path(tmp, "vllm.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=160, help="cs-diagram rows to expand")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--base-url", default=None, help="an existing server (else the tiny model is served)")
    ap.add_argument("--model", default=None, help="the model folder (served, or the server's model name)")
    args = ap.parse_args()
    if args.base_url and not args.model:
        ap.error("--base-url needs --model: the server's model (vLLM's benchmark loads its tokenizer)")
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        model = args.model
        if args.base_url is None:
            if model is None:
                model = f"{tmp}/tiny-vlm"
                subprocess.run([llm_python(), str(REPO / "tests" / "make_tiny_vlm.py"), model], check=True,
                               capture_output=True)  # fmt: skip
            server = LlmServer(model, port=8765, max_model_len=2048, log=f"{tmp}/vllm.log").wait()
        url = args.base_url or server.url
        try:
            inputs = run("cs_diagram", f"{tmp}/cs", args.num, "tasks={t2i: 1, edit: 1}")
            llm = [f"llm.base_url={url}", f"llm.cache_dir={tmp}/cache", f"llm.concurrency={args.concurrency}",
                   "llm.temperature=1.0", "llm.max_tokens=512", "max_chars=80", "max_items=4",
                   "runtime.workers=1", f"runtime.batch_size={args.num}", f"runtime.unit_size={args.num}"]  # fmt: skip
            sets = [f"inputs={json.dumps([f'{tmp}/cs'])}", *llm]
            ours = run("cot", f"{tmp}/cot", None, *sets)
            again = run("cot", f"{tmp}/cot_again", None, *sets)
            c = ours["report"]["llm"]
            sent = c["requests_sent"]
            len_in, len_out = round(c["tokens_in"] / sent), round(c["tokens_out"] / sent)
            theirs = vllm_bench(url, model, sent, args.concurrency, len_in, len_out, tmp)
        finally:
            if server is not None:
                server.stop()
    rows = inputs["report"]["counts"]["kept"]
    s = ours["seconds"]
    kept = ours["report"]["counts"]
    r = again["report"]["llm"]
    print(f"input: {rows} cs-diagram rows ({inputs['report']['counts']}), concurrency {args.concurrency}")
    print(f"synth cot: {rows / s:.2f} rows/s, {sent / s:.2f} requests/s, {c['tokens_out'] / s:.0f} output tok/s "
          f"({sent} requests, {c['retries']} retries, mean {len_in} in / {len_out} out tokens, off_schema "
          f"{c['off_schema']}; {kept})")  # fmt: skip
    print(f"vLLM serving benchmark: {theirs['request_throughput']:.2f} requests/s, "
          f"{theirs['output_throughput']:.0f} output tok/s ({theirs['completed']} completed)")  # fmt: skip
    print(f"ratio (output tokens/s, ours / vLLM's): {c['tokens_out'] / s / theirs['output_throughput']:.2f}")
    answered = kept["kept"] + kept["rejected"]
    print(f"rerun into a new folder: {r['cache_hits']} cache hits for {answered} answered rows "
          f"({r['cache_hits'] / max(answered, 1):.0%}), {r['requests_sent']} requests sent, "
          f"{again['seconds']:.1f} s")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
