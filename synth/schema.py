"""The one sample schema shared by every domain (see DESIGN.md, "The sample schema")."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth.reasons import REASONS, Status

SCHEMA_VERSION = "2.0"

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
#: One score: a list of these (sorted by name) instead of an Arrow map, which Hugging Face
#: ``datasets`` cannot load without streaming (its issue 5612); the same layout on disk.
SCORE = pa.struct([pa.field("name", pa.string(), nullable=False), ("value", pa.float64())])
#: The ``scores`` column of schema 1.x shards (``synth migrate`` rewrites them).
SCORES_V1 = pa.map_(pa.string(), pa.float64())
VARIANT = pa.struct([("style", pa.string()), ("language", pa.string()), ("text", pa.string())])
TEXT_INSTANCE = pa.struct(
    [
        ("text", pa.string()),
        ("role", pa.string()),
        ("bbox", pa.list_(pa.float32())),
        ("polygon", pa.list_(pa.float32())),
        ("font", pa.string()),
        ("color", pa.string()),
        ("language", pa.string()),
    ]
)

FIELDS: list[pa.Field] = [
    pa.field("sample_id", pa.string(), nullable=False),
    pa.field("domain", pa.string()),
    pa.field("subdomain", pa.string()),
    pa.field("task", pa.string()),
    pa.field("instruction", pa.string()),
    pa.field("instructions", pa.list_(VARIANT)),
    pa.field("response", pa.string()),
    pa.field("language", pa.string()),
    pa.field("source_image", IMAGE),
    pa.field("target_image", IMAGE),
    pa.field("aux_images", pa.list_(IMAGE)),
    pa.field("width", pa.int32()),
    pa.field("height", pa.int32()),
    pa.field("captions", pa.list_(VARIANT)),
    pa.field("cot", pa.string()),
    pa.field("spec", pa.string()),
    pa.field("program", pa.struct([("lang", pa.string()), ("source", pa.string())])),
    pa.field("texts", pa.list_(TEXT_INSTANCE)),
    pa.field("scores", pa.list_(SCORE)),
    pa.field("phash", pa.int64()),
    pa.field("dup_of", pa.string()),
    pa.field("status", pa.string(), nullable=False),
    pa.field("reason", pa.string()),
    pa.field("detail", pa.string()),
    pa.field("seed", pa.int64()),
    pa.field("generator", pa.string()),
    pa.field("license", pa.string()),
    pa.field("meta", pa.string()),
]

SCHEMA = pa.schema(FIELDS, metadata={"schema_version": SCHEMA_VERSION})
COLUMNS = [f.name for f in FIELDS]
TASKS = ("t2i", "edit", "und", "image")
LANGUAGES = ("en", "zh", "mixed")


def version_of(schema: pa.Schema) -> tuple[int, int] | None:
    """The ``schema_version`` of a shard's schema as (major, minor), None when absent or unreadable."""
    raw = (schema.metadata or {}).get(b"schema_version", b"").decode()
    try:
        major, minor = (int(x) for x in raw.split("."))
    except ValueError:
        return None
    return major, minor


def upgrade_table(table: pa.Table) -> pa.Table:
    """A shard of an older major version in the current layout (1.x: ``scores`` was a map); the
    other columns and the row order are kept as they are."""
    if version_of(table.schema) == version_of(SCHEMA):
        return table
    if "scores" in table.column_names and pa.types.is_map(table.schema.field("scores").type):
        cells = [None if c is None else score_list(c) for c in table.column("scores").to_pylist()]
        i = table.column_names.index("scores")
        table = table.set_column(i, pa.field("scores", pa.list_(SCORE)), pa.array(cells, pa.list_(SCORE)))
    meta = dict(table.schema.metadata or {})
    meta[b"schema_version"] = SCHEMA_VERSION.encode()
    return table.replace_schema_metadata(meta)


def image_value(data: bytes | None, path: str | None = None) -> dict[str, Any] | None:
    """An image cell in the Hugging Face ``datasets`` Image layout."""
    if data is None and path is None:
        return None
    return {"bytes": data, "path": path}


def scores_of(row: Mapping[str, Any]) -> dict[str, float]:
    """A row's scores as a dict, whether the row is live (a dict) or read back from Parquet (a list
    of ``{name, value}`` structs, or ``(name, value)`` pairs from a 1.x map column)."""
    cell = row.get("scores")
    if not cell:
        return {}
    if isinstance(cell, Mapping):
        return dict(cell)
    return {s["name"]: s["value"] for s in cell} if isinstance(cell[0], Mapping) else dict(cell)


def meta_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row's ``meta`` as a dict, whether live (a dict) or read back from Parquet (JSON text)."""
    meta = row.get("meta")
    if not meta:
        return {}
    return json.loads(meta) if isinstance(meta, str) else meta


def score_list(scores: Mapping[str, float] | list) -> list[dict[str, Any]]:
    """Scores in the on-disk layout: ``{name, value}`` structs sorted by name."""
    items = scores.items() if isinstance(scores, Mapping) else scores_of({"scores": scores}).items()
    return [{"name": k, "value": None if v is None else float(v)} for k, v in sorted(items)]


def score_column(scores: pa.Array | pa.ChunkedArray, name: str) -> np.ndarray:
    """One score per row from a ``scores`` column (NaN where the row has no such score)."""
    if isinstance(scores, pa.ChunkedArray):
        scores = scores.combine_chunks() if scores.num_chunks else pa.array([], scores.type)
    out = np.full(len(scores), np.nan)
    parents = pc.list_parent_indices(scores).to_numpy()
    flat = pc.list_flatten(scores)
    hit = pc.fill_null(pc.equal(flat.field("name"), name), False).to_numpy(zero_copy_only=False)
    values = pc.fill_null(flat.field("value"), np.nan).to_numpy(zero_copy_only=False)
    out[parents[hit]] = values[hit]
    return out


def to_json(value: Any) -> str:
    """Canonical JSON for the ``spec`` and ``meta`` columns: sorted keys, so bytes are stable."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def normalize_row(row: Mapping[str, Any], columns: list[str] = COLUMNS) -> dict[str, Any]:
    """Fill absent columns with nulls and reject unknown ones, so stages can write sparse dicts."""
    unknown = set(row) - set(columns)
    if unknown:
        raise KeyError(f"columns not in the sample schema: {sorted(unknown)}")
    out = {name: row.get(name) for name in columns}
    if out["scores"] is not None:
        out["scores"] = score_list(out["scores"])
    for key in ("spec", "meta"):
        if out[key] is not None and not isinstance(out[key], str):
            out[key] = to_json(out[key])
    return out


def rows_to_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema = SCHEMA) -> pa.Table:
    """Rows (dicts) to a table with exactly ``schema`` (:data:`SCHEMA`, or a superset of it for
    intermediate shards); an empty list gives an empty table."""
    normalized = [normalize_row(r, schema.names) for r in rows]
    if not normalized:
        return schema.empty_table()
    return pa.Table.from_pylist(normalized, schema=schema)


def check_row_status(row: Mapping[str, Any]) -> str | None:
    """Return a problem with the row's status/reason pair, or None when it is coherent."""
    status, reason = row.get("status"), row.get("reason")
    if status == Status.KEPT:
        return None if reason is None else f"kept row has reason {reason!r}"
    if status not in (Status.REJECTED, Status.ERROR):
        return f"status {status!r} is not kept/rejected/error"
    if reason not in REASONS:
        return f"reason {reason!r} is not a known reason code"
    if REASONS[reason][0] != status:
        return f"reason {reason!r} implies status {REASONS[reason][0]!s}, row says {status!r}"
    return None
