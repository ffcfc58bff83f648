"""Every diagram row fits a trainer's canvas (aspect within bounds, short side at least the
minimum, one canvas for both images of a pair) and its labels stand clear of everything else,
checked again here from the row's stored program."""

from __future__ import annotations

import json

import pytest

from pipelines.cs_diagram.config import CsDiagramConfig
from pipelines.cs_diagram.kinds import KINDS as CS_KINDS
from pipelines.diagram.canvas import shape_problem
from pipelines.diagram.stages import DrawDiagram
from pipelines.physics.config import PhysicsConfig
from pipelines.physics.kinds import KINDS as PHYSICS_KINDS
from renderers.diagrams.chart import chart_svg
from renderers.diagrams.graph import dot_to_svg
from renderers.svg.clearance import crowded_texts
from renderers.svg.safe import SvgRenderer
from synth.identity import sample_rng
from synth.imageio import decode_image

DOMAINS = {"cs": (CsDiagramConfig, CS_KINDS), "physics": (PhysicsConfig, PHYSICS_KINDS)}
CASES = [(d, k) for d, (_, kinds) in DOMAINS.items() for k in kinds]


def _svg(program: dict) -> str:
    if program["lang"] == "dot":
        return dot_to_svg(program["source"])
    if program["lang"] == "svg":
        return program["source"]
    return chart_svg(json.loads(program["source"]))


@pytest.mark.parametrize(("domain", "kind"), CASES)
def test_rows_fit_the_canvas_with_clear_labels(domain, kind):
    config, kinds = DOMAINS[domain]
    cfg = config()
    draw = DrawDiagram(cfg, kinds, domain)
    draw.setup()
    renderer = SvgRenderer()
    for seed, task in ((5, "t2i"), (6, "edit")):
        op = kinds[kind].edits[seed % len(kinds[kind].edits)] if task == "edit" else None
        row = draw.fill({"seed": seed, "sample_id": str(seed)}, sample_rng(seed), kinds[kind], task, op)
        assert row.get("status") is None, (row.get("reason"), row.get("detail"))
        images = [decode_image(row[c]["bytes"]) for c in ("source_image", "target_image") if row.get(c)]
        sizes = {(im.shape[1], im.shape[0]) for im in images}
        assert len(sizes) == 1  # source and target of a pair share one canvas
        size = sizes.pop()
        assert size == (row["width"], row["height"])
        assert shape_problem(size, cfg.render.min_side, cfg.render.max_aspect) is None, size
        assert crowded_texts(renderer, _svg(row["program"]), size) == []


def test_shape_problem_names_the_bound():
    assert shape_problem((768, 151), 512, 2.0)[0] == "bad_aspect"
    assert shape_problem((700, 400), 512, 2.0)[0] == "too_small"
    assert shape_problem((768, 512), 512, 2.0) is None


def test_min_side_above_max_side_is_refused():
    with pytest.raises(ValueError, match="min_side"):
        CsDiagramConfig.model_validate({"render": {"max_side": 400, "min_side": 512}})
