"""Every registered pipeline, in one loop: its shipped YAML loads and equals its Python defaults,
``synth <word> --help`` prints, and a 2-sample run validates (LLM pipelines: in
tests/test_llm_server.py, against the real server). A new domain is covered by adding its registry
line (README: "Adding a domain"); one that needs inputs gets them in ``INPUTS`` here."""

from __future__ import annotations

from pathlib import Path

import pytest

import synth
from pipelines import registry
from synth.config import default_config_path, load_config
from tests.cli_runner import invoke

PIPELINES = registry()

#: Settings that keep a 2-sample run quick (the defaults draw at 1024 px).
SMALL: dict[str, dict] = {
    "text_render": {"render.sizes": [[512, 512]]},
    "text_edit": {"render.sizes": [[640, 640]]},
    "physics": {"render.max_side": 512},
    "cs_diagram": {"render.max_side": 512},
    "meme": {"stages": ["detect", "remove", "render", "verify"]},  # bundled plans: no LLM server here
}


def _two_photos(folder: Path) -> list[str]:
    """Two of scikit-image's bundled photos as PNG files, the photos curation's own tests start from."""
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True)
    paths = [folder / "astronaut.png", folder / "coffee.png"]
    for path, pixels in zip(paths, (data.astronaut(), data.coffee()), strict=True):
        Image.fromarray(pixels).save(path)
    return [str(p) for p in paths]


def _earlier_output(folder: Path) -> list[str]:
    """Two text-render rows: what ``synth sample`` reads (with the tiny checkpoint in SMALL)."""
    synth.run("text_render", str(folder), 2, overrides=SMALL["text_render"])
    return [str(folder)]


INPUTS = {"curate": _two_photos, "sample": _earlier_output}
SMALL["sample"] = {"checkpoint": str(Path(__file__).parent / "data" / "ivu" / "tiny"), "steps": 2}


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_shipped_yaml_equals_the_python_defaults(name):
    """One source of defaults: the YAML and the pydantic model agree on every key, so a config
    built in Python gets the sample ids of the CLI's (fonts.exclude and unit_size once differed)."""
    pipeline = PIPELINES[name]
    shipped = load_config(pipeline.config_model, default_config_path(name))
    built = pipeline.config_model()
    assert shipped.model_dump(mode="json") == built.model_dump(mode="json")
    assert shipped.content_hash() == built.content_hash()
    assert shipped.decision_hash() == built.decision_hash()
    assert synth.load_config(name).content_hash() == built.content_hash()


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_help_prints(name):
    pipeline = PIPELINES[name]
    result = invoke(name.replace("_", "-"), "--help")
    assert result.exit_code == 0, result.output
    assert pipeline.summary.split()[0] in result.output
    assert str(default_config_path(name)) in result.output.replace("\n", "")
    assert "--out" in result.output and "--set" in result.output


@pytest.mark.parametrize("name", sorted(n for n, p in PIPELINES.items() if not p.needs_llm))
def test_two_sample_run_validates(name, tmp_path, ray_session):
    pipeline = PIPELINES[name]
    inputs = None
    if pipeline.inputs_required or name in INPUTS:
        assert name in INPUTS, f"{name} takes --input: add the smallest real input for it to INPUTS"
        inputs = INPUTS[name](tmp_path / "inputs")
    out = tmp_path / "out"
    run = synth.run(name, str(out), None if inputs else 2, inputs=inputs, overrides=SMALL.get(name))
    result = synth.validate(str(out))
    assert result.ok, result.problems
    assert result.rows == 2 == run["report"]["rows"]
    assert run["status"] == "complete"


def test_llm_pipelines_run_against_real_vllm():
    """Pipelines that need an LLM server run in tests/test_llm_server.py, on earlier domains'
    outputs against the session's real vLLM (a tiny random model): starting it costs minutes, so it
    is shared there rather than started here. Every such pipeline must be in that list."""
    from tests.test_llm_server import STAGES

    needs_llm = {n for n, p in PIPELINES.items() if p.needs_llm}
    assert needs_llm and needs_llm <= {stage for stage, _, _ in STAGES}
