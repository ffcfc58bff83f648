"""The CLI end to end on the shared local Ray: run, inspect, validate, preview, and clear errors."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from synth.cli.main import cli
from synth.schema import scores_of
from tests.cli_runner import invoke


def run_text(out, num, sets, *extra):
    args = ["text-render", "--num", str(num), "--out", str(out), "--seed", "7", "--quiet"]
    for s in sets:
        args += ["--set", s]
    return invoke(*args, *extra)


@pytest.fixture(scope="module")
def text_run(tmp_path_factory, ray_session, text_cfg_sets):
    out = tmp_path_factory.mktemp("text") / "run"
    result = run_text(out, 24, text_cfg_sets)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_run_writes_valid_output(text_run):
    out, output = text_run
    assert "24 rows" in output and "preview:" in output
    result = invoke("validate", str(out), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 0, report["problems"]
    assert report["rows"] == 24 and report["images_checked"] >= report["counts"]["kept"]
    assert report["counts"]["kept"] >= 20  # at least ~90% verified by OCR


def test_rows_carry_ground_truth(text_run):
    out, _ = text_run
    table = pq.read_table(out / "data")
    rows = table.to_pylist()
    languages = {r["language"] for r in rows}
    assert {"en", "zh"} <= languages | {"mixed"} or len(languages) >= 2
    for r in rows:
        assert r["task"] == "t2i" and r["domain"] == "text"
        assert r["target_image"]["bytes"][:8] == b"\x89PNG\r\n\x1a\n"
        assert {(v["style"], v["language"]) for v in r["instructions"]} == {
            ("dense", "en"),
            ("concise", "en"),
            ("dense", "zh"),
            ("concise", "zh"),
        }
        spec = json.loads(r["spec"])
        for block in spec["blocks"]:  # every block's text is quoted in the prompt
            first_line = block["text"].split("\n")[0]
            assert first_line in r["instruction"]
        for t in r["texts"]:
            x0, y0, x1, y1 = t["bbox"]
            assert 0 <= x0 < x1 <= r["width"] and 0 <= y0 < y1 <= r["height"]
            assert t["color"].startswith("#") and t["font"]
        assert scores_of(r)["ocr_ned_max"] <= 0.2
        assert json.loads(r["program"]["source"])["version"] == "text-plan/1"


def test_program_redraws_the_same_image(text_run):
    from renderers.text.backgrounds import render_background
    from renderers.text.render import draw
    from synth.imageio import decode_image
    from synth.sources import PhotoPool

    out, _ = text_run
    rows = pq.read_table(out / "data").to_pylist()
    pool = PhotoPool(None)
    for r in rows[:6]:
        plan = json.loads(r["program"]["source"])
        bg = plan["background"]
        photo = pool.load(bg["ref"]).pixels if bg["kind"] == "photo" else None
        image = draw(plan, render_background(bg, plan["width"], plan["height"], photo))
        assert (image == decode_image(r["target_image"]["bytes"])).all()


def test_inspect_and_preview(text_run):
    out, _ = text_run
    result = invoke("inspect", str(out), "--json")
    info = json.loads(result.output)
    assert sum(info["counts"].values()) == info["inputs"] == 24
    assert info["units_done"] == info["units_planned"] == 4
    assert info["schema"]["sample_id"] == info["counts"]["kept"]
    text = invoke("inspect", str(out)).output
    assert "kept" in text and "throughput" in text and "wall time (last run): setup" in text
    assert set(info["phase_seconds"]) == {"setup", "units"}
    page = (out / "preview" / "index.html").read_text()
    assert page.count('<div class="card') >= 20 and "<script" not in page


def test_rerun_skips_done_units_and_extends(text_run, tmp_path, text_cfg_sets):
    out = tmp_path / "ext"
    assert run_text(out, 6, text_cfg_sets).exit_code == 0
    before = (out / "data" / "part-000000.parquet").read_bytes()
    mtime = (out / "_units" / "part-000000.json").stat().st_mtime_ns
    assert run_text(out, 12, text_cfg_sets).exit_code == 0
    assert (out / "_units" / "part-000000.json").stat().st_mtime_ns == mtime  # not redone
    assert (out / "data" / "part-000000.parquet").read_bytes() == before
    run = json.loads((out / "run.json").read_text())
    assert run["plan"] == [[0, 6], [6, 12]]
    result = CliRunner().invoke(
        cli,
        ["text-render", "--num", "3", "--out", str(out), "--seed", "7", "--quiet"]
        + sum((["--set", s] for s in text_cfg_sets), []),
    )
    assert result.exit_code != 0 and "--num 12 or more" in str(result.exception)


def test_mismatched_config_is_refused(tmp_path, ray_session, text_cfg_sets):
    out = tmp_path / "m"
    assert run_text(out, 4, text_cfg_sets).exit_code == 0
    result = CliRunner().invoke(
        cli,
        [
            "text-render",
            "--num",
            "4",
            "--out",
            str(out),
            "--seed",
            "7",
            "--quiet",
            "--set",
            "render.min_contrast=7",
        ]
        + sum((["--set", s] for s in text_cfg_sets), []),
    )
    assert (
        result.exit_code != 0
        and "content_hash" in str(result.exception)
        and "--overwrite" in str(result.exception)
    )
    ok = run_text(out, 4, [*text_cfg_sets, "render.min_contrast=7"], "--overwrite")
    assert ok.exit_code == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("render.colour=1", "unknown key 'render.colour'; allowed here: backgrounds"),
        ("render.backgrounds={marble: 1}", "render.backgrounds.marble"),
        ("verify.ocr.backend=easyocr", "'rapidocr', 'paddleocr' or 'tesseract'"),
        ("thresholds.max_ned=2", "less than or equal to 1"),
    ],
)
def test_bad_config_names_key_and_allowed_values(tmp_path, override, message):
    result = CliRunner().invoke(
        cli, ["text-render", "--num", "2", "--out", str(tmp_path / "x"), "--set", override]
    )
    assert result.exit_code != 0
    assert message in str(result.exception), str(result.exception)


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["text-render", "--num", "2", "--out", str(blocker / "out")])
    assert result.exit_code != 0 and "cannot write to" in str(result.exception)


def test_main_prints_user_errors_without_traceback(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "synth.cli.main",
            "text-render",
            "--num",
            "2",
            "--out",
            str(tmp_path / "o"),
            "--set",
            "nope=1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        proc.returncode == 2
        and proc.stderr.startswith("error: invalid config")
        and "Traceback" not in proc.stderr
    )


def test_validate_fails_on_foreign_folder(tmp_path):
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 1 and "no run.json" in result.output


def test_help_is_readable():
    text = invoke("--help").output
    assert "text-render" in text and "validate" in text and "Quick start" in text
    sub = invoke("text-render", "--help").output
    for flag in ("--num", "--out", "--set", "--images", "--corpus", "--address", "--overwrite"):
        assert flag in sub
