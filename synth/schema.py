"""The one sample schema shared by every domain (see DESIGN.md, "The sample schema")."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from synth.reasons import REASONS, Status

SCHEMA_VERSION = "1.0"

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
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
    pa.field("scores", pa.map_(pa.string(), pa.float64())),
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


def image_value(data: bytes | None, path: str | None = None) -> dict[str, Any] | None:
    """An image cell in the Hugging Face ``datasets`` Image layout."""
    if data is None and path is None:
        return None
    return {"bytes": data, "path": path}


def to_json(value: Any) -> str:
    """Canonical JSON for the ``spec`` and ``meta`` columns: sorted keys, so bytes are stable."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def normalize_row(row: Mapping[str, Any], columns: list[str] = COLUMNS) -> dict[str, Any]:
    """Fill absent columns with nulls and reject unknown ones, so stages can write sparse dicts."""
    unknown = set(row) - set(columns)
    if unknown:
        raise KeyError(f"columns not in the sample schema: {sorted(unknown)}")
    out = {name: row.get(name) for name in columns}
    if isinstance(out["scores"], Mapping):
        out["scores"] = sorted((k, float(v)) for k, v in out["scores"].items())
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
