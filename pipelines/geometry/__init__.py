"""``synth geometry``: solid-geometry figures in the textbook (GeoGebra) style computed from exact
3D models (hidden edges dashed by exact visibility, checked again by ray casting), constructions as
edit pairs, and questions with exact answers and their working."""

from pipelines.diagram.stages import DECISION
from pipelines.geometry.config import GeometryConfig
from pipelines.geometry.stages import build_stages
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="geometry",
    domain="spatial",
    summary="Draw solids (cube, prisms, pyramids, cylinder, cone, sphere, composites) as textbook figures with "
    "hidden edges dashed; constructions as edit pairs; questions with exact answers.",
    config_model=GeometryConfig,
    build_stages=build_stages,
    decide=DECISION,
)
