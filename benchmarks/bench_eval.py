"""``synth eval text-edit`` in one process against Ray across every core, on the same benchmark.

Draws a text-edit run (``--num`` edits, split=test), exports it, lays the ground truth out as the
predictions, then scores them ``--repeats`` times each way, alternating which goes first (see
``repeats.py``), each time into a fresh work folder so every unit is scored. Prints seconds per
benchmark row of each side (median, and every run), the speed-up, and that both reports hold the
same figures. Ray is started before the clock runs; each Ray run includes starting its actors and
their OCR engines.

    python benchmarks/bench_eval.py --num 30 --repeats 3 [--root /tmp/bench_eval]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from repeats import alternating, medians

from pipelines.text_edit import PIPELINE
from pipelines.text_edit.bench import export_textedit
from pipelines.text_edit.bench_eval import evaluate
from synth.config import default_config_path, load_config
from synth.runner import ensure_ray, run_pipeline


def make_bench(root: Path, num: int) -> tuple[str, str]:
    run, bench, pred = root / "run", root / "bench", root / "pred"
    if pred.exists():  # --root of an earlier call: the same benchmark again
        return str(bench), str(pred)
    cfg = load_config(PIPELINE.config_model, default_config_path("text_edit"), ["seed=9", "split=test"])
    run_pipeline(PIPELINE, cfg, str(run), num, progress=False)
    export_textedit(str(run), str(bench))
    for f in bench.glob("*.jsonl"):
        for line in f.read_text().splitlines():
            row = json.loads(line)
            dest = pred / f.stem / Path(row["original_image"]).name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(bench / row["gt_image"], dest)
    return str(bench), str(pred)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--num", type=int, default=30, help="text edits to draw (a benchmark row per edited line)"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="Ray actors [default: every CPU]")
    ap.add_argument(
        "--root", default=None, help="keep the drawn benchmark here and reuse it [default: a temp dir]"
    )
    args = ap.parse_args()
    root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="bench_eval_"))
    bench, pred = make_bench(root, args.num)
    ensure_ray(None)
    reports: dict[str, dict] = {}
    loads: list[float] = []  # the machine's 1-minute load after each run: other work skews both sides

    def side(workers: int | None):
        def run(i: int) -> float:
            work = root / f"work-{workers}-{i}"
            shutil.rmtree(work, ignore_errors=True)
            t0 = time.perf_counter()
            report = evaluate(bench, pred, progress=False, workers=workers, work=str(work))
            seconds = time.perf_counter() - t0
            reports[str(workers)] = report
            loads.append(os.getloadavg()[0])
            return seconds / report["scored"]

        return run

    reps = alternating({"one_process": side(0), "ray": side(args.workers)}, args.repeats)
    med = medians(reps)
    one, ray_ = reports["0"], reports[str(args.workers)]
    same = {k: v for k, v in one.items() if k != "runtime"} == {
        k: v for k, v in ray_.items() if k != "runtime"
    }
    print(f"rows scored: {one['scored']}  Ray workers: {ray_['runtime']['workers']}")
    print(
        f"seconds per row, one process: {med['one_process']:.3f}  runs {[round(r['one_process'], 3) for r in reps]}"
    )
    print(f"seconds per row, Ray:         {med['ray']:.3f}  runs {[round(r['ray'], 3) for r in reps]}")
    print(f"speed-up: {med['one_process'] / med['ray']:.2f}x   same figures: {same}")
    print(f"load average after each run: {[round(x, 2) for x in loads]} on {os.cpu_count()} CPUs")
    if not args.root:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
