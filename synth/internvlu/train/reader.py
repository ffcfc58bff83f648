"""Rows of Parquet shards read a row group at a time, only the columns an example is built from,
with a few row groups kept per process (consecutive stream items share row groups)."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synth.inputs import filesystem

#: What :func:`synth.internvlu.train.rows.build_example` reads; never the other image columns.
COLUMNS = ("sample_id", "seed", "task", "instruction", "instructions", "response", "cot",
           "source_image", "target_image")  # fmt: skip


class RowGroups:
    """Row groups of ``shards`` (URIs), read on demand and kept in an LRU of ``size``. Open files
    and cached groups belong to the process that made them: a forked or unpickled copy starts empty."""

    def __init__(self, shards: list[str], size: int = 4, files: int = 16):
        self.shards, self.size, self.files = shards, size, files
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._groups: OrderedDict[tuple[int, int], pa.Table] = OrderedDict()
        self._open: OrderedDict[int, pq.ParquetFile] = OrderedDict()

    def __getstate__(self) -> dict[str, Any]:
        return {"shards": self.shards, "size": self.size, "files": self.files}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    def _file(self, shard: int) -> pq.ParquetFile:
        if shard in self._open:
            self._open.move_to_end(shard)
            return self._open[shard]
        fs, path = filesystem(self.shards[shard])
        pf = pq.ParquetFile(fs.open_input_file(path))
        self._open[shard] = pf
        if len(self._open) > self.files:
            self._open.popitem(last=False)[1].close()
        return pf

    def group(self, shard: int, group: int) -> pa.Table:
        """Row group ``group`` of shard ``shard``: the columns of :data:`COLUMNS` it has."""
        if os.getpid() != self._pid:
            self._reset()
        key = (shard, group)
        if key in self._groups:
            self._groups.move_to_end(key)
            return self._groups[key]
        pf = self._file(shard)
        names = pf.schema_arrow.names
        table = pf.read_row_group(group, columns=[c for c in COLUMNS if c in names])
        self._groups[key] = table
        if len(self._groups) > self.size:
            self._groups.popitem(last=False)
        return table

    def rows(self, where: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
        """Rows at (shard, group, row within the group), in the order asked; each row group is read
        once for all its rows, and columns a shard lacks are None."""
        out: list[dict[str, Any] | None] = [None] * len(where)
        by_group: dict[tuple[int, int], list[int]] = {}
        for i, (s, g, _) in enumerate(where):
            by_group.setdefault((s, g), []).append(i)
        for (s, g), idx in by_group.items():
            table = self.group(s, g)
            for i in idx:
                row = dict.fromkeys(COLUMNS)
                row.update(table.slice(where[i][2], 1).to_pylist()[0])
                out[i] = row
        return out  # type: ignore[return-value]
