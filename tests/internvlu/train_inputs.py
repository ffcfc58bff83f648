"""Shards of our schema for the trainer's tests, written directly (rows the pipelines do not make:
chain-of-thought rows, broken rows)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from PIL import Image


def write_run(folder: Path, rows: list[dict]) -> Path:
    """A run folder of our schema holding ``rows`` (one shard)."""
    from synth.schema import rows_to_table
    from synth.writer import table_bytes

    (folder / "data").mkdir(parents=True)
    (folder / "run.json").write_text("{}")
    (folder / "data" / "part-000000.parquet").write_bytes(table_bytes(rows_to_table(rows)).to_pybytes())
    return folder


def rows_of(run: Path) -> list[dict]:
    return [r for f in sorted((run / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def png(w: int, h: int, seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()
