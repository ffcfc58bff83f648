"""Our InternVL-U against the official classes: the head's forward and the VLM's condition
extraction on the same checkpoint, inputs and threads, as a ratio (target: at least 1.0, ours no
slower), with the peak memory of each side.

Two sizes: the tiny checkpoint (``synth model tiny``) and a mid-size one (head of 4 layers at
width 512, a 4-layer Qwen3 of width 512). The official side runs in the oracle's venv
(``../shared/ivu_oracle/setup.sh``: its own torch, transformers and diffusers pins) from the same
files; both sides time the median of ``--repeats`` calls after warm-up, ``--threads`` each, one
after the other on a quiet machine.

    python benchmarks/bench_model.py --official-python /tmp/ivu-venv/bin/python --official-src /tmp/ivu-src
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from synth.internvlu.model import InternVLU
from synth.internvlu.presets import make_checkpoint, mid_configs, tiny_configs
from synth.internvlu.transformer import HeadInputs

OFFICIAL = r"""
import json, os, resource, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, torch
from internvlu import InternVLUPipeline
ckpt, inputs, threads, repeats = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
pipe = InternVLUPipeline.from_pretrained(ckpt, torch_dtype=torch.float32)
head, vlm = pipe.generation_decoder.decoder.eval(), pipe.vlm.eval()
x = {k: torch.from_numpy(v) for k, v in np.load(inputs).items()}
b = x["latents"].shape[0]
def run_head():
    return head(x["latents"], encoder_hidden_states=x["cond"], timestep=x["timestep"],
                encoder_attention_mask=x["cond_mask"], encoder_image_token_mask=x["image_mask"],
                image_fhw_cond=[torch.zeros(0, 3, dtype=torch.long)] * b, image_grid_thw_gen=x["grid"],
                return_dict=False)[0]
def run_vlm():
    return vlm.generate_hidden_states(input_ids=x["input_ids"], attention_mask=x["attention_mask"]).hidden_states
out = {}
with torch.no_grad():
    for name, fn in (("head", run_head), ("vlm", run_vlm)):
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter(); r = fn(); times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    out["head_out"] = run_head().numpy().tolist()
out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def inputs_for(model: InternVLU, size: int, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A batch as the pipeline makes it: ``batch`` rows of latents at ``size`` px, a timestep,
    and the projected condition of prompts of different lengths (left-padded token ids)."""
    g = torch.Generator().manual_seed(seed)
    tok = model.tokenizer
    prompts = [
        "<|im_start|>system\nYou draw images.<|im_end|>\n<|im_start|>user\n" + "a red cube on a table " * (3 + 4 * i)
        + "<|im_end|>\n<|im_start|>assistant\n<img>"
        for i in range(batch)
    ]  # fmt: skip
    rows = [tok(p)["input_ids"] for p in prompts]
    n = max(len(r) for r in rows)
    ids = torch.tensor([[tok.pad_token_id] * (n - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (n - len(r)) + [1] * len(r) for r in rows])
    with torch.no_grad():
        states = model.vlm.hidden_states(ids, mask)
        conds, images = model.vlm.condition(
            ids, mask, states, model.generation_decoder.config.vlm_select_layer
        )
        cond, cmask, imask = model.generation_decoder.project(conds, images)
    lat = size // 8
    return {
        "latents": torch.randn(batch, 16, lat, lat, generator=g).numpy(),
        "timestep": torch.full((batch,), 500.0).numpy(),
        "cond": cond.numpy(),
        "cond_mask": cmask.numpy(),
        "image_mask": imask.numpy(),
        "grid": np.array([[1, lat, lat]] * batch, dtype=np.int64),
        "input_ids": ids.numpy(),
        "attention_mask": mask.numpy(),
    }


def ours(model: InternVLU, x: dict[str, np.ndarray], repeats: int) -> dict[str, float]:
    t = {k: torch.from_numpy(v) for k, v in x.items()}
    head = model.generation_decoder.decoder
    inputs = HeadInputs(
        list(t["latents"]), t["timestep"], t["cond"], t["cond_mask"].bool(), t["image_mask"].bool()
    )
    out = {}
    with torch.no_grad():
        for name, fn in (("head", lambda: head(inputs)),
                         ("vlm", lambda: model.vlm.hidden_states(t["input_ids"], t["attention_mask"]))):  # fmt: skip
            fn()
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            out[name] = statistics.median(times)
        out["head_out"] = torch.stack(head(inputs)).numpy()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official-python", default="/tmp/ivu-venv/bin/python")
    ap.add_argument(
        "--official-src", default="/tmp/ivu-src", help="the folder holding the official internvlu/"
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch", type=int, default=3, help="rows per call (3: the CFG rows of one prompt)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, size in (("tiny", 64), ("mid", 256)):
            root = Path(tmp) / name
            configs = tiny_configs if name == "tiny" else mid_configs
            make_checkpoint(root, configs, seed=0)
            model = InternVLU.from_pretrained(root)
            x = inputs_for(model, size, args.batch)
            np.savez(Path(tmp) / f"{name}.npz", **x)
            mine = ours(model, x, args.repeats)
            done = subprocess.run(
                [args.official_python, "-c", OFFICIAL, args.official_src, str(root), str(Path(tmp) / f"{name}.npz"),
                 str(args.threads), str(args.repeats)], capture_output=True, text=True)  # fmt: skip
            if done.returncode:
                raise SystemExit(f"the official side failed:\n{done.stderr[-3000:]}")
            theirs = json.loads(done.stdout.strip().splitlines()[-1])
            ref = np.asarray(theirs.pop("head_out"))
            diff = float(np.abs(mine.pop("head_out") - ref).max() / np.abs(ref).max())
            figures[name] = {
                "head_ms": {"ours": mine["head"] * 1e3, "official": theirs["head"] * 1e3},
                "vlm_ms": {"ours": mine["vlm"] * 1e3, "official": theirs["vlm"] * 1e3},
                "head_ratio": theirs["head"] / mine["head"],
                "vlm_ratio": theirs["vlm"] / mine["vlm"],
                "head_rel_diff": diff,
                "official_peak_mib": theirs["peak_mib"],
            }
            f = figures[name]
            print(f"{name} ({size} px, batch {args.batch}, {args.threads} thread(s)): head {f['head_ms']['ours']:.2f} ms "
                  f"ours vs {f['head_ms']['official']:.2f} ms official (ratio {f['head_ratio']:.2f}); VLM condition "
                  f"{f['vlm_ms']['ours']:.2f} vs {f['vlm_ms']['official']:.2f} ms (ratio {f['vlm_ratio']:.2f}); "
                  f"outputs agree to {diff:.1e}")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak RSS: ours {peak:.0f} MiB (both sizes, one process), official "
        f"{max(f['official_peak_mib'] for f in figures.values()):.0f} MiB; ratio = official time / ours (target >= 1.0)"
    )
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
