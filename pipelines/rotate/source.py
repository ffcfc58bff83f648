"""Where a ``synth rotate`` run's rows come from: a seed per row (``--num``: the render stage draws
one of the bundled sample assets from it) or one row per asset file (``--input``: GLB, glTF, OBJ
or PLY files, Parquet cells, WebDataset tar members). A file row carries the file's bytes; the
render stage reads them in a contained child process."""

from __future__ import annotations

from typing import Any

from pipelines.rotate.config import RotateConfig
from renderers.mesh.load import SUFFIXES
from synth.inputs import plan_inputs as plan_input_files
from synth.inputs import read_unit
from synth.pipeline import GENERATED_KEYS, RunIdentity, Unit, generated_rows
from synth.stage import Row, mark

SOURCE_KEYS = (*GENERATED_KEYS, "meta", "_input")


def plan_inputs(cfg: RotateConfig) -> tuple[list[Unit], dict[str, Any]] | None:
    """Units over the asset files, or None to plan ``--num`` rows of sample assets."""
    if not cfg.inputs:
        return None
    return plan_input_files(cfg.inputs, cfg.asset_column, cfg.runtime.unit_size, suffixes=SUFFIXES)


def rows(cfg: RotateConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    if not cfg.inputs:
        return [{**row, "meta": None, "_input": None} for row in generated_rows(cfg, ident, unit)]
    out: list[Row] = []
    for raw in read_unit(unit, cfg.asset_column, "caption", cfg.read.max_bytes, suffixes=SUFFIXES):
        sid = raw.sample_id
        row = {
            "sample_id": sid,
            "seed": int(sid[:15], 16),
            "generator": ident.generator,
            "_index": unit.start + len(out),
            "meta": {"input": raw.root, "key": raw.key},
            "_input": {"bytes": raw.data, "suffix": raw.suffix, "key": raw.key, "ref": raw.ref},
        }
        if raw.error:
            mark(row, *raw.error)
        out.append(row)
    return out
