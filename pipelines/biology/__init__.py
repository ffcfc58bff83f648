"""``synth biology``: Punnett squares and pedigrees with computed ratios and consistent inheritance,
DNA -> mRNA -> protein by the standard codon table with point mutations, food webs with computed
trophic levels, phylogenetic trees built from distance matrices (UPGMA, neighbour joining), and
enzyme-kinetics and population-growth plots with the quantities read off, as text-to-image rows,
edit pairs that change only the edited elements, and questions whose answers are computed."""

from pipelines.biology.config import BiologyConfig
from pipelines.biology.stages import build_stages
from pipelines.diagram.stages import DECISION
from synth.pipeline import Pipeline

PIPELINE = Pipeline(
    name="biology",
    domain="science",
    summary="Punnett squares, pedigrees, transcription and translation, food webs, phylogenetic trees and "
    "kinetics/growth plots, every answer and edit computed (ratios, codons, trophic levels, UPGMA/NJ, Km, Vmax).",
    config_model=BiologyConfig,
    build_stages=build_stages,
    decide=DECISION,
)
