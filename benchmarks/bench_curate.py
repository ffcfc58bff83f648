"""Throughput of ``synth curate`` with every model filter on, against the bare work on the same
images and cores, and the proof that the aesthetic and NSFW heads share one CLIP forward.

Prints, from one run on this machine, as the median of ``--repeats`` alternating runs (runs on a
shared 2-core machine differ by 5-10%, so one pair decides nothing):
  * pipeline images/s (Ray, one model actor per core, scoring pass + decisions + writing)
    vs the bare work (start, load the models, then read, decode, CLIP forward + both heads,
    watermark forward) in one process per core on the same images, both end to end: target >= 0.9
  * the pipeline's scoring pass alone (models loaded: read, decode, hash, score, commit) against
    the bare loop alone and against the bare model forwards alone: what the toolkit costs per
    image, apart from the fixed costs (actor start, model load, the decision pass)
  * CLIP forwards counted for a batch scored by both heads: one, not two

Models are random-weight, in the published formats, built here: open_clip ``--clip-model``
(ViT-B-32 by default, the CPU-sized choice; ViT-L-14-quickgelu is the production one), LAION's
aesthetic MLP and NSFW head at its width, and the efficientnet_b3a watermark detector.

    python benchmarks/bench_curate.py --num 600

``--dedup-only`` instead compares ``synth curate`` with the model filters off against
imagededup's PHash on 2,400 JPEGs with planted duplicates (``curate_dedup.py``):

    python benchmarks/bench_curate.py --dedup-only --imagededup-python .venv-bench/bin/python
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time
import warnings

import numpy as np
from PIL import Image
from repeats import alternating, medians

from pipelines.curate import PIPELINE
from synth.config import default_config_path, load_config
from synth.imageio import decode_image
from synth.runner import ensure_ray, run_pipeline
from synth.sources import PhotoPool

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry")


def load(path: str) -> np.ndarray:
    with open(path, "rb") as f:
        return decode_image(f.read())


def photo_crop(
    rng: np.random.Generator, src: np.ndarray, min_fraction: float = 0.5, min_short: int = 0
) -> Image.Image:
    """A random crop of ``src`` (``min_fraction`` to all of each side), scaled to 512-1024 px on
    the long side and to at least ``min_short`` px on the short side."""
    h, w = src.shape[:2]
    ch, cw = int(h * rng.uniform(min_fraction, 1)), int(w * rng.uniform(min_fraction, 1))
    y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    img = Image.fromarray(src[y : y + ch, x : x + cw])
    scale = max(rng.uniform(512, 1024) / max(img.size), min_short / min(img.size))
    return img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.BICUBIC)


def make_images(folder: str, num: int, seed: int = 0) -> list[str]:
    """``num`` distinct JPEGs, 512-1024 px on the long side, cut from the bundled photos."""
    rng = np.random.default_rng(seed)
    pixels = [PhotoPool._skimage_pixels(n) for n in PHOTOS]
    paths = []
    for i in range(num):
        img = photo_crop(rng, pixels[i % len(pixels)])
        path = os.path.join(folder, f"{i:06d}.jpg")
        img.save(path, quality=90)
        paths.append(path)
    return paths


def make_models(folder: str, clip_model: str) -> dict[str, str]:
    import open_clip
    import timm
    import torch
    from torch import nn

    from synth.models.heads import AestheticMLP, NsfwHead

    torch.manual_seed(0)
    clip = open_clip.create_model(clip_model)
    dim = open_clip.get_model_config(clip_model)["embed_dim"]
    files = {k: os.path.join(folder, f) for k, f in (("clip", "clip.bin"), ("aesthetic", "aes.pth"),
                                                     ("nsfw", "nsfw.pth"), ("watermark", "wm.pt"))}  # fmt: skip
    torch.save(clip.state_dict(), files["clip"])
    torch.save(AestheticMLP(dim).state_dict(), files["aesthetic"])
    head = NsfwHead(dim)
    head.norm.variance.fill_(1.0)
    torch.save(head.state_dict(), files["nsfw"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wm = timm.create_model("efficientnet_b3a", pretrained=False, num_classes=2)
    wm.classifier = nn.Sequential(nn.Linear(1536, 625), nn.ReLU(), nn.Dropout(0.3), nn.Linear(625, 256), nn.ReLU(),
                                  nn.Linear(256, 2))  # fmt: skip
    torch.save(wm.state_dict(), files["watermark"])
    return files


def model_sets(files: dict[str, str], clip_model: str) -> list[str]:
    return [
        f"filters.clip.model={clip_model}",
        f"filters.clip.weights={files['clip']}",
        f"filters.aesthetic.head={files['aesthetic']}",
        f"filters.nsfw.head={files['nsfw']}",
        f"filters.watermark.weights={files['watermark']}",
        "filters.clip.device=cpu",
        "filters.watermark.device=cpu",
    ]


def _bare_worker(paths, sets, queue) -> None:
    """The work without the toolkit around it: models loaded, then a plain batched loop. Puts the
    loop's own seconds (models already loaded) and, of those, the seconds in model forwards."""
    import torch

    torch.set_num_threads(1)
    cfg = load_config(PIPELINE.config_model, default_config_path("curate"), sets)
    stages = [s for s in PIPELINE.build_stages(cfg) if s.keeps_model]
    for s in stages:
        s.setup()
    clip, wm = stages
    batch = cfg.runtime.batch_size
    forwards = 0.0
    t0 = time.perf_counter()
    for i in range(0, len(paths), batch):
        images = [load(p) for p in paths[i : i + batch]]
        t1 = time.perf_counter()
        emb = torch.from_numpy(clip.encoder.embed(images))
        with torch.inference_mode():
            for head in clip.heads.values():
                head(emb)
        wm.detector.predict(images)
        forwards += time.perf_counter() - t1
    queue.put((time.perf_counter() - t0, forwards))


def bare(paths: list[str], sets: list[str], cores: int) -> dict[str, float]:
    """images/s of the bare work in one process per core: end to end (processes started, imports,
    models loaded, loop), the loop alone (read, decode, forwards) and the model forwards alone."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    parts = [paths[i::cores] for i in range(cores)]
    procs = [ctx.Process(target=_bare_worker, args=(p, sets, queue)) for p in parts]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    times = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    return {
        "end_to_end": len(paths) / wall,
        "loop": len(paths) / max(t for t, _ in times),
        "forwards": len(paths) / max(f for _, f in times),
    }


def pipeline(cfg, out: str, num: int) -> dict:
    """images/s of ``synth curate`` end to end (actors started, models loaded, scoring pass,
    decisions, writing) and of its scoring pass alone, with the wall time of each phase."""
    t0 = time.perf_counter()
    run = run_pipeline(PIPELINE, cfg, out, progress=False)
    wall = time.perf_counter() - t0
    phases = run["invocations"][-1]["phase_seconds"]
    return {
        "end_to_end": num / wall,
        "units": num / phases["units"],
        "phase_seconds": phases,
        "stage_seconds": run["report"]["stage_seconds"],
    }


def one_forward(paths: list[str], sets: list[str]) -> dict:
    """Score one batch with both heads on; count the CLIP forwards."""
    cfg = load_config(PIPELINE.config_model, default_config_path("curate"), sets)
    clip = next(s for s in PIPELINE.build_stages(cfg) if s.name == "clip")
    clip.setup()
    rows = [{"_image": load(p)} for p in paths[:16]]
    clip.process_batch(rows)
    assert all({"aesthetic", "nsfw"} <= set(r["scores"]) for r in rows)
    return {
        "heads": sorted(clip.heads),
        "clip_forwards": clip.encoder.forwards,
        "images": clip.encoder.images,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=None, help="images (default 600, or 2400 with --dedup-only)")
    ap.add_argument("--dedup-only", action="store_true", help="model filters off, against imagededup's PHash")
    ap.add_argument(
        "--imagededup-python", default=".venv-bench/bin/python", help="python of imagededup's venv"
    )
    ap.add_argument("--radius", type=int, default=4, help="--dedup-only: near-duplicate radius of both tools")
    ap.add_argument(
        "--images", default=None, help="--dedup-only: folder of the JPEGs, made there once and reused"
    )
    ap.add_argument("--clip-model", default="ViT-B-32")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeats", type=int, default=3, help="bare and pipeline runs, alternating")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="bench_curate_")
    if args.dedup_only:
        from curate_dedup import compare

        args.num = args.num or 2400
        figures = compare(args, work)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=2)
        return
    args.num = args.num or 600
    os.makedirs(f"{work}/images")
    paths = make_images(f"{work}/images", args.num)
    files = make_models(work, args.clip_model)
    sets = [*model_sets(files, args.clip_model), "runtime.batch_size=16", "runtime.unit_size=50",
            f"inputs={json.dumps([work + '/images'])}"]  # fmt: skip
    print(
        f"{args.num} images, {args.clip_model} + aesthetic + nsfw heads + efficientnet_b3a watermark, {args.cores} cores"
    )

    figures: dict = {"num": args.num, "clip_model": args.clip_model, "cores": args.cores}
    figures["one_forward"] = one_forward(paths, sets)
    print(f"one CLIP forward: {figures['one_forward']}")

    cfg = load_config(PIPELINE.config_model, default_config_path("curate"), sets)
    ensure_ray(None)
    runs = alternating(
        {"bare": lambda i: bare(paths, sets, args.cores),
         "pipeline": lambda i: pipeline(cfg, f"{work}/out{i}", args.num)},
        args.repeats,
    )  # fmt: skip
    for i, rep in enumerate(runs):
        b, p = rep["bare"], rep["pipeline"]
        rep["ratios"] = {
            "end_to_end": p["end_to_end"] / b["end_to_end"],
            "units_vs_loop": p["units"] / b["loop"],
            "units_vs_forwards": p["units"] / b["forwards"],
        }
        print(f"run {i + 1}/{args.repeats}: bare {b['end_to_end']:.2f} images/s end to end (loop alone "
              f"{b['loop']:.2f}, model forwards alone {b['forwards']:.2f}); pipeline {p['end_to_end']:.2f} "
              f"end to end, scoring pass {p['units']:.2f}; phases {p['phase_seconds']}")  # fmt: skip
        print(f"  worker seconds by stage: {p['stage_seconds']}")
    figures["repeats"] = runs
    figures["median_ratios"] = medians([r["ratios"] for r in runs])
    m = figures["median_ratios"]
    print(f"median of {args.repeats} runs, target >= 0.9:")
    print(f"  pipeline / bare, both end to end (start, load models, all the work): {m['end_to_end']:.3f}")
    print(f"  scoring pass / bare loop (read, decode, forwards; models loaded):     {m['units_vs_loop']:.3f}")
    print(
        f"  scoring pass / bare model forwards alone (read, decode timed apart):  {m['units_vs_forwards']:.3f}"
    )
    print("  all runs: " + "; ".join(
        ", ".join(f"{v:.3f}" for v in r["ratios"].values()) for r in figures["repeats"]))  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
