"""Where a ``synth rotate`` run's rows come from: a seed per row (``--num``: the render stage draws
one of the bundled sample assets from it) or one row per asset file (``--input``: GLB, glTF, OBJ
or PLY files, Parquet cells, WebDataset tar members). A file row carries the file's bytes; the
render stage reads them in a contained child process."""

from __future__ import annotations

from renderers.mesh.load import SUFFIXES
from synth.file_source import SOURCE_KEYS, FileSource

SOURCE = FileSource("asset_column", SUFFIXES)
plan_inputs, rows = SOURCE.plan, SOURCE.rows

__all__ = ["SOURCE_KEYS", "plan_inputs", "rows"]
