"""What stages read is checked against what the source and earlier stages write, when the pipeline
is built: a stage reading an undeclared key fails then, naming the stage and the key."""

from __future__ import annotations

import pytest

from pipelines import registry
from synth.config import PipelineConfig, default_config_path, load_config
from synth.pipeline import Pipeline
from synth.stage import FlowError, Stage, check_flow


def stage(name: str, reads: tuple[str, ...] = (), writes: tuple[str, ...] = ()) -> Stage:
    s = Stage()
    s.name, s.reads, s.writes = name, reads, writes
    return s


def test_a_read_nothing_writes_names_the_stage_and_the_key():
    draw = stage("draw", reads=("seed",), writes=("scores", "_image"))
    verify = stage("verify", reads=("_image", "_worst_read"), writes=("scores",))
    with pytest.raises(FlowError, match=r"stage 'verify' reads '_worst_read'.*\('draw'\)"):
        check_flow([draw, verify], ("sample_id", "seed"))
    with pytest.raises(FlowError, match=r"stage 'draw' reads 'seed'.*\(none\)"):
        check_flow([draw], ("sample_id",))
    verify.reads = ("_image",)
    check_flow([draw, verify, stage("decide", reads=("scores",))], ("seed",))


def test_dotted_names_are_parts_of_their_column():
    check_flow([stage("a", writes=("scores",)), stage("b", reads=("scores.aesthetic",))], ())
    check_flow([stage("a", writes=("scores.nsfw",)), stage("b", reads=("scores",))], ())
    check_flow([stage("a", writes=("scores.nsfw",)), stage("b", reads=("scores.nsfw",))], ())
    with pytest.raises(FlowError, match="'scores.aesthetic'"):
        check_flow([stage("a", writes=("meta",)), stage("b", reads=("scores.aesthetic",))], ())


def test_pipeline_stages_fail_at_build_time():
    bad = Pipeline(
        name="bad",
        domain="test",
        summary="",
        config_model=PipelineConfig,
        build_stages=lambda cfg: [
            stage("draw", writes=("target_image",)),
            stage("verify", reads=("_image",)),
        ],
    )
    with pytest.raises(FlowError, match=r"stage 'verify' reads '_image', which neither the source of bad"):
        bad.stages(PipelineConfig(pipeline="bad"))
    sourced = Pipeline(
        name="sourced",
        domain="test",
        summary="",
        config_model=PipelineConfig,
        build_stages=lambda cfg: [stage("caption", reads=("target_image", "_bytes"))],
        source=lambda cfg, ident, unit: [],
        source_keys=lambda cfg: ("target_image",),
    )
    with pytest.raises(FlowError, match="'_bytes'"):
        sourced.stages(PipelineConfig(pipeline="sourced"))


VARIANTS = [(name, []) for name in registry()] + [
    ("text_edit", ["inputs=[photos/]"]),
    ("physics", ["documents=[pages/]"]),
]


@pytest.mark.parametrize(("name", "sets"), VARIANTS)
def test_every_pipeline_declares_what_it_passes_on(name, sets):
    pipeline = registry()[name]
    cfg = load_config(pipeline.config_model, default_config_path(name), sets)
    stages = pipeline.stages(cfg)  # raises FlowError naming the stage and the key
    assert stages
