"""Typed config of ``synth rotate`` (defaults in configs/rotate.yaml)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from synth.config import PipelineConfig, RuntimeConfig, Strict
from synth.llm import RUNTIME_KEYS, LlmConfig
from synth.sampling import check_weights

Direction = Literal["left", "right", "up", "down"]
Strategy = Literal["object_first", "background_first"]
TURNS = ("left", "right")  # the directions Background-First and turntables draw: turns about the vertical
TASKS = ("edit", "und", "turntable")


class RenderConfig(Strict):
    size: int = Field(512, ge=64, le=4096, description="pixels of each square view")
    fov_y_deg: float = Field(35.0, gt=5, lt=120, description="vertical field of view of the camera")
    margin: float = Field(
        0.12,
        ge=0,
        lt=0.9,
        description="share of the half-frame left free around the object's bounding sphere",
    )


class ElevationConfig(Strict):
    """Camera elevations in degrees (positive looks down on the object)."""

    source: tuple[float, float] = Field((10.0, 35.0), description="the source view's elevation range")
    target: tuple[float, float] = Field(
        (-10.0, 80.0), description="the target's elevation range: up/down angles that leave it are not drawn"
    )

    @model_validator(mode="after")
    def _ranges(self) -> ElevationConfig:
        for name, (lo, hi) in (("source", self.source), ("target", self.target)):
            if not -89.0 <= lo <= hi <= 89.0:
                raise ValueError(f"elevation.{name} must be lo <= hi within -89..89, not {(lo, hi)}")
        if not (self.target[0] <= self.source[0] and self.source[1] <= self.target[1]):
            raise ValueError("elevation.source must lie within elevation.target")
        return self


class PhotosConfig(Strict):
    """Background-First's photos (``--images``)."""

    images: str | None = Field(
        None,
        description="photo folder, Parquet or tar shards; None = scikit-image's photos of ground "
        "(a table, grass, gravel, bricks)",
    )
    image_column: str = "image"
    caption_column: str = "caption"


class SceneConfig(Strict):
    """Background-First: a fixed camera over the photo's ground, a fixed world light and its shadow."""

    elevation: tuple[float, float] = Field(
        (15.0, 30.0), description="degrees of the camera's elevation range"
    )
    lift: float = Field(
        0.3,
        ge=0,
        le=2,
        description="how far above the object's middle the camera aims (unit box): the object sits low",
    )
    light_elevation: tuple[float, float] = Field(
        (40.0, 65.0), description="degrees of the key light above the ground"
    )
    light_azimuth: tuple[float, float] = Field(
        (25.0, 70.0), description="degrees the key light stands to either side of the camera"
    )
    shadow_softness_px: float = Field(
        4.0, ge=0, le=64, description="sigma of the ground shadow's blur at 512 px"
    )
    shadow_strength: float = Field(0.55, ge=0, le=1, description="opacity of the ground shadow's core")

    @model_validator(mode="after")
    def _ranges(self) -> SceneConfig:
        for name, (lo, hi), bounds in (
            ("elevation", self.elevation, (0.0, 89.0)),
            ("light_elevation", self.light_elevation, (5.0, 89.0)),
            ("light_azimuth", self.light_azimuth, (0.0, 180.0)),
        ):
            if not bounds[0] <= lo <= hi <= bounds[1]:
                raise ValueError(f"scene.{name} must be lo <= hi within {bounds}, not {(lo, hi)}")
        return self


class TurntableConfig(Strict):
    """Turntable rows: one view in, the object seen from ``views`` azimuths around it out, as a grid."""

    views: int = Field(
        6, ge=3, le=16, description="views in the grid, 360/views degrees apart, the first as given"
    )
    columns: int = Field(
        3, ge=1, le=16, description="grid columns: views fill it left to right, top to bottom"
    )
    cell: int = Field(256, ge=64, le=2048, description="pixels of each square view (and of the source view)")
    directions: dict[Literal["left", "right"], float] = Field(
        default_factory=lambda: {"left": 1.0, "right": 1.0},
        description="which way the object turns from view to view (the pairs' directions do not apply)",
    )

    @field_validator("directions")
    @classmethod
    def _weights(cls, v):
        return check_weights(v)

    @model_validator(mode="after")
    def _grid(self) -> TurntableConfig:
        if self.views % self.columns:
            raise ValueError(f"turntable.views ({self.views}) must fill whole rows of {self.columns} columns")
        return self


class ReadConfig(Strict):
    """How asset files are read (content keys: they change what is drawn)."""

    max_bytes: int = Field(256 << 20, ge=1, description="bytes of an asset file at most (too_large)")
    max_triangles: int = Field(500_000, ge=1, description="triangles over all parts at most (too_large)")
    max_texture_side: int = Field(
        4096, ge=1, description="pixels of a texture's longer side at most (too_large)"
    )
    up: Literal["y", "z"] = Field("y", description="the files' up axis: y (glTF and most exports) or z")
    timeout_s: float = Field(
        60.0, gt=0, description="seconds one file may take in the reader's child process (render_timeout)"
    )


class Thresholds(Strict):
    """The verifier's cuts (decision keys: not in the content hash)."""

    min_silhouette_iou: float = Field(
        0.98, ge=0, le=1, description="IoU of the target's mask and a re-render from the recorded camera"
    )
    min_change: float = Field(
        0.02,
        ge=0,
        le=1,
        description="mean absolute difference of the two views over the union of the object's masks "
        "(0..1): below it the rotation is not visible (a symmetric object turned about its axis)",
    )
    max_background_changed: int = Field(
        0,
        ge=0,
        description="Background-First: pixels that differ between the views outside both objects' masks "
        "and shadows (dilated by 1 px); above it the background changed",
    )


class RotateConfig(PipelineConfig):
    pipeline: Literal["rotate"] = "rotate"
    runtime: RuntimeConfig = RuntimeConfig(unit_size=24)
    inputs: list[str] = Field(
        default_factory=list,
        description="GLB, glTF, OBJ or PLY assets (a folder, files, .parquet or WebDataset .tar shards); "
        "empty = the bundled sample assets drawn from the seed (--num)",
    )
    asset_column: str = Field("asset", description="the Parquet column holding an asset file's bytes")
    strategy: dict[Strategy, float] = Field(
        default_factory=lambda: {"object_first": 3.0, "background_first": 1.0},
        description="object_first: the camera orbits the object on a plain background; background_first: "
        "the object turns on a photo's ground under a fixed camera and light (left/right turns only)",
    )
    tasks: dict[str, float] = Field(
        default_factory=lambda: {"edit": 3.0, "und": 1.0, "turntable": 1.0},
        description="edit: one rotation; und: which way or how far, asked of the two views side by side; "
        "turntable: an edit row from one view to a grid of views around the object",
    )
    angles: list[float] = Field(
        default_factory=lambda: [30.0, 45.0, 90.0, 180.0], description="rotation angles in degrees"
    )
    directions: dict[Direction, float] = Field(
        default_factory=lambda: {"left": 2.0, "right": 2.0, "up": 1.0, "down": 1.0},
        description="left/right: a turn about the vertical axis; up/down: a tilt (a change of elevation)",
    )
    background: dict[Literal["plain", "gradient"], float] = Field(
        default_factory=lambda: {"plain": 1.0, "gradient": 1.0}
    )
    elevation: ElevationConfig = ElevationConfig()
    scene: SceneConfig = SceneConfig()
    sources: PhotosConfig = PhotosConfig()
    render: RenderConfig = RenderConfig()
    turntable: TurntableConfig = TurntableConfig()
    read: ReadConfig = ReadConfig()
    thresholds: Thresholds = Thresholds()
    name_with_llm: bool = Field(
        False,
        description="ask a vision-language model (llm.*, as synth caption) what an object is when its file "
        "names none, and write its instructions with that name instead of 'the object'",
    )
    llm: LlmConfig = LlmConfig(concurrency=8, max_tokens=64, temperature=0.0)
    runtime_keys: ClassVar[tuple[str, ...]] = RUNTIME_KEYS

    @field_validator("tasks")
    @classmethod
    def _tasks(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(TASKS)
        if unknown:
            raise ValueError(f"tasks are {', '.join(TASKS)}, not {sorted(unknown)}")
        return check_weights(v)

    @field_validator("strategy", mode="before")
    @classmethod
    def _one_strategy(cls, v):
        """``--set strategy=background_first``: one strategy by name."""
        return {v: 1.0} if isinstance(v, str) else v

    @field_validator("directions", "background", "strategy")
    @classmethod
    def _weights(cls, v):
        return check_weights(v)

    @field_validator("angles")
    @classmethod
    def _angles(cls, v: list[float]) -> list[float]:
        if not v or any(not 0 < a <= 180 for a in v):
            raise ValueError("angles are degrees in (0, 180], at least one")
        return sorted(set(v))

    @model_validator(mode="after")
    def _turns(self) -> RotateConfig:
        if any(self.directions.get(d, 0) > 0 for d in TURNS):
            return self
        if self.strategy.get("background_first", 0) > 0:
            raise ValueError(
                "strategy background_first turns the object left or right: give directions a "
                "left or right weight, or draw tilts alone with --set strategy=object_first"
            )
        return self
