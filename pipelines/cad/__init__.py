"""``synth cad``: multi-view engineering drawings of CAD parts from an exact B-rep kernel
(OpenCascade): first- and third-angle sheets and single views with hidden lines by exact
hidden-line removal, shaded from the same cameras; view-completion and feature edits with their
masks; questions answered from the kernel's measures. Parts are parametric (``--num``) or read from
STEP, STL and OBJ files (``--input``) in a contained child process. Every view is checked against
the part's mesh."""

from pipelines.cad.config import CadConfig
from pipelines.cad.source import SOURCE_KEYS, plan_inputs, rows
from pipelines.cad.stages import DECISION, build_stages
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="cad",
    domain="spatial",
    summary="Engineering drawings of CAD parts (plates, brackets, flanges, shafts, housings) from an exact "
    "B-rep kernel: first/third-angle sheets with hidden lines, isometric and shaded views; view-completion and "
    "feature edits with masks; questions answered from the solid.",
    config_model=CadConfig,
    build_stages=build_stages,
    source=rows,
    plan_inputs=plan_inputs,
    source_keys=lambda cfg: SOURCE_KEYS,
    decide=DECISION,
)
