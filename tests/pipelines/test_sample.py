"""``synth sample`` end to end on the tiny checkpoint, on the session's Ray: each mode from a real
earlier output, the rows' ids and tasks kept, batch == alone, 1 worker == 2, kill and resume,
rows lacking their inputs rejected with reasons, prompt files, the pinned checkpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

import synth
from synth.runner import RunError
from synth.schema import SCHEMA, rows_to_table
from tests.cli_runner import invoke, kill_after_units

TINY = Path(__file__).resolve().parent.parent / "data" / "ivu" / "tiny"
FAST = {"checkpoint": str(TINY), "steps": 3, "runtime.unit_size": 3, "runtime.batch_size": 4}


def rows_of(out: Path, folder: str = "data") -> dict[str, dict]:
    rows = {}
    for f in sorted((out / folder).glob("*.parquet")):
        for r in pq.read_table(f).to_pylist():
            rows[r["sample_id"]] = r
    return rows


def pixels(cell: dict) -> np.ndarray:
    return np.asarray(Image.open(BytesIO(cell["bytes"])).convert("RGB"))


@pytest.fixture(scope="module")
def earlier(tmp_path_factory, ray_session):
    """Small real outputs of three domains: text-render (t2i), text-edit (edit), cs-diagram und rows."""
    root = tmp_path_factory.mktemp("earlier")
    synth.run(
        "text_render",
        str(root / "text"),
        6,
        overrides={"render.sizes": [[256, 256], [320, 240]], "runtime.unit_size": 3},
    )
    synth.run("text_edit", str(root / "edit"), 3, overrides={"render.sizes": [[512, 512]]})
    synth.run("cs_diagram", str(root / "und"), 3, overrides={"tasks": {"und": 1}, "render.max_side": 512})
    return root


@pytest.mark.parametrize(
    ("source", "mode", "task"),
    [
        ("text", "image", "t2i"),
        ("edit", "edit", "edit"),
        ("und", "text", "und"),
        ("text", "text_image", "t2i"),
    ],
)
def test_each_mode_from_an_earlier_output(earlier, tmp_path, source, mode, task):
    out = tmp_path / mode
    run = synth.run(
        "sample",
        str(out),
        inputs=[str(earlier / source)],
        overrides={**FAST, "mode": mode, "max_new_tokens": 6},
    )
    assert synth.validate(str(out)).ok
    given, got = rows_of(earlier / source), rows_of(out)
    assert got and set(got) == set(given)  # every input row kept, same sample ids
    assert run["report"]["counts"]["kept"] == len(given)
    assert run["pinned"]["digest"] and run["pinned"]["defaults"]["max_pixels"] == 4096
    for sid, row in got.items():
        assert row["task"] == given[sid]["task"] == task
        sample = json.loads(row["meta"])["sample"]
        assert sample["mode"] == mode and sample["checkpoint"].startswith("internvlu@sha256:")
        assert row["generator"].endswith(sample["checkpoint"])
        if mode == "text":
            assert row["response"] and row["target_image"] == given[sid]["target_image"]
            assert sample["reference_response"] == given[sid]["response"]
            continue
        image = pixels(row["target_image"])
        assert image.shape == (row["height"], row["width"], 3)
        assert (
            row["height"] * row["width"] <= 4096 * 1.2
        )  # auto: the row's aspect, the checkpoint's pixel range
        assert sample["steps"] == 3 and sample["noise_seed"] > 0
        if mode == "edit":
            assert row["source_image"] == given[sid]["source_image"]
            src = pixels(given[sid]["source_image"])
            assert abs(image.shape[1] / image.shape[0] - src.shape[1] / src.shape[0]) < 0.3
        if mode == "text_image":
            assert row["cot"] and sample["all_cfg_scale"] == 3.5 and sample["tokens_out"] <= 6


def test_same_image_batched_alone_and_on_two_workers(earlier, tmp_path):
    """Batches of 4 on one worker and on two: the same bytes. Batches of 1: within one level."""
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    inputs = [str(earlier / "text")]
    synth.run("sample", str(a), inputs=inputs, overrides={**FAST, "runtime.workers": 1, "size": "64x48"})
    synth.run("sample", str(b), inputs=inputs, overrides={**FAST, "runtime.workers": 2, "size": "64x48"})
    synth.run("sample", str(c), inputs=inputs, overrides={**FAST, "runtime.batch_size": 1, "size": "64x48"})
    for name in sorted(os.listdir(a / "data")):
        assert (a / "data" / name).read_bytes() == (b / "data" / name).read_bytes()
    ra, rc = rows_of(a), rows_of(c)
    assert ra.keys() == rc.keys()
    for sid in ra:
        assert pixels(ra[sid]["target_image"]).shape == (48, 64, 3)
        assert (
            np.abs(pixels(ra[sid]["target_image"]).astype(int) - pixels(rc[sid]["target_image"])).max() <= 1
        )


def test_pipeline_equals_the_sampler_called_directly(tmp_path, ray_session):
    """A prompt file with one fixed seed through Ray actors gives what the sampler gives in this
    process (which tests/internvlu/test_ivu_sample.py ties to the official pipeline)."""
    from synth.internvlu.model import InternVLU
    from synth.internvlu.sample import Request, Sampler

    prompts = tmp_path / "prompts.txt"
    prompts.write_text(
        "a small red cube and a blue sphere on a wooden table, studio lighting\n\n  a red bicycle  \n"
    )
    out = tmp_path / "gen"
    result = invoke("sample", "--checkpoint", str(TINY), "--prompts", str(prompts), "--out", str(out),
                    "--steps", "4", "--size", "64x64", "--set", "noise_seed=42", "--quiet", "--address", ray_session)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 kept" in result.output and "preview:" in result.output
    got = {r["instruction"]: r for r in rows_of(out).values()}
    assert set(got) == {
        "a small red cube and a blue sphere on a wooden table, studio lighting",
        "a red bicycle",
    }
    sampler = Sampler(InternVLU.from_pretrained(TINY))
    for prompt, row in got.items():
        assert row["task"] == "t2i" and json.loads(row["meta"])["sample"]["noise_seed"] == 42
        [want] = sampler([Request(prompt, "image", None, 64, 64, 4, noise_seed=42)])
        assert np.abs(pixels(row["target_image"]).astype(int) - want.image).max() <= 1


def _input_rows(tmp_path: Path) -> Path:
    """An earlier output's shard, by hand: one good row and one of each way to lack an input."""
    good = Image.new("RGB", (64, 64), (200, 30, 30))
    buf = BytesIO()
    good.save(buf, "PNG")
    png = {"bytes": buf.getvalue(), "path": None}
    rows = [
        {"sample_id": "good", "task": "t2i", "instruction": "a red square", "seed": 1, "width": 64, "height": 64},
        {"sample_id": "no_prompt", "task": "t2i", "instruction": "  ", "seed": 2},
        {"sample_id": "edit_without_source", "task": "edit", "instruction": "make it blue", "seed": 3},
        {"sample_id": "broken_source", "task": "edit", "instruction": "make it blue", "seed": 4,
         "source_image": {"bytes": b"not an image", "path": None}},
        {"sample_id": "curated_image", "task": "image", "target_image": png, "seed": 5, "width": 64, "height": 64},
        {"sample_id": "good_edit", "task": "edit", "instruction": "make it blue", "seed": 6, "source_image": png},
    ]  # fmt: skip
    for r in rows:
        r.update(status="kept", domain="test", subdomain="test")
    tmp_path.mkdir(parents=True, exist_ok=True)
    pq.write_table(rows_to_table(rows), tmp_path / "given.parquet")
    return tmp_path / "given.parquet"


def test_rows_lacking_inputs_are_rejected_with_reasons(tmp_path, ray_session):
    out = tmp_path / "out"
    run = synth.run("sample", str(out), inputs=[str(_input_rows(tmp_path))], overrides=FAST)
    assert synth.validate(str(out)).ok
    rejected = rows_of(out, "rejected")
    reasons = {sid: (r["reason"], r["detail"]) for sid, r in rejected.items()}
    assert reasons["no_prompt"][0] == "missing_input" and "instruction" in reasons["no_prompt"][1]
    assert reasons["edit_without_source"][0] == "missing_input"
    assert reasons["broken_source"][0] == "decode_error"
    assert reasons["curated_image"][0] == "missing_input" and "--mode" in reasons["curated_image"][1]
    assert set(rows_of(out)) == {"good", "good_edit"}
    counts = run["report"]["counts"]
    assert counts == {"kept": 2, "rejected": 4, "error": 0}

    seeds = tmp_path / "seeds"  # a seed column that does not hold seeds
    run = synth.run("sample", str(seeds), inputs=[str(_input_rows(tmp_path / "x"))],
                    overrides={**FAST, "noise_seed_column": "instruction"})  # fmt: skip
    assert run["report"]["counts"]["kept"] == 0
    assert "holds no seed" in rows_of(seeds, "rejected")["good"]["detail"]


def test_checkpoint_is_pinned_by_digest(earlier, tmp_path):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(TINY, ckpt)
    out = tmp_path / "out"
    sets = {**FAST, "checkpoint": str(ckpt)}
    first = synth.run("sample", str(out), inputs=[str(earlier / "text")], overrides=sets)
    again = synth.run("sample", str(out), inputs=[str(earlier / "text")], overrides=sets)  # nothing to redo
    assert again["pinned"] == first["pinned"] and again["invocations"][-1]["units_run"] == 0
    config = ckpt / "generation_decoder" / "config.json"
    config.write_text(config.read_text().replace('"max_sequence_length": 256', '"max_sequence_length": 255'))
    with pytest.raises(RunError, match="not the one the run started with"):
        synth.run("sample", str(out), inputs=[str(earlier / "text")], overrides=sets)
    with pytest.raises(synth.ConfigError, match="needs --checkpoint"):
        synth.run("sample", str(tmp_path / "none"), inputs=[str(earlier / "text")])
    with pytest.raises(synth.ConfigError, match="nowhere.*is not a folder"):
        synth.run("sample", str(tmp_path / "o2"), inputs=[str(earlier / "text")],
                  overrides={"checkpoint": str(tmp_path / "nowhere")})  # fmt: skip


def test_sigkill_then_resume_equals_uninterrupted(earlier, tmp_path, ray_session):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    cmd = [sys.executable, "-m", "synth.cli.main", "sample", "--checkpoint", str(TINY), "--input",
           str(earlier / "text"), "--out", str(killed), "--steps", "40", "--quiet", "--no-preview",
           "--address", ray_session, "--set", "runtime.unit_size=1", "--set", "runtime.workers=1"]  # fmt: skip
    done_before = kill_after_units(cmd, killed)
    assert 2 <= done_before < 6, "the run should be killed midway"
    subprocess.run(cmd, check=True, timeout=600, stdout=subprocess.DEVNULL)
    synth.run("sample", str(clean), inputs=[str(earlier / "text")],
              overrides={**FAST, "steps": 40, "runtime.unit_size": 1})  # fmt: skip
    assert synth.validate(str(killed)).ok
    for name in sorted(os.listdir(clean / "data")):
        assert (killed / "data" / name).read_bytes() == (clean / "data" / name).read_bytes()


def test_outputs_keep_the_schema_and_load_where_users_load_them(earlier, tmp_path):
    out = tmp_path / "gen"
    synth.run("sample", str(out), inputs=[str(earlier / "text")], overrides=FAST)
    table = pq.read_table(next((out / "data").glob("*.parquet")))
    assert table.schema.remove_metadata() == SCHEMA.remove_metadata()
    assert pa.types.is_string(table.schema.field("cot").type)
