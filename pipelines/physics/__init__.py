"""``synth physics``: mechanics, circuits, optics and field figures generated as SVG from
parametric scenes, as text-to-image rows, verified edit pairs and questions with computed answers."""

from pipelines.physics.config import PhysicsConfig
from pipelines.physics.stages import build_stages
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="physics",
    domain="science",
    summary="Draw physics figures (mechanics, circuits, optics, fields) as SVG; edit pairs change only the edited parts.",
    config_model=PhysicsConfig,
    build_stages=build_stages,
)
