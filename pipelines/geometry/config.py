"""Typed config of ``synth geometry`` (defaults in configs/geometry.yaml)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from pipelines.diagram.config import DiagramConfig
from synth.config import Strict
from synth.sampling import check_weights

SolidName = Literal[
    "cube", "cuboid", "prism", "pyramid", "tetrahedron", "frustum", "cylinder", "cone", "sphere",
    "cone_on_cylinder", "cut_cube",
]  # fmt: skip
ALL_SOLIDS: tuple[str, ...] = SolidName.__args__

OpName = Literal[
    "space_diagonal", "face_diagonal", "midpoint", "section", "perpendicular", "inscribed_sphere",
    "circumscribed_sphere", "net", "rotate",
]  # fmt: skip
ALL_OPS: tuple[str, ...] = OpName.__args__


class StyleConfig(Strict):
    """How often a figure gets each optional decoration (content keys: they change the pixels)."""

    shade: float = Field(0.3, ge=0, le=1, description="share of figures with faces shaded by their normal")
    axes: float = Field(0.15, ge=0, le=1, description="share of figures with x, y, z axes drawn")
    grid: float = Field(0.1, ge=0, le=1, description="share of figures on a ground grid")


class GeometryConfig(DiagramConfig):
    pipeline: Literal["geometry"] = "geometry"
    solids: list[SolidName] = Field(
        default_factory=lambda: list(ALL_SOLIDS), description="solids to draw, equally often"
    )
    projection: dict[Literal["oblique", "perspective"], float] | Literal["oblique", "perspective"] = Field(
        default_factory=lambda: {"oblique": 2.0, "perspective": 1.0},
        description="the camera: oblique (cabinet, as textbooks draw), perspective, or weights of both",
    )
    labels: Literal["1", "prime"] = Field(
        "1", description="upper vertices as A1 B1 C1 (Chinese textbooks) or A' B' C'"
    )
    constructions: list[OpName] = Field(
        default_factory=lambda: list(ALL_OPS), description="edits to draw, equally often"
    )
    steps: int = Field(
        1, ge=0, le=3, description="constructions a figure may already hold before the edit adds one"
    )
    style: StyleConfig = StyleConfig()

    kinds_key: ClassVar[str] = "solids"

    @field_validator("projection")
    @classmethod
    def _projection(cls, v):
        return {v: 1.0} if isinstance(v, str) else check_weights(v)

    @field_validator("constructions")
    @classmethod
    def _constructions(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one construction")
        return sorted(set(v), key=v.index)
