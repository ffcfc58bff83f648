"""``synth cs-diagram``: trees, heaps, lists, stacks, queues, arrays, graphs, automata, flowcharts
and charts drawn from programs, as text-to-image rows, verified edit pairs and questions whose
answers are computed."""

from pipelines.cs_diagram.config import CsDiagramConfig
from pipelines.cs_diagram.stages import build_stages
from pipelines.diagram.stages import DECISION
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="cs_diagram",
    domain="science",
    summary="Draw data structures, automata, flowcharts and charts; edit pairs that change only the edited elements.",
    config_model=CsDiagramConfig,
    build_stages=build_stages,
    decide=DECISION,
)
