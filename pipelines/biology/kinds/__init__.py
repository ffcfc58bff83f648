"""Every figure kind of ``synth biology`` by name (the values of the ``kinds`` config key)."""

from pipelines.biology.kinds.food_web import FoodWeb
from pipelines.biology.kinds.molecular import CentralDogma
from pipelines.biology.kinds.pedigree import Pedigree
from pipelines.biology.kinds.phylogeny import Phylogeny
from pipelines.biology.kinds.plots import EnzymeKinetics, PopulationGrowth
from pipelines.biology.kinds.punnett import Punnett
from pipelines.diagram.kind import Kind

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Punnett(),
        Pedigree(),
        CentralDogma(),
        FoodWeb(),
        Phylogeny(),
        EnzymeKinetics(),
        PopulationGrowth(),
    )
}

__all__ = ["KINDS"]
