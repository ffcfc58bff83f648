"""A pool per stage: how busy the model actor stays while CPU stages feed it, on a Ray node that
declares one GPU (the model runs on the CPU here; Ray does the GPU bookkeeping as on a GPU node).

The pipeline: ``draw`` (CPU: a PIL scene drawn and PNG-encoded per row) then ``model`` (keeps a
torch network loaded, asks for the whole GPU: one actor). Prints, from one run:
  * pools: model actor busy fraction (its seconds on units / the span from its first unit's
    start to its last unit's end; target >= 0.9 when the CPU side is faster than the model)
  * pools: end to end (units phase) against the slower stage alone (the model's bare loop over
    the same rows, in one process): the ratio slower-alone / pipeline (1.0 = no overhead)
  * the same pipeline forced onto one actor type (``draw`` asks for the GPU too: every stage on
    the one actor, as the runner did before pools): its wall time, for comparison

    python benchmarks/bench_runtime.py --num 480
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from typing import ClassVar

import numpy as np
import ray
from PIL import Image, ImageDraw

from synth.config import PipelineConfig
from synth.pipeline import Pipeline
from synth.runner import run_pipeline
from synth.schema import image_value
from synth.stage import Resources, Stage

SIDE = 192


def draw_scene(seed: int) -> bytes:
    """A few hundred random shapes, PNG-encoded: real CPU work of the size of a simple renderer."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (SIDE, SIDE), tuple(int(c) for c in rng.integers(0, 255, 3)))
    d = ImageDraw.Draw(im)
    for _ in range(60):
        x0, y0 = rng.integers(0, SIDE - 20, 2)
        w, h = rng.integers(4, 60, 2)
        d.ellipse(
            [int(x0), int(y0), int(x0 + w), int(y0 + h)], fill=tuple(int(c) for c in rng.integers(0, 255, 3))
        )
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


class Draw(Stage):
    name = "draw"
    resources: ClassVar = Resources(cpus=1)

    def process_batch(self, rows):
        for row in rows:
            data = draw_scene(row["seed"])
            row.update(target_image=image_value(data), width=SIDE, height=SIDE, task="t2i", domain="bench")
        return rows


class Model(Stage):
    """A small convolutional network: a model whose forward costs more than drawing a row."""

    name = "model"
    keeps_model = True
    resources: ClassVar = Resources(cpus=1, gpus=1.0)

    def __init__(self, width: int):
        self.width = width

    def setup(self) -> None:
        import torch

        torch.set_num_threads(1)
        torch.manual_seed(0)
        w = self.width
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, w, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(w, w, 3, padding=1),
            torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(w, 1),
        ).eval()  # fmt: skip

    def process_batch(self, rows):
        import torch

        pixels = np.stack([np.asarray(Image.open(io.BytesIO(r["target_image"]["bytes"]))) for r in rows])
        with torch.inference_mode():
            out = self.net(torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255).numpy()[:, 0]
        for row, value in zip(rows, out, strict=True):
            row["scores"] = {"model": float(value)}
        return rows


class BenchConfig(PipelineConfig):
    pipeline: str = "bench_runtime"
    width: int = 24


def build(cfg: BenchConfig) -> list[Stage]:
    return [Draw(), Model(cfg.width)]


PIPELINE = Pipeline("bench_runtime", "bench", "draw then a model", BenchConfig, build)


def model_alone(cfg: BenchConfig, num: int, batch: int) -> float:
    """Seconds of the model's bare loop over the same rows, drawn beforehand (not timed)."""
    rows = [{"seed": i} for i in range(num)]
    Draw().process_batch(rows)
    model = Model(cfg.width)
    model.setup()
    t0 = time.perf_counter()
    for i in range(0, num, batch):
        model.process_batch(rows[i : i + batch])
    return time.perf_counter() - t0


def draw_alone(num: int) -> float:
    t0 = time.perf_counter()
    Draw().process_batch([{"seed": i} for i in range(num)])
    return time.perf_counter() - t0


def busy_fraction(out: str) -> tuple[float, int, float, float]:
    """From the spans each unit's manifest records: the model pool's least busy worker's busy
    fraction, how many workers it had, their seconds on units, and how long after the first span
    of any segment the first model span started (the pipeline's fill time)."""
    from synth.writer import OutputDir

    folder = OutputDir(out)
    spans: dict[str, list[tuple[float, float]]] = {}
    first = float("inf")
    for rel in folder.list("_units", ".json"):
        for seg in folder.read_json(rel).get("segments", []):
            first = min(first, seg["start"])
            if seg["segment"] == "model":
                spans.setdefault(seg["worker"], []).append((seg["start"], seg["end"]))
    fractions = [
        sum(e - s for s, e in v) / (max(e for _, e in v) - min(s for s, _ in v)) for v in spans.values()
    ]
    busy = sum(e - s for v in spans.values() for s, e in v)
    fill = min(s for v in spans.values() for s, _ in v) - first
    return min(fractions), len(spans), busy, fill


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num", type=int, default=480)
    ap.add_argument("--unit-size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--cpus", type=int, default=2)
    args = ap.parse_args()
    ray.init(num_cpus=args.cpus, num_gpus=1, include_dashboard=False, logging_level="ERROR")
    sets = {"runtime": {"unit_size": args.unit_size, "batch_size": args.batch}}
    cfg = BenchConfig.model_validate(sets)
    draw_s = draw_alone(args.num // 4) * 4
    model_s = model_alone(cfg, args.num, args.batch)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in (("pools", {}), ("one_actor", {"draw": {"gpus": 1.0}})):
            c = BenchConfig.model_validate({"runtime": {**sets["runtime"], "stages": extra}})
            run = run_pipeline(PIPELINE, c, f"{tmp}/{name}", args.num, progress=False)
            units_s = run["invocations"][-1]["phase_seconds"]["units"]
            results[name] = {
                "units_seconds": round(units_s, 2),
                "setup_seconds": run["invocations"][-1]["phase_seconds"]["setup"],
            }
            if name == "pools":
                frac, workers, busy, fill = busy_fraction(f"{tmp}/{name}")
                results[name].update(
                    model_busy_fraction=round(frac, 3),
                    model_workers=workers,
                    model_seconds_on_units=round(busy, 2),  # vs model_alone_seconds: cores shared
                    fill_seconds=round(fill, 2),  # the first unit's draw, before the model has work
                )
    slower = max(draw_s / (args.cpus - 1), model_s)
    print(
        json.dumps(
            {
                "rows": args.num,
                "draw_alone_seconds": round(draw_s, 2),
                "model_alone_seconds": round(model_s, 2),
                "cpu_side_faster": draw_s / (args.cpus - 1) < model_s,
                **results,
                "pools_ratio_slower_alone_over_pipeline": round(
                    slower / results["pools"]["units_seconds"], 3
                ),
                "one_actor_over_pools": round(
                    results["one_actor"]["units_seconds"] / results["pools"]["units_seconds"], 3
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
