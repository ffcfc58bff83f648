"""Every physics figure kind of ``synth physics`` by name (the values of the ``kinds`` config key)."""

from pipelines.diagram.kind import Kind
from pipelines.physics.kinds.circuits import ParallelCircuit, SeriesCircuit
from pipelines.physics.kinds.fields import Charges, Magnet
from pipelines.physics.kinds.mechanics import Atwood, Incline, Projectile, Spring
from pipelines.physics.kinds.optics import Lens, Refraction

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Incline(),
        Atwood(),
        Spring(),
        Projectile(),
        SeriesCircuit(),
        ParallelCircuit(),
        Lens(),
        Refraction(),
        Charges(),
        Magnet(),
    )
}
