"""``synth rotate``: object rotation pairs from 3D assets (GLB, glTF, OBJ, PLY), Object-First: the
object on a plain or gradient background from a source pose and a target pose turned left, right,
up or down by a configured angle, with exact cameras and the relative rotation in the spec; edit
rows ("Rotate the toy car 90 degrees to the left.") and und rows (which way, how far). Assets are
the bundled samples (``--num``) or files (``--input``) read in a contained child process. Every
target is re-rendered from its recorded camera, and a pair whose views do not differ (a symmetric
object turned about its axis) is rejected. Background-First (``--set strategy=background_first``,
photos from ``--images`` or scikit-image's): one camera and one world light over a photo's ground,
the object turned left or right about its base centre with its ground shadow; the photo's pixels
outside both objects and shadows are checked identical and that region is the row's mask. Turntable
rows: one view in, a grid of views around the object out. ``--set name_with_llm=true`` names
objects their files do not name with a vision-language model."""

from typing import Any

from pipelines.rotate.config import RotateConfig
from pipelines.rotate.source import SOURCE_KEYS, plan_inputs, rows
from pipelines.rotate.stages import DECISION, build_stages
from synth.llm import LlmClient
from synth.pipeline import Pipeline, Unit


def plan_units(cfg: RotateConfig) -> tuple[list[Unit], dict[str, Any]] | None:
    """Check the LLM server first when objects are to be named by one (a run without it stops here)."""
    if cfg.name_with_llm:
        LlmClient(cfg.llm).connect()
    return plan_inputs(cfg)


PIPELINE = Pipeline(
    name="rotate",
    domain="spatial",
    summary="Object rotation pairs and turntables from 3D assets (GLB, glTF, OBJ, PLY; bundled samples without "
    "--input): the object from exact camera poses turned left/right/up/down by 30-180 degrees on plain or gradient "
    "backgrounds (Object-First) or turned on a photo's ground under one camera (Background-First); rotate edits, "
    "which-way/how-far questions and N-view turntables, each view re-rendered from its record.",
    config_model=RotateConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_units,
    source_keys=lambda cfg: SOURCE_KEYS,
    decide=DECISION,
)
