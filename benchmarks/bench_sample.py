"""Images per second of our sampler against the official pipeline called row by row, on the same
checkpoint, prompts, seeds, steps, threads and machine; and ours batched.

Ratios are ours / official (target: unbatched at least 1.0, batched higher). The official side
runs in the oracle's venv (``../shared/ivu_oracle/setup.sh``) from the same files, one prompt a
call as its README does; both sides warm up with one call, then time ``--rows`` prompts at
``--steps`` steps. The images of both sides are compared (same seeds: within 1 level).

    python benchmarks/bench_sample.py                                   # tiny and mid, CPU, 1 thread
    python benchmarks/bench_sample.py --sizes release --device cuda --dtype bfloat16 --no-official
        # on a GPU: the released architecture with random weights (no download), images/s and memory

Sizes: ``tiny`` (``synth model tiny``, 64 px), ``mid`` (head 4 x 512, Qwen3 4 x 512; 256 px),
``release`` (InternViT-300M, Qwen3-1.7B, the 20-layer head, the Qwen-Image VAE; 512 px).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from synth.internvlu.model import InternVLU, build_components
from synth.internvlu.presets import (
    build_tokenizer,
    make_checkpoint,
    mid_configs,
    randomize,
    release_configs,
    tiny_configs,
)
from synth.internvlu.sample import Request, Sampler

PROMPTS = [
    "a small red cube and a blue sphere on a wooden table, studio lighting",
    "A poster that says \"OPEN\"",
    "sunset over the sea",
    "a watercolour painting of a lighthouse in the morning fog, soft light, gulls over the waves",
    "a red bicycle",
    "a bar chart of three bars labelled A, B and C",
    "two cats asleep on a sofa",
    "the word HELLO in bold white letters on a black background",
]  # fmt: skip
SIZES = {"tiny": (tiny_configs, 64), "mid": (mid_configs, 256), "release": (None, 512)}

OFFICIAL = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, torch
from internvlu import InternVLUPipeline
ckpt, size, steps, threads, prompts, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6]), sys.argv[7]
torch.set_num_threads(threads)
pipe = InternVLUPipeline.from_pretrained(ckpt, torch_dtype=torch.float32)
def draw(i, p):
    g = torch.Generator("cpu").manual_seed(i)
    return np.asarray(pipe(prompt=p, generation_mode="image", height=size, width=size,
                           num_inference_steps=steps, generator=g).images[0])
with torch.no_grad():
    draw(0, prompts[0])
    t0 = time.perf_counter()
    images = [draw(i, p) for i, p in enumerate(prompts)]
    seconds = time.perf_counter() - t0
np.save(out, np.stack(images))
print(json.dumps({"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def release_model(device: str, dtype: torch.dtype, tmp: Path) -> InternVLU:
    """The released architecture with random weights, built on ``device`` (nothing on disk but the
    tokenizer): for timings and memory where the real weights are not at hand."""
    from synth.internvlu.model import Configs

    proc = tmp / "processor"
    proc.mkdir(parents=True, exist_ok=True)
    build_tokenizer(proc)
    configs: Configs = release_configs()
    (proc / "processor_config.json").write_text(json.dumps(configs.processor))
    with torch.device(device):
        components = build_components(configs)
    for i, name in enumerate(("vlm", "generation_decoder", "vae")):
        randomize(components[name], i + 1)
        components[name].to(dtype).eval()
    files = {p.name: p.read_bytes() for p in sorted(proc.iterdir()) if p.is_file()}
    model = InternVLU(configs, components, files)
    model.load_tokenizer(proc)
    return model


def timed(fn, device: str) -> tuple[float, list]:
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["tiny", "mid"], choices=list(SIZES))
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--official-python", default="/tmp/ivu-venv/bin/python")
    ap.add_argument(
        "--official-src", default="/tmp/ivu-src", help="the folder holding the official internvlu/"
    )
    ap.add_argument("--no-official", action="store_true", help="ours only (a GPU, or no oracle venv)")
    args = ap.parse_args()
    if not args.no_official and not Path(args.official_python).exists():
        print(f"no oracle venv at {args.official_python} (../shared/ivu_oracle/setup.sh makes it): ours only")
        args.no_official = True
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(args.rows)]
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes:
            configs, px = SIZES[name]
            root = Path(tmp) / name
            if configs is None:
                model = release_model(args.device, dtype, root)
            else:
                make_checkpoint(root, configs, seed=0)
                model = InternVLU.from_pretrained(root, dtype=dtype, device=args.device)
            sampler = Sampler(model)
            reqs = [
                Request(p, "image", None, px, px, args.steps, noise_seed=i) for i, p in enumerate(prompts)
            ]
            if args.device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            sampler(reqs[:1])  # warm-up
            alone_s, alone = timed(lambda s=sampler, reqs=reqs: [s([r])[0] for r in reqs], args.device)
            batch_s, batched = timed(lambda s=sampler, reqs=reqs: s(reqs), args.device)
            f = {"px": px, "ours_alone_img_s": len(reqs) / alone_s, "ours_batched_img_s": len(reqs) / batch_s}
            f["batched_vs_alone_max_level"] = int(max(np.abs(a.image.astype(int) - b.image).max() for a, b in zip(alone, batched, strict=True)))  # fmt: skip
            if args.device == "cuda":
                f["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
            if not args.no_official and configs is not None:
                npy = Path(tmp) / f"{name}.npy"
                done = subprocess.run(
                    [args.official_python, "-c", OFFICIAL, args.official_src, str(root), str(px), str(args.steps),
                     str(args.threads), json.dumps(prompts), str(npy)], capture_output=True, text=True)  # fmt: skip
                if done.returncode:
                    raise SystemExit(f"the official side failed:\n{done.stderr[-3000:]}")
                theirs = json.loads(done.stdout.strip().splitlines()[-1])
                official = np.load(npy)
                f["official_img_s"] = len(reqs) / theirs["seconds"]
                f["official_peak_mib"] = theirs["peak_mib"]
                f["ratio_alone"] = f["ours_alone_img_s"] / f["official_img_s"]
                f["ratio_batched"] = f["ours_batched_img_s"] / f["official_img_s"]
                f["vs_official_max_level"] = int(max(np.abs(a.image.astype(int) - o).max() for a, o in zip(alone, official, strict=True)))  # fmt: skip
            figures[name] = f
            line = (f"{name} ({px} px, {args.steps} steps, {args.rows} rows, {args.device} {args.dtype}, "
                    f"{args.threads} thread(s)): ours {f['ours_alone_img_s']:.3f} img/s alone, "
                    f"{f['ours_batched_img_s']:.3f} batched")  # fmt: skip
            if "official_img_s" in f:
                line += (f"; official {f['official_img_s']:.3f} img/s row by row -> ratio {f['ratio_alone']:.2f} "
                         f"alone, {f['ratio_batched']:.2f} batched; images agree within {f['vs_official_max_level']} level(s)")  # fmt: skip
            if "gpu_peak_mib" in f:
                line += f"; GPU peak {f['gpu_peak_mib']:.0f} MiB"
            print(line, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS ours {peak:.0f} MiB (every size in one process)")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
