"""Every figure kind of ``synth chemistry`` by name (the values of the ``kinds`` config key)."""

from pipelines.chemistry.kinds.molecule import Molecule
from pipelines.chemistry.kinds.reaction import Reaction
from pipelines.diagram.kind import Kind

KINDS: dict[str, Kind] = {k.name: k for k in (Molecule(), Reaction())}

__all__ = ["KINDS"]
