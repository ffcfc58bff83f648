"""Helpers shared by the physics figure kinds: the model diff check and label formatting."""

from __future__ import annotations

from typing import Any

from pipelines.diagram.kind import Kind
from renderers.svg.physics import Figure
from renderers.svg.physics_labels import place_labels
from renderers.svg.safe import SvgRenderer

G = 9.8  # m/s^2
W, H = 640, 480  # canvas of every figure


def num(v: float) -> str:
    """A value as printed on a figure: no trailing zeros."""
    return f"{v:.2f}".rstrip("0").rstrip(".")


def label(
    eid: str, x: float, y: float, text: str, size: float = 18, anchor: str = "middle", color: str = "#222222"
) -> dict:
    return {
        "id": eid,
        "type": "label",
        "x": round(x, 2),
        "y": round(y, 2),
        "text": text,
        "size": size,
        "anchor": anchor,
        "color": color,
    }


def model_diff(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    """Keys of a physical model whose values differ."""
    return {k for k in a.keys() | b.keys() if k != "kind" and a.get(k) != b.get(k)}


class PhysicsKind(Kind):
    """A physics scene: the structure is the physical model (quantities and components); ``layout``
    turns models into elements with coordinates, one shared layout for an edit pair."""

    topic = "mechanics"

    @property
    def subdomain(self) -> str:
        return f"{self.topic}/{self.name}"

    def layout(self, models: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        raise NotImplementedError

    def draw(self, structures):
        """The figures, their labels moved clear of every stroke (raises
        :class:`renderers.diagrams.graph.LabelClash` where one cannot be)."""
        scenes = [{"canvas": [W, H], "elements": els} for els in self.layout(structures)]
        return [Figure(s) for s in place_labels(scenes, SvgRenderer())]

    #: op -> the model keys the edit may change (checked against the model diff).
    changes: dict[str, tuple[str, ...]] = {}

    def check(self, source, target, edit):
        diff = model_diff(source, target)
        allowed = set(self.edit_keys(edit))
        if not diff:
            return "the edit changed nothing"
        if not diff <= allowed:
            return f"the model changed in {sorted(diff - allowed)}, which the instruction does not mention"
        return self.check_values(source, target, edit)

    def edit_keys(self, edit: dict[str, Any]) -> tuple[str, ...]:
        return self.changes[edit["op"]]

    def check_values(self, source, target, edit) -> str | None:
        """The new values are the ones the instruction names."""
        for key, value in edit.get("set", {}).items():
            if target.get(key) != value:
                return f"{key} is {target.get(key)!r}, the instruction says {value!r}"
        return None

    def apply(self, s, edit):
        return {**s, **edit.get("set", {})}
