"""The public Python API (``synth.run``, ``validate``, ``inspect``, ``preview``, ``load_config``):
the same run as the CLI's, byte for byte, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

import synth
from synth.runner import RunError
from tests.cli_runner import invoke

SMALL = {"runtime.unit_size": 2, "render.sizes": [[512, 512]], "verify.full_pass_every": 2}


def _rows(out) -> dict[str, dict]:
    rows = {}
    for folder in ("data", "rejected"):
        for shard in sorted((out / folder).glob("*.parquet")):
            rows.update({r["sample_id"]: r for r in pq.read_table(shard).to_pylist()})
    return rows


def test_run_from_python_equals_the_cli_run(tmp_path, ray_session):
    api_out, cli_out = tmp_path / "api", tmp_path / "cli"
    run = synth.run("text_render", str(api_out), 4, overrides={**SMALL, "seed": 3})
    assert run["report"]["rows"] == 4 and run["status"] == "complete"
    assert sum(run["report"]["counts"].values()) == 4

    args = ["text-render", "--num", "4", "--out", str(cli_out), "--seed", "3", "--quiet", "--no-preview"]
    for key, value in SMALL.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output

    api_rows, cli_rows = _rows(api_out), _rows(cli_out)
    assert sorted(api_rows) == sorted(cli_rows)  # same sample ids
    for sid, row in api_rows.items():
        assert row["target_image"]["bytes"] == cli_rows[sid]["target_image"]["bytes"]
    assert json.loads((api_out / "run.json").read_text())["content_hash"] == run["content_hash"]

    assert synth.validate(str(api_out)).ok
    info = synth.inspect(str(api_out))
    assert info["counts"] == run["report"]["counts"] and info["pipeline"] == "text_render"
    assert info["schema"]["sample_id"] == run["report"]["counts"]["kept"]  # data/ holds the kept rows
    page = synth.preview(str(api_out))
    assert page.endswith("preview/index.html") and (api_out / "preview" / "index.html").is_file()


def test_load_config_takes_a_mapping_or_set_strings():
    as_dict = synth.load_config("text-render", {"render.min_contrast": 7, "fonts.dirs": ["/a"]})
    as_sets = synth.load_config("text_render", ["render.min_contrast=7", "fonts.dirs=[/a]"])
    assert as_dict.model_dump() == as_sets.model_dump()
    assert as_dict.render.min_contrast == 7.0 and as_dict.fonts.dirs == ["/a"]
    curate = synth.load_config("curate", {"inputs": ["/ignored"]}, inputs=["photos/", "more/"])
    assert curate.inputs == ["photos/", "more/"]  # inputs= wins over an override of the same key


def test_load_config_from_a_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("pipeline: text_render\nseed: 9\nrender:\n  min_contrast: 6\n")
    cfg = synth.load_config("text_render", {"seed": 10}, config=path)
    assert cfg.seed == 10 and cfg.render.min_contrast == 6.0
    assert cfg.render.warp_max == synth.load_config("text_render").render.warp_max  # the rest: defaults


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: synth.load_config("nope"), synth.ConfigError, "registered: .*text_render"),
        (lambda: synth.load_config("text_render", inputs=["x/"]), synth.ConfigError, "takes no inputs"),
        (lambda: synth.load_config("text_render", {"render.bogus": 1}), synth.ConfigError, "render.bogus"),
        (lambda: synth.load_config("text_render", "seed=1"), synth.ConfigError, "list of KEY=VALUE"),
        (lambda: synth.run("text_render", "/tmp/never-written"), RunError, "give num"),
    ],
)
def test_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_default_config_path_names_the_shipped_ones():
    from synth.config import default_config_path

    assert default_config_path("curate").name == "curate.yaml"
    with pytest.raises(synth.ConfigError, match="shipped: .*text_render"):
        default_config_path("nope")


def test_public_names_are_the_functions_whatever_is_imported_first():
    """``synth.validate`` and ``synth.preview`` share their names with modules: importing the
    modules (before or after the package) must not replace the functions on the package."""
    code = (
        "import synth.validate, synth.preview, synth.report\n"
        "from synth.validate import Validation\n"
        "import synth\n"
        "assert callable(synth.validate) and callable(synth.preview) and callable(synth.inspect)\n"
        "assert synth.validate.__module__ == 'synth.validate' and synth.preview.__name__ == 'write_preview'\n"
        "assert 'pipelines' not in __import__('sys').modules, 'import synth loaded a domain'\n"
        "print(sorted(synth.__all__))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "run" in proc.stdout and "load_config" in proc.stdout
