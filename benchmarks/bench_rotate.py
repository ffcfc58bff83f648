"""Throughput of ``synth rotate`` against its bare stages, the cost of one view, and the pass rate
per subdomain.

A view is one rendered image of the object: an edit or und row of a pair shows 2, a row whose spec
lists ``views`` (a turntable, at turntable.cell px) shows that many. Prints, from one run on this
machine:
  * pipeline views/s (Ray, one worker per core: read, pose, render the views, re-render the
    target's silhouette, decide, write), counted over kept and rejected rows, vs the bare loop (the
    same stages in one process) x cores: the ratio (target at least 0.8)
  * worker seconds per stage of the bare loop
  * ms of one view of the bundled toy car on the CPU (``render_object``, after a warm-up call) at
    256, 512 and 1024 px, median and mean over 20 azimuths, and of one Background-First view at
    render.size (the object, its ground shadow, composited on scikit-image's coffee photo)
  * kept / attempted per subdomain (``rotate/<strategy>/<direction or turntable>``), and the
    reasons of the rest

    python benchmarks/bench_rotate.py --num 240 --bare 40 [--strategy background_first] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections import Counter

import numpy as np
import psutil
import pyarrow.parquet as pq
from bench_text_render import bare_loop

from pipelines.rotate import PIPELINE
from pipelines.rotate import background_first as bf
from renderers.mesh import LoadLimits, fit_distance, load_asset, orbit, render_object
from renderers.mesh.samples import sample_assets
from renderers.mesh.scene import prepare
from synth.config import default_config_path, load_config
from synth.identity import sample_seed
from synth.runner import run_pipeline

SIZES = (256, 512, 1024)
ELEVATION = 20.0  # degrees, within the default source elevations


def config(*sets: str):
    return load_config(PIPELINE.config_model, default_config_path(PIPELINE.name), ["seed=7", *sets])


def views_of(spec: str | None) -> int:
    """Views a row rendered: len(spec["views"]) where the spec lists them, else 2 (a pair); 0 for a
    row rejected before anything was drawn (no spec)."""
    if not spec:
        return 0
    views = json.loads(spec).get("views")
    return len(views) if isinstance(views, list) else 2


def ms(samples: list[float]) -> dict:
    return {
        "median_ms": round(1000 * statistics.median(samples), 2),
        "mean_ms": round(1000 * statistics.fmean(samples), 2),
        "n": len(samples),
    }


def toy_car(cfg):
    r = cfg.read
    return prepare(
        load_asset(
            sample_assets()["toy_car.glb"],
            ".glb",
            LoadLimits(r.max_bytes, r.max_triangles, r.max_texture_side, r.up),
        )
    )


def view_times(cfg, azimuths: int) -> dict:
    """ms per ``render_object`` view of the toy car (Object-First's call) at each size, after one
    warm-up call per size (the GL context and its buffers are made then)."""
    asset = toy_car(cfg)
    points = np.concatenate([p.positions for p in asset.parts])
    fov, margin = 35.0, 0.12
    distance = fit_distance(points, ELEVATION, fov, margin)
    out = {}
    for size in SIZES:
        cams = [
            orbit(a, ELEVATION, distance, fov_y_deg=fov, size=(size, size))
            for a in np.linspace(0.0, 360.0, azimuths, endpoint=False)
        ]
        render_object(asset, cams[0])
        times = []
        for cam in cams:
            t0 = time.perf_counter()
            render_object(asset, cam)
            times.append(time.perf_counter() - t0)
        out[str(size)] = ms(times)
    return out


def background_first_times(cfg, scenes: int) -> dict:
    """ms per Background-First view at the config's size, built as RenderRotation.background_first
    builds it (scene from a fixed rng, the turned copy, one camera for both): each scene's source
    and target view are timed, after one warm-up view."""
    from skimage import data

    asset = toy_car(cfg)
    photo, _ = bf.fit_photo(data.coffee(), cfg.render.size)
    matched = bf.photo_light(photo)  # the object's light matched to the photo, once per row
    rng = np.random.default_rng(7)
    about = bf.pivot(asset)
    times = []
    for i in range(scenes + 1):
        scene = bf.draw_scene(rng, cfg)
        poses = [asset, bf.turned(asset, scene.yaw, about)]
        cam = bf.camera(poses, scene, cfg, cfg.render.size)
        for a in poses:
            t0 = time.perf_counter()
            bf.render_view(a, cam, scene, photo, cfg, matched)
            if i:  # the first scene warms up
                times.append(time.perf_counter() - t0)
    return {str(cfg.render.size): ms(times)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=240, help="rows for the pipeline run")
    ap.add_argument("--bare", type=int, default=40, help="rows for the bare loop")
    ap.add_argument("--strategy", default=None, help="--set strategy=... (default: the config's)")
    ap.add_argument("--azimuths", type=int, default=20, help="views timed per size")
    ap.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        help="print one JSON object with all figures at the end (and write it to the path, if given)",
    )
    args = ap.parse_args()
    sets = [f"strategy={args.strategy}"] if args.strategy else []
    cores = psutil.cpu_count(logical=True)  # as the other benches: one Ray worker per CPU

    import ray

    ray.init(num_cpus=cores, include_dashboard=False, logging_level="ERROR")
    # One view first, in this process while Ray idles. It also makes this process's GL contexts
    # (256, 512, 1024 px; about 1.5 s, which 16 bare rows would otherwise carry alone), so the bare
    # loop is measured warm, as a worker is past its first rows; each worker's own start-up counts
    # against the pipeline. The bare loop's reader child still reads every asset anew, as a worker's.
    single = view_times(config(*sets), args.azimuths)
    bf_cfg = config(*sets, "strategy=background_first")
    bf_single = background_first_times(bf_cfg, max(1, args.azimuths // 2))
    rate_bare, seconds = bare_loop(PIPELINE, config(*sets), args.bare)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cfg = config(*sets, f"runtime.workers={cores}")
        run = run_pipeline(PIPELINE, cfg, f"{tmp}/run", args.num, progress=False)
        wall = time.perf_counter() - t0
        rows = [
            r
            for folder in ("data", "rejected")
            if os.path.isdir(f"{tmp}/run/{folder}")  # absent when no row went there
            for r in pq.read_table(
                f"{tmp}/run/{folder}", columns=["seed", "subdomain", "status", "reason", "detail", "spec"]
            ).to_pylist()
        ]
    views = sum(views_of(r["spec"]) for r in rows)
    views_per_row = views / max(1, len(rows))
    views_pipe = views / wall
    # The bare loop ran the pipeline's first --bare rows (same seed and config: the same draws), so
    # its rows/s becomes views/s at the views per row those rows have in the pipeline run's output
    # (a turntable row has turntable.views, so a few --bare rows can differ from the run's mean).
    bare_seeds = {sample_seed(cfg.seed, cfg.split, i) for i in range(args.bare)}
    bare_rows = [r for r in rows if r["seed"] in bare_seeds]
    bare_views_per_row = (
        sum(views_of(r["spec"]) for r in bare_rows) / len(bare_rows) if bare_rows else views_per_row
    )
    views_bare = rate_bare * bare_views_per_row
    attempted, kept, reasons = Counter(), Counter(), Counter()
    for r in rows:
        sub = r["subdomain"] or "?"
        attempted[sub] += 1
        kept[sub] += r["status"] == "kept"
        if r["status"] != "kept":
            why = (r["detail"] or "").split(":")[0]
            reasons[f"{sub}: {r['reason']} ({why})" if why else f"{sub}: {r['reason']}"] += 1
    total = sum(seconds.values())
    result = {
        "cores": cores,
        "strategy": args.strategy or "config default",
        "rows_written": len(rows),
        "views_written": views,
        "views_per_row": round(views_per_row, 3),
        "pipeline_seconds": round(wall, 2),
        "pipeline_units": -(-args.num // cfg.runtime.unit_size),
        # setup: workers started, GL contexts and the asset reader made; units: the rows drawn
        "pipeline_phase_seconds": run["invocations"][-1]["phase_seconds"],
        "pipeline_rows_per_s": round(len(rows) / wall, 3),
        "pipeline_views_per_s": round(views_pipe, 3),
        "bare_rows_per_s_one_process": round(rate_bare, 3),
        "bare_views_per_row": round(bare_views_per_row, 3),
        "bare_views_per_s_one_process": round(views_bare, 3),
        # None when no row drew anything (every row failed before rendering: see not_kept)
        "pipeline_vs_bare_x_cores": round(views_pipe / (views_bare * cores), 3) if views_bare else None,
        # the same ratio with the bare loop's views at the whole run's mean views per row, and in
        # rows/s: the two differ from the figure above as far as the --bare rows' mix differs from the run's
        "ratio_at_run_mean_views_per_row": round(views_pipe / (rate_bare * views_per_row * cores), 3)
        if views_per_row
        else None,
        "ratio_rows_per_s": round(len(rows) / wall / (rate_bare * cores), 3),
        "bare_seconds_by_stage": {k: round(v, 2) for k, v in seconds.items()},
        "bare_share_by_stage": {k: round(v / max(1e-9, total), 3) for k, v in seconds.items()},
        "object_first_view_ms_by_size": single,
        "background_first_view_ms": bf_single,
        "kept": sum(kept.values()),
        "pass_rate": round(sum(kept.values()) / max(1, len(rows)), 4),
        "pass_rate_by_subdomain": {k: f"{kept[k]}/{attempted[k]}" for k in sorted(attempted)},
        "not_kept": dict(reasons.most_common()),
    }

    print(f"cores: {cores}   strategy: {result['strategy']}")
    print(
        f"pipeline: {len(rows)} rows, {views} views in {wall:.1f} s = {views_pipe:.2f} views/s "
        f"({views_per_row:.2f} views per row)"
    )
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in result["pipeline_phase_seconds"].items())
    print(f"  {result['pipeline_units']} units of {cfg.runtime.unit_size} rows on {cores} workers; {phases}")
    print(
        f"bare loop ({args.bare} rows, one process): {rate_bare:.3f} rows/s = {views_bare:.2f} views/s "
        f"({bare_views_per_row:.2f} views per row: those rows in the pipeline's output)"
    )
    print(f"pipeline / (bare x {cores} cores): {result['pipeline_vs_bare_x_cores']}   (target >= 0.8)")
    print(
        f"  (bare views at the run's mean views per row: {result['ratio_at_run_mean_views_per_row']}; "
        f"in rows/s: {result['ratio_rows_per_s']})"
    )
    print(
        "bare seconds by stage: "
        + ", ".join(f"{k} {v:.2f} s ({result['bare_share_by_stage'][k]:.0%})" for k, v in seconds.items())
    )
    print(f"one Object-First view of the toy car (render_object, {args.azimuths} azimuths, after a warm-up):")
    for size, t in single.items():
        print(f"  {size:>4} px: median {t['median_ms']:.1f} ms, mean {t['mean_ms']:.1f} ms")
    for size, t in bf_single.items():
        print(
            f"one Background-First view ({size} px: object, shadow, composite on a photo; {t['n']} views): "
            f"median {t['median_ms']:.1f} ms, mean {t['mean_ms']:.1f} ms"
        )
    print(f"kept {result['kept']}/{len(rows)} ({result['pass_rate']:.1%}); per subdomain:")
    for k, v in result["pass_rate_by_subdomain"].items():
        print(f"  {k}: {v}")
    if reasons:
        print("not kept:")
        for k, n in reasons.most_common():
            print(f"  {n:>4}  {k}")
    if args.json:
        text = json.dumps(result, indent=2, ensure_ascii=False)
        print(text)
        if args.json != "-":
            with open(args.json, "w") as f:
                f.write(text + "\n")


if __name__ == "__main__":
    main()
