"""CAD parts and their engineering drawings: seeded parametric specs (sampling), feasibility checks,
exact B-rep solids with build123d/OpenCascade (builders), facts read back from the B-rep for
verifiers (brep), exact hidden-line views (views), the part as plain data (part) and SVG line
drawings (drawing)."""

from renderers.cad.brep import HoleAxis, expected_facts, facts, hole_axes
from renderers.cad.builders import build
from renderers.cad.checks import DEPENDS, FEATURES, KINDS, PartError, check
from renderers.cad.drawing import sheet_layout, single_layout
from renderers.cad.sampling import OPTIONAL, add_feature, sample_spec
from renderers.cad.views import VIEWS, Stroke, bounds, centre_marks, project, project_point

__all__ = [
    "DEPENDS",
    "FEATURES",
    "KINDS",
    "OPTIONAL",
    "VIEWS",
    "HoleAxis",
    "PartError",
    "Stroke",
    "add_feature",
    "bounds",
    "build",
    "centre_marks",
    "check",
    "expected_facts",
    "facts",
    "hole_axes",
    "project",
    "project_point",
    "sample_spec",
    "sheet_layout",
    "single_layout",
]
