"""Determinism across workers and unit sizes, and a SIGKILLed run resumed to the exact same output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.text_render import PIPELINE
from synth.config import default_config_path, load_config
from synth.runner import run_pipeline
from synth.validate import validate
from tests.cli_runner import kill_after_units


def _images_by_id(out: Path) -> dict[str, bytes]:
    rows = pq.read_table(out / "data").to_pylist() + pq.read_table(out / "rejected").to_pylist()
    return {r["sample_id"]: (r["target_image"] or {}).get("bytes") for r in rows}


def _cfg(sets):
    return load_config(PIPELINE.config_model, default_config_path("text_render"), sets)


def test_same_seed_same_ids_and_bytes_on_1_or_2_workers(tmp_path, ray_session, text_cfg_sets):
    a, b = tmp_path / "a", tmp_path / "b"
    run_pipeline(
        PIPELINE,
        _cfg([*text_cfg_sets, "runtime.workers=1", "runtime.unit_size=12", "seed=3"]),
        str(a),
        12,
        progress=False,
    )
    run_pipeline(
        PIPELINE,
        _cfg([*text_cfg_sets, "runtime.workers=2", "runtime.unit_size=4", "seed=3"]),
        str(b),
        12,
        progress=False,
    )
    ia, ib = _images_by_id(a), _images_by_id(b)
    assert len(ia) == 12 and ia.keys() == ib.keys()
    assert all(ia[k] == ib[k] for k in ia)
    c = tmp_path / "c"
    run_pipeline(PIPELINE, _cfg([*text_cfg_sets, "seed=4"]), str(c), 12, progress=False)
    assert not set(_images_by_id(c)) & set(ia)  # another seed, other samples


def test_sigkill_then_resume_equals_uninterrupted(tmp_path, ray_session, text_cfg_sets):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    sets = [*text_cfg_sets, "runtime.unit_size=3", "runtime.workers=1"]
    cmd = [
        sys.executable,
        "-m",
        "synth.cli.main",
        "text-render",
        "--num",
        "18",
        "--out",
        str(killed),
        "--seed",
        "5",
        "--quiet",
        "--no-preview",
        "--address",
        ray_session,
    ]
    for s in sets:
        cmd += ["--set", s]
    done_before = kill_after_units(cmd, killed)
    assert 2 <= done_before < 6, "the run should be killed midway"
    assert not validate(str(killed)).ok  # unfinished units are reported

    subprocess.run(cmd, check=True, timeout=600)
    run_pipeline(PIPELINE, _cfg([*sets, "seed=5"]), str(clean), 18, progress=False)
    assert validate(str(killed)).ok
    ik, ic = _images_by_id(killed), _images_by_id(clean)
    assert ik.keys() == ic.keys() and len(ik) == 18
    assert all(ik[k] == ic[k] for k in ik)
    for name in sorted(os.listdir(clean / "data")):
        assert (killed / "data" / name).read_bytes() == (clean / "data" / name).read_bytes()
    assert not [p for p in killed.rglob("*") if ".tmp-" in p.name]
