"""Where a ``synth cad`` run's rows come from: a seed per row (parametric parts, ``--num``) or one
row per part file (``--input``: STEP, STL or OBJ files, Parquet cells, WebDataset tar members).
A file row carries the file's bytes; the draw stage reads them in a contained child process."""

from __future__ import annotations

from typing import Any

from pipelines.cad.config import CadConfig
from synth.inputs import CAD_SUFFIXES, read_unit
from synth.inputs import plan_inputs as plan_input_files
from synth.pipeline import GENERATED_KEYS, RunIdentity, Unit, generated_rows
from synth.stage import Row, mark

SOURCE_KEYS = (*GENERATED_KEYS, "meta", "_input")


def plan_inputs(cfg: CadConfig) -> tuple[list[Unit], dict[str, Any]] | None:
    """Units over the part files, or None to plan ``--num`` parametric parts."""
    if not cfg.inputs:
        return None
    return plan_input_files(cfg.inputs, cfg.part_column, cfg.runtime.unit_size, suffixes=CAD_SUFFIXES)


def rows(cfg: CadConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    if not cfg.inputs:
        return [{**row, "meta": None, "_input": None} for row in generated_rows(cfg, ident, unit)]
    out: list[Row] = []
    for raw in read_unit(unit, cfg.part_column, "caption", cfg.read.max_bytes, suffixes=CAD_SUFFIXES):
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
