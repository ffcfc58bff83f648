"""The source of a generator that takes either seeds or files: ``--num`` gives seed rows, and
``--input`` one row per file (a folder's files, Parquet cells, WebDataset tar members) carrying
the file's bytes for the first stage to read, in a contained child process where the parser is
not ours (synth cad's parts, synth rotate's assets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synth.inputs import plan_inputs, read_unit
from synth.pipeline import GENERATED_KEYS, RunIdentity, Unit, generated_rows
from synth.stage import Row, mark

#: What every row gets: identity, ``meta`` (the file's input and key) and ``_input`` (None for a seed).
SOURCE_KEYS = (*GENERATED_KEYS, "meta", "_input")


@dataclass(frozen=True)
class FileSource:
    """``column``: the config key naming the Parquet column of the files' bytes; ``suffixes``: the
    files read. The config has ``inputs``, ``read.max_bytes`` and ``runtime.unit_size``."""

    column: str
    suffixes: tuple[str, ...]

    def plan(self, cfg: Any) -> tuple[list[Unit], dict[str, Any]] | None:
        """Units over the files, or None to plan ``--num`` seed rows."""
        if not cfg.inputs:
            return None
        return plan_inputs(
            cfg.inputs, getattr(cfg, self.column), cfg.runtime.unit_size, suffixes=self.suffixes
        )

    def rows(self, cfg: Any, ident: RunIdentity, unit: Unit) -> list[Row]:
        if not cfg.inputs:
            return [{**row, "meta": None, "_input": None} for row in generated_rows(cfg, ident, unit)]
        out: list[Row] = []
        column = getattr(cfg, self.column)
        for raw in read_unit(unit, column, "caption", cfg.read.max_bytes, suffixes=self.suffixes):
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
