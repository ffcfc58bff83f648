"""Where a ``synth cad`` run's rows come from: a seed per row (parametric parts, ``--num``) or one
row per part file (``--input``: STEP, STL or OBJ files, Parquet cells, WebDataset tar members).
A file row carries the file's bytes; the draw stage reads them in a contained child process."""

from __future__ import annotations

from synth.file_source import SOURCE_KEYS, FileSource
from synth.inputs import CAD_SUFFIXES

SOURCE = FileSource("part_column", CAD_SUFFIXES)
plan_inputs, rows = SOURCE.plan, SOURCE.rows

__all__ = ["SOURCE_KEYS", "plan_inputs", "rows"]
