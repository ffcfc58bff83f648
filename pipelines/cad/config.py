"""Typed config of ``synth cad`` (defaults in configs/cad.yaml)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from pipelines.diagram.config import DiagramConfig, RenderConfig, Thresholds
from synth.config import Strict
from synth.sampling import check_weights

PartName = Literal["plate", "bracket", "flange", "shaft", "housing"]
ALL_PARTS: tuple[str, ...] = PartName.__args__

OpName = Literal[
    "complete_view", "complete_iso", "add_feature", "remove_feature", "resize_feature", "change_dimension"
]  # fmt: skip
ALL_OPS: tuple[str, ...] = OpName.__args__


class CadThresholds(Thresholds):
    """The diagram cuts, and the independent re-derivations of every view (decision keys)."""

    max_silhouette_mismatch: float = Field(
        0.002,
        ge=0,
        le=1,
        description="pixels where the shaded mesh's silhouette and the region the drawn outline encloses "
        "disagree more than a pixel from a line, as a share of the region, worst view",
    )
    max_bbox_error: float = Field(
        0.005,
        ge=0,
        le=1,
        description="view extent vs the mesh's projected box, as a share of the part's size",
    )
    max_volume_error: float = Field(
        1e-3, ge=0, le=1, description="kernel volume vs the mesh's volume, relative"
    )


class StyleConfig(Strict):
    shaded: float = Field(
        0.3, ge=0, le=1, description="share of t2i, und and view-completion rows shaded under their lines"
    )
    iso: float = Field(
        0.7, ge=0, le=1, description="share of t2i and und sheets that also show the isometric"
    )


class ReadConfig(Strict):
    """How input parts are read (content keys: they change what is drawn)."""

    max_bytes: int = Field(64 << 20, ge=1, description="bytes of a part file at most (too_large)")
    max_faces: int = Field(400, ge=1, description="B-rep faces of a STEP part at most (too_large)")
    max_triangles: int = Field(200_000, ge=4, description="triangles of an STL/OBJ mesh at most (too_large)")
    orient: Literal["given", "principal"] = Field(
        "given", description="keep the file's axes, or turn the part to its principal axes of inertia"
    )
    sharp_angle_deg: float = Field(
        30.0, gt=0, lt=180, description="a mesh edge is drawn where its faces meet at more than this"
    )
    timeout_s: float = Field(
        60.0, gt=0, description="seconds one part may take in the kernel's child process (render_timeout)"
    )


class CadConfig(DiagramConfig):
    pipeline: Literal["cad"] = "cad"
    inputs: list[str] = Field(
        default_factory=list,
        description="STEP, STL or OBJ parts (a folder, files, .parquet or WebDataset .tar shards); "
        "empty = parametric parts drawn from the seed (--num)",
    )
    part_column: str = Field("part", description="the Parquet column holding a part file's bytes")
    read: ReadConfig = ReadConfig()
    parts: list[PartName] = Field(
        default_factory=lambda: list(ALL_PARTS), description="parametric parts to draw, equally often"
    )
    edits: list[OpName] = Field(
        default_factory=lambda: list(ALL_OPS),
        description="complete_view (draw the missing orthographic view), complete_iso (draw the "
        "isometric from three views), add_feature, remove_feature, resize_feature, change_dimension",
    )
    angle: dict[Literal["first", "third"], float] = Field(
        default_factory=lambda: {"third": 1.0, "first": 1.0},
        description="projection convention of the sheets: third-angle (ASME) or first-angle (ISO)",
    )
    layout: dict[Literal["sheet", "single"], float] = Field(
        default_factory=lambda: {"sheet": 3.0, "single": 1.0},
        description="a sheet of views, or one view alone (t2i, und and feature-edit rows)",
    )
    style: StyleConfig = StyleConfig()
    render: RenderConfig = RenderConfig(max_side=1024, min_side=640)
    thresholds: CadThresholds = CadThresholds()

    kinds_key: ClassVar[str] = "parts"

    @field_validator("angle", "layout")
    @classmethod
    def _weights(cls, v):
        return check_weights(v)

    @field_validator("edits")
    @classmethod
    def _edits(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one edit")
        return sorted(set(v), key=v.index)
