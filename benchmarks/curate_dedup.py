"""The dedup-only comparison of ``bench_curate.py --dedup-only``: ``synth curate`` with every model
filter off against imagededup's PHash (``find_duplicates``) on the same JPEGs and cores, with the
duplicate pairs of both scored against planted ground truth.

imagededup pins its own torch, so it runs from its own venv (``--imagededup-python``; make it with
``python3.11 -m venv .venv-bench && .venv-bench/bin/pip install imagededup``), as a subprocess
timed end to end, its import included, as a user would run it.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import combinations

import numpy as np
import pyarrow.parquet as pq
from PIL import Image
from repeats import alternating

#: The planted copies of a photo, in turn: identical bytes under another name (an exact
#: duplicate), re-encoded at JPEG quality 70, scaled to 3/4, cut by 1% on every side.
VARIANTS = ("copy", "q70", "small", "crop")
#: Every planted group holds a photo and this many copies; one photo in ``GROUP_EVERY`` has copies.
COPIES, GROUP_EVERY = 2, 10

IMAGEDEDUP = """
import json, sys, time
t0 = time.perf_counter()
from imagededup.methods import PHash
t1 = time.perf_counter()
dups = PHash(verbose=False).find_duplicates(image_dir=sys.argv[1], max_distance_threshold=int(sys.argv[2]))
t2 = time.perf_counter()
with open(sys.argv[3], "w") as f:
    json.dump({"import_seconds": t1 - t0, "find_seconds": t2 - t1, "duplicates": dups}, f)
"""


def _photo(index: int, seed: int) -> np.ndarray:
    """A distinct photo: a crop of a bundled one (see ``make_images``) under a random smooth
    brightness field (an 8x8 grid of offsets up to +-70, upscaled), which scatters the low
    frequencies that pHash reads. Without it crops of the six photos fall within 4 bits of each
    other by chance (900 of 2M pairs); with it none of 2,200 photos came within 6 bits."""
    from bench_curate import PHOTOS, photo_crop

    from synth.sources import PhotoPool

    rng = np.random.default_rng([seed, index])
    src = PhotoPool._skimage_pixels(PHOTOS[rng.integers(len(PHOTOS))])
    img = photo_crop(rng, src, min_fraction=0.6, min_short=352)  # 3/4 of 352 still passes min_side 256
    field = rng.uniform(-70, 70, (8, 8)).astype(np.float32)
    field = np.asarray(Image.fromarray(field, "F").resize(img.size, Image.BICUBIC), np.int16)
    return np.clip(np.asarray(img, np.int16) + field[..., None], 0, 255).astype(np.uint8)


def _write_photo(args: tuple[str, int, int, tuple[str, ...]]) -> list[str]:
    """Write photo ``index`` and its planted copies; returns their file names."""
    folder, index, seed, variants = args
    pixels = _photo(index, seed)
    name = f"{index:06d}.jpg"
    img = Image.fromarray(pixels)
    img.save(os.path.join(folder, name), quality=90)
    names = [name]
    for kind in variants:
        copy = f"{index:06d}_{kind}.jpg"
        path = os.path.join(folder, copy)
        if kind == "copy":
            shutil.copyfile(os.path.join(folder, name), path)
        elif kind == "q70":
            img.save(path, quality=70)
        elif kind == "small":
            img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.LANCZOS).save(path, quality=90)
        else:
            dx, dy = img.width // 100, img.height // 100
            img.crop((dx, dy, img.width - dx, img.height - dy)).save(path, quality=90)
        names.append(copy)
    return names


def make_dedup_images(folder: str, num: int, cores: int, seed: int = 0) -> list[list[str]]:
    """``num`` JPEGs in ``folder``: distinct photos, and for one photo in ``GROUP_EVERY`` a group of
    it and ``COPIES`` planted copies. Returns every photo's group (file names), singletons included."""
    photos = num * GROUP_EVERY // (GROUP_EVERY + COPIES)
    groups = (num - photos) // COPIES
    photos = num - groups * COPIES
    jobs = []
    for i in range(photos):
        g = i // GROUP_EVERY if i % GROUP_EVERY == 0 and i // GROUP_EVERY < groups else None
        kinds = () if g is None else tuple(VARIANTS[(COPIES * g + k) % len(VARIANTS)] for k in range(COPIES))
        jobs.append((folder, i, seed, kinds))
    with mp.get_context("fork").Pool(cores) as pool:
        return pool.map(_write_photo, jobs, chunksize=16)


def pairs_of(groups) -> set[tuple[str, str]]:
    """Every unordered pair of file names within each group."""
    return {tuple(sorted(p)) for g in groups for p in combinations(g, 2)}


def quality(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float | int]:
    hits = len(found & truth)
    return {
        "pairs_found": len(found),
        "true_pairs_found": hits,
        "precision": hits / len(found) if found else 1.0,
        "recall": hits / len(truth) if truth else 1.0,
    }


def our_groups(out: str) -> list[list[str]]:
    """Groups of a curate output by file name: each representative with its exact and near duplicates."""
    reps: dict[str, list[str]] = {}
    for folder in ("data", "rejected"):
        for shard in sorted(os.listdir(os.path.join(out, folder))):
            t = pq.read_table(
                os.path.join(out, folder, shard), columns=["sample_id", "target_image", "reason", "dup_of"]
            )
            for r in t.to_pylist():
                dup = r["reason"] in ("duplicate_exact", "duplicate_near")
                reps.setdefault(r["dup_of"] if dup else r["sample_id"], []).append(
                    os.path.basename(r["target_image"]["path"])
                )
    return list(reps.values())


def found_whole(truth_groups: list[list[str]], found: set[tuple[str, str]]) -> int:
    """Planted groups whose every pair is found and that no found pair links to another image."""
    touching: dict[str, set[tuple[str, str]]] = {}
    for pair in found:
        for name in pair:
            touching.setdefault(name, set()).add(pair)
    whole = 0
    for group in (g for g in truth_groups if len(g) > 1):
        inside = pairs_of([group])
        linked = set().union(*(touching.get(n, set()) for n in group))
        whole += inside <= found and linked <= inside
    return whole


def their_pairs(duplicates: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted((a, b))) for a, dups in duplicates.items() for b in dups}


def measured(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the process and every descendant, the 1-minute load average
    just before) of ``cmd``. The CPU seconds (sampled every 0.1 s, so a process's last 0.1 s may
    be missed) compare the work itself when the machine is shared: the wall times of both tools
    stretch with the load, which the load average shows (2 or more: another process took a core)."""
    import psutil  # a dependency of Ray

    load = os.getloadavg()[0]
    cpu: dict[tuple[int, float], float] = {}
    with tempfile.TemporaryFile() as err:  # not a pipe: a chatty child would fill it and stall
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                tree = []
            for p in tree:
                try:
                    t = p.cpu_times()
                    cpu[(p.pid, p.create_time())] = t.user + t.system
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}): {err.read().decode()[-2000:]}")
    return wall, sum(cpu.values()), load


def run_ours(images: str, out: str) -> dict:
    """``synth curate`` as a user runs it, in a fresh process: interpreter, imports, Ray start, both
    passes; no preview gallery (imagededup writes none)."""
    cmd = [
        sys.executable,
        "-m",
        "synth.cli.main",
        "curate",
        "--input",
        images,
        "--out",
        out,
        "--quiet",
        "--no-preview",
    ]
    wall, cpu, load = measured(cmd)
    with open(os.path.join(out, "run.json")) as f:
        run = json.load(f)
    return {
        "wall": wall,
        "cpu": cpu,
        "load": load,
        "phase_seconds": run["invocations"][-1]["phase_seconds"],
        "stage_seconds": run["report"].get("stage_seconds"),
        "groups": our_groups(out),
    }


def run_ours_warm(images: str, out: str) -> dict:
    """The same run in this process on the Ray it already started: what Ray start, the
    interpreter and the imports leave out."""
    import synth

    t0 = time.perf_counter()
    run = synth.run("curate", out, inputs=[images])
    return {"wall": time.perf_counter() - t0, "phase_seconds": run["invocations"][-1]["phase_seconds"]}


def run_theirs(python: str, images: str, radius: int, result: str) -> dict:
    """imagededup's PHash ``find_duplicates`` over the folder, in its venv, end to end."""
    wall, cpu, load = measured([python, "-c", IMAGEDEDUP, images, str(radius), result])
    with open(result) as f:
        res = json.load(f)
    return {"wall": wall, "cpu": cpu, "load": load, "import_seconds": res["import_seconds"],
            "find_seconds": res["find_seconds"], "pairs": their_pairs(res["duplicates"])}  # fmt: skip


def images_for(args, work: str) -> tuple[str, list[list[str]]]:
    """The folder of JPEGs and its planted groups: ``--images`` when it already holds this
    ``--num`` (its groups in ``<folder>.truth.json``), else made there (or under ``work``)."""
    images = args.images or os.path.join(work, "dedup_images")
    truth_file = f"{images.rstrip('/')}.truth.json"
    if os.path.exists(truth_file):
        with open(truth_file) as f:
            saved = json.load(f)
        if saved["num"] == args.num:
            print(f"{args.num} JPEGs reused from {images}")
            return images, saved["groups"]
    os.makedirs(images, exist_ok=True)
    t0 = time.perf_counter()
    groups = make_dedup_images(images, args.num, args.cores)
    with open(truth_file, "w") as f:
        json.dump({"num": args.num, "groups": groups}, f)
    print(f"{args.num} JPEGs made in {images} in {time.perf_counter() - t0:.1f} s")
    return images, groups


def compare(args, work: str) -> dict:
    """``--repeats`` alternating runs of both tools on the same JPEGs, then our run on a Ray that
    is already up; prints and returns the figures."""
    from synth.runner import ensure_ray

    images, truth_groups = images_for(args, work)
    truth = pairs_of(truth_groups)
    planted = sum(len(g) > 1 for g in truth_groups)
    print(f"{planted} planted groups of a photo and {COPIES} copies ({', '.join(VARIANTS)} in turn), "
          f"{len(truth)} true pairs; {args.cores} cores, radius {args.radius}")  # fmt: skip
    figures: dict = {"num": args.num, "cores": args.cores, "radius": args.radius, "true_pairs": len(truth)}
    runs = alternating(
        {"ours": lambda i: run_ours(images, os.path.join(work, f"cli{i}")),
         "theirs": lambda i: run_theirs(args.imagededup_python, images, args.radius,
                                        os.path.join(work, f"imagededup{i}.json"))},
        args.repeats,
    )  # fmt: skip
    for i, rep in enumerate(runs):
        ours, theirs = rep["ours"], rep["theirs"]
        rep["ratio"], rep["cpu_ratio"] = ours["wall"] / theirs["wall"], ours["cpu"] / theirs["cpu"]
        print(f"run {i + 1}/{args.repeats}: synth curate {ours['wall']:.1f} s, {ours['cpu']:.1f} CPU s (load "
              f"{ours['load']:.2f}; phases {ours['phase_seconds']}); imagededup {theirs['wall']:.1f} s, "
              f"{theirs['cpu']:.1f} CPU s (load {theirs['load']:.2f}; import {theirs['import_seconds']:.1f}, "
              f"find_duplicates {theirs['find_seconds']:.1f}); ours/theirs {rep['ratio']:.3f} wall, "
              f"{rep['cpu_ratio']:.3f} CPU")  # fmt: skip
        print(f"  our worker seconds by stage: {ours['stage_seconds']}")
    figures["repeats"] = runs
    t0 = time.perf_counter()
    ensure_ray(None)
    figures["ray_start"] = time.perf_counter() - t0
    figures["warm"] = [run_ours_warm(images, os.path.join(work, f"warm{i}")) for i in range(args.repeats)]
    last = figures["repeats"][-1]
    ours_pairs, theirs_pairs = pairs_of(last["ours"].pop("groups")), last["theirs"].pop("pairs")
    for rep in figures["repeats"][:-1]:  # the figures file holds times, not every pair
        rep["ours"].pop("groups"), rep["theirs"].pop("pairs")
    reps = figures["repeats"]
    figures.update(
        median_ratio=float(np.median([r["ratio"] for r in reps])),
        median_cpu_ratio=float(np.median([r["cpu_ratio"] for r in reps])),
        median_ours=float(np.median([r["ours"]["wall"] for r in reps])),
        median_theirs=float(np.median([r["theirs"]["wall"] for r in reps])),
        median_ours_warm=float(np.median([w["wall"] for w in figures["warm"]])),
        quality={"ours": quality(ours_pairs, truth), "theirs": quality(theirs_pairs, truth)},
        groups_whole={
            "ours": found_whole(truth_groups, ours_pairs),
            "planted": planted,
            "theirs": found_whole(truth_groups, theirs_pairs),
        },  # fmt: skip
        pairs_agree={
            "both": len(ours_pairs & theirs_pairs),
            "only_ours": len(ours_pairs - theirs_pairs),
            "only_theirs": len(theirs_pairs - ours_pairs),
        },  # fmt: skip
    )
    print_summary(figures, len(truth))
    return figures


def print_summary(m: dict, true_pairs: int) -> None:
    print(f"median of {len(m['repeats'])} runs, target <= 1.0:")
    print(f"  synth curate / imagededup PHash, both end to end: {m['median_ratio']:.3f} wall "
          f"({m['median_ours']:.1f} s / {m['median_theirs']:.1f} s), {m['median_cpu_ratio']:.3f} CPU seconds")  # fmt: skip
    print(f"  synth curate on a Ray already up (no interpreter, imports or Ray start; Ray took "
          f"{m['ray_start']:.1f} s to start here): {m['median_ours_warm']:.1f} s, "
          f"{m['median_ours_warm'] / m['median_theirs']:.3f} of imagededup; phases {m['warm'][-1]['phase_seconds']}")  # fmt: skip
    for who in ("ours", "theirs"):
        q = m["quality"][who]
        print(f"  {who:6s} duplicate pairs: precision {q['precision']:.3f}, recall {q['recall']:.3f} "
              f"({q['true_pairs_found']} of {true_pairs} true pairs, {q['pairs_found']} found)")  # fmt: skip
    g, a = m["groups_whole"], m["pairs_agree"]
    print(f"  planted groups found whole (every pair, nothing else linked): ours {g['ours']}, imagededup "
          f"{g['theirs']}, of {g['planted']}; pairs found by both {a['both']}, only by us {a['only_ours']}, "
          f"only by imagededup {a['only_theirs']}")  # fmt: skip
