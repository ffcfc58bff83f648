"""Every figure kind of ``synth biology`` by name (the values of the ``kinds`` config key)."""

from pipelines.biology.kinds.ecology import FoodWeb, Phylogeny
from pipelines.biology.kinds.genetics import Pedigree, Punnett
from pipelines.biology.kinds.molecular import CentralDogma
from pipelines.biology.kinds.plots import EnzymeKinetics, PopulationGrowth
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
