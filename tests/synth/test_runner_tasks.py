"""The runner's task path (CPU-only stages), row errors as data, and failing units reported."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from ray import cloudpickle

from synth.config import PipelineConfig, Strict
from synth.imageio import encode_png
from synth.pipeline import Pipeline
from synth.runner import RunError, run_pipeline
from synth.schema import image_value
from synth.stage import Stage, mark
from synth.validate import validate

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import test modules


class Knobs(Strict):
    fail_every: int = 0
    flaky_while: str | None = None  # rows with index % 5 == 0 error (io_error) while this file exists


class TinyConfig(PipelineConfig):
    pipeline: str = "tiny"
    knobs: Knobs = Knobs()


class Paint(Stage):
    name = "paint"
    error_reason = "render_error"

    def __init__(self, cfg: TinyConfig):
        self.fail_every = cfg.knobs.fail_every
        self.flaky_while = cfg.knobs.flaky_while

    def process_row(self, row):
        if self.fail_every and row["_index"] % self.fail_every == 0:
            raise ValueError("boom")
        if self.flaky_while and os.path.exists(self.flaky_while) and row["_index"] % 5 == 0:
            return mark(row, "io_error", "storage hiccup")
        rng = np.random.default_rng(row["seed"])
        image = rng.integers(0, 255, (8, 12, 3), dtype=np.uint8)
        row.update(domain="test", task="t2i", target_image=image_value(encode_png(image)), width=12, height=8)
        return row


def tiny_pipeline() -> Pipeline:
    return Pipeline("tiny", "test", "tiny test pipeline", TinyConfig, lambda cfg: [Paint(cfg)])


def test_cpu_only_pipeline_runs_as_tasks_and_isolates_bad_rows(tmp_path, ray_session):
    cfg = TinyConfig.model_validate({"knobs": {"fail_every": 5}, "runtime": {"unit_size": 7}})
    run = run_pipeline(tiny_pipeline(), cfg, str(tmp_path / "o"), 30, progress=False)
    report = run["report"]
    assert report["counts"] == {"kept": 24, "rejected": 6, "error": 0}
    assert report["reasons"] == {"render_error": 6}
    assert run["status"] == "complete" and report["units_done"] == 5
    result = validate(str(tmp_path / "o"))
    assert result.ok, result.problems


def test_a_failing_unit_is_reported_and_redone_on_rerun(tmp_path, ray_session):
    out = tmp_path / "o"
    (out / "data").mkdir(parents=True)
    (out / "data" / "part-000001.parquet").mkdir()  # a folder where a shard must go: that unit fails
    cfg = TinyConfig.model_validate({"runtime": {"unit_size": 4}})
    with pytest.raises(RunError, match="1 of 3 units failed"):
        run_pipeline(tiny_pipeline(), cfg, str(out), 12, progress=False)
    assert not validate(str(out)).ok
    (out / "data" / "part-000001.parquet").rmdir()
    run = run_pipeline(tiny_pipeline(), cfg, str(out), 12, progress=False)
    assert run["report"]["units_done"] == 3 and validate(str(out)).ok


def test_retry_errors_redoes_only_units_with_errors(tmp_path, ray_session):
    flag = tmp_path / "flaky"
    flag.write_text("1")
    out = tmp_path / "o"
    cfg = TinyConfig.model_validate({"knobs": {"flaky_while": str(flag)}, "runtime": {"unit_size": 5}})
    first = run_pipeline(tiny_pipeline(), cfg, str(out), 20, progress=False)
    assert first["report"]["counts"] == {"kept": 16, "rejected": 0, "error": 4}
    flag.unlink()
    again = run_pipeline(tiny_pipeline(), cfg, str(out), 20, progress=False)  # plain rerun: all committed
    assert again["invocations"][-1]["units_run"] == 0 and again["report"]["counts"]["error"] == 4
    retried = run_pipeline(tiny_pipeline(), cfg, str(out), 20, retry_errors=True, progress=False)
    assert retried["invocations"][-1]["units_run"] == 4
    assert retried["report"]["counts"] == {"kept": 20, "rejected": 0, "error": 0}
    assert validate(str(out)).ok


class BrokenModel(Paint):
    """A model stage whose weights do not load."""

    name = "model"
    keeps_model = True

    def setup(self):
        raise OSError("weights.bin: no such file")


def test_a_failed_model_setup_stops_the_run_and_frees_its_actors(tmp_path, ray_session):
    import ray

    pipe = Pipeline("tiny", "test", "tiny test pipeline", TinyConfig, lambda cfg: [BrokenModel(cfg)])
    with pytest.raises(RunError, match="setup of tiny failed.*weights.bin: no such file") as failed:
        run_pipeline(pipe, TinyConfig(), str(tmp_path / "o"), 4, progress=False)
    # freed even while the caller still holds the error (whose traceback holds the actor handles)
    total = ray.cluster_resources()["CPU"]
    for _ in range(100):  # actors are killed asynchronously
        if ray.available_resources().get("CPU", 0) == total:
            break
        time.sleep(0.1)
    assert ray.available_resources().get("CPU", 0) == total
    assert failed.value
    # and a good run right after gets every CPU
    assert (
        run_pipeline(tiny_pipeline(), TinyConfig(), str(tmp_path / "ok"), 4, progress=False)["status"]
        == "complete"
    )


def test_worker_count_fits_free_cpus_and_gpu_shares():
    from synth.pools import worker_count

    assert worker_count(None, 1.0, 0.0, {"CPU": 16.0}, 100) == 16
    assert worker_count(None, 1.0, 0.25, {"CPU": 16.0, "GPU": 1.0}, 100) == 4  # four shares of one GPU
    assert worker_count(None, 1.0, 0.3, {"CPU": 16.0, "GPU": 2.0}, 100) == 6
    assert worker_count(None, 1.0, 0.5, {"CPU": 2.0, "GPU": 4.0}, 100) == 2  # CPUs bound it
    assert worker_count(None, 1.0, 0.25, {"CPU": 16.0, "GPU": 1.0}, 3) == 3  # no more than units
    assert worker_count(None, 1.0, 0.25, {"CPU": 16.0}, 100) == 1  # every GPU busy: one waits for it
    assert worker_count(8, 1.0, 0.0, {"CPU": 2.0}, 100) == 8  # asked for: as many as asked


def test_a_rerun_skips_committed_units_by_their_manifests_without_reading_the_shards(
    tmp_path, ray_session, monkeypatch
):
    """On object storage a full re-read of every shard would download the whole output to skip it;
    sizes from the listing and the manifest are enough (``synth validate`` checks checksums)."""
    from synth.writer import OutputDir

    out = str(tmp_path / "o")
    cfg = TinyConfig.model_validate({"runtime": {"unit_size": 5}})
    run_pipeline(tiny_pipeline(), cfg, out, 20, progress=False)
    reads: list[str] = []
    original = OutputDir.read_bytes

    def counting(self, rel):
        reads.append(rel)
        return original(self, rel)

    monkeypatch.setattr(OutputDir, "read_bytes", counting)
    run = run_pipeline(tiny_pipeline(), cfg, out, 20, progress=False)
    assert run["invocations"][-1]["units_run"] == 0
    assert not [r for r in reads if r.endswith(".parquet")], reads
    # a shard whose size no longer matches its manifest is redone
    shard = next((tmp_path / "o" / "data").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[:-10])
    monkeypatch.setattr(OutputDir, "read_bytes", original)
    run = run_pipeline(tiny_pipeline(), cfg, out, 20, progress=False)
    assert run["invocations"][-1]["units_run"] == 1 and validate(out).ok


def test_half_written_files_anywhere_in_the_folder_are_removed_on_a_rerun(tmp_path, ray_session):
    out = tmp_path / "o"
    cfg = TinyConfig.model_validate({"runtime": {"unit_size": 5}})
    run_pipeline(tiny_pipeline(), cfg, str(out), 10, progress=False)
    stale = [out / "data" / "part-000000.parquet.tmp-abc", out / "_work" / "x" / "_units" / "p.json.tmp-1"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    run_pipeline(tiny_pipeline(), cfg, str(out), 10, progress=False)
    assert not any(p.exists() for p in stale)
