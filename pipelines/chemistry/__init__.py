"""``synth chemistry``: molecules depicted by RDKit from SMILES (a bundled list of named molecules
and substituted scaffolds) and reaction schemes whose products RDKit computes, as text-to-image
rows, edit pairs that are chemistry (a substituent replaced, a group added or removed, a bond
order changed, a ring added, a stereocentre inverted) with the unchanged atoms pinned in place,
and questions whose answers RDKit computes (formula, weight, counts, groups, products)."""

from pipelines.chemistry.config import ChemistryConfig
from pipelines.chemistry.stages import build_stages
from pipelines.diagram.stages import DECISION
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="chemistry",
    domain="science",
    summary="Molecules and reaction schemes depicted by RDKit; chemistry edits with the unchanged atoms pinned, "
    "and questions with computed answers (formula, weight, rings, donors, groups, products).",
    config_model=ChemistryConfig,
    build_stages=build_stages,
    decide=DECISION,
)
