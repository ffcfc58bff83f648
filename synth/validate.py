"""``synth validate``: every shard matches the schema, images decode, ids are unique, counts add up.

One function serves the CLI and the tests. It reads shards one at a time, so memory stays flat.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synth.imageio import DecodeError, decode_image
from synth.schema import SCHEMA, SCHEMA_VERSION, SCORES_V1, check_row_status, version_of
from synth.writer import OutputDir, read_manifest, shard_name

MAX_PROBLEMS = 50


@dataclass
class Validation:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"kept": 0, "rejected": 0, "error": 0})
    images_checked: int = 0

    def fail(self, problem: str) -> None:
        self.ok = False
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "counts": self.counts,
            "images_checked": self.images_checked,
            "problems": self.problems,
        }


def _check_schema(table_schema: pa.Schema, where: str, result: Validation) -> bool:
    """The shard's columns and types are those of its ``schema_version``: the current one, or 1.x,
    whose ``scores`` was a map (still valid; ``synth migrate`` rewrites it)."""
    version = version_of(table_schema)
    current = version_of(SCHEMA)
    if version is None:
        result.fail(f"{where}: no readable schema_version in the Parquet metadata")
        return False
    if version[0] not in (1, current[0]) or version > current:
        result.fail(f"{where}: schema_version {version[0]}.{version[1]} is not readable by {SCHEMA_VERSION}")
        return False
    expected = {f.name: f.type for f in SCHEMA}
    if version[0] == 1:
        expected["scores"] = SCORES_V1
    names = set(table_schema.names)
    missing = [n for n in expected if n not in names]
    extra = sorted(names - set(expected))
    if missing:
        result.fail(f"{where}: missing columns {missing}")
    if extra:
        result.fail(f"{where}: unknown columns {extra}")
    for name, type_ in expected.items():
        if name in names and not table_schema.field(name).type.equals(type_):
            result.fail(f"{where}: column {name} has type {table_schema.field(name).type}, expected {type_}")
    return not missing


#: Reasons of rows rejected because an image of theirs does not decode.
UNDECODABLE = ("decode_error", "decompression_bomb")


def _check_images(row: dict[str, Any], where: str, result: Validation) -> None:
    cells = [("target_image", row["target_image"]), ("source_image", row["source_image"])]
    cells += [(f"aux_images[{i}]", c) for i, c in enumerate(row["aux_images"] or [])]
    # The image a row is about: the result, or for an understanding row the image asked about.
    shown = "source_image" if row.get("task") == "und" else "target_image"
    for name, cell in cells:
        if cell is None or cell.get("bytes") is None:
            if name == shown and row["status"] == "kept":
                result.fail(f"{where}: kept row {row['sample_id']} has no {shown} bytes")
            continue
        try:
            image = decode_image(cell["bytes"])
        except DecodeError as e:
            if row["status"] != "kept" and row["reason"] in UNDECODABLE:
                continue  # the row was rejected for exactly this: its bytes are the evidence
            result.fail(f"{where}: {name} of {row['sample_id']} does not decode ({e})")
            continue
        result.images_checked += 1
        if name == shown and (row["width"], row["height"]) != (image.shape[1], image.shape[0]):
            result.fail(
                f"{where}: {row['sample_id']} says {row['width']}x{row['height']}, image is {image.shape[1]}x{image.shape[0]}"
            )


def validate(out_uri: str, check_images: bool = True) -> Validation:
    result = Validation()
    out = OutputDir(out_uri)
    try:
        run = out.read_json("run.json")
    except (OSError, ValueError) as e:
        run = None
        result.fail(f"run.json unreadable: {e}")
    if not run:
        result.fail(f"{out.uri}: no run.json (not a synth output folder, or the run never started)")
        return result
    seen: set[str] = set()
    for unit, (start, end) in enumerate(run["plan"]):
        manifest = read_manifest(out, unit)
        if manifest is None:
            result.fail(f"unit {unit} ({shard_name(unit)}): not committed; rerun the command to finish it")
            continue
        unit_counts = {"kept": 0, "rejected": 0, "error": 0}
        for folder in ("data", "rejected"):
            entry = manifest[folder]
            where = entry["path"]
            try:
                blob = out.read_bytes(where)
            except OSError as e:
                result.fail(f"{where}: unreadable ({e})")
                continue
            if hashlib.sha256(blob).hexdigest() != entry["sha256"]:
                result.fail(f"{where}: checksum differs from its manifest (truncated or changed)")
            try:
                table = pq.read_table(io.BytesIO(blob))
            except (pa.ArrowInvalid, OSError) as e:
                result.fail(f"{where}: not a readable Parquet file ({e})")
                continue
            if not _check_schema(table.schema, where, result):
                continue
            if table.num_rows != entry["rows"]:
                result.fail(f"{where}: {table.num_rows} rows, manifest says {entry['rows']}")
            for batch in table.to_batches(max_chunksize=64):
                for row in batch.to_pylist():
                    result.rows += 1
                    sid = row["sample_id"]
                    if sid in seen:
                        result.fail(f"{where}: duplicate sample_id {sid}")
                    seen.add(sid)
                    problem = check_row_status(row)
                    if problem:
                        result.fail(f"{where}: {sid}: {problem}")
                    elif (row["status"] == "kept") != (folder == "data"):
                        result.fail(f"{where}: {sid} has status {row['status']} in {folder}/")
                    if row["status"] in unit_counts:
                        unit_counts[row["status"]] += 1
                        result.counts[row["status"]] += 1
                    if check_images:
                        _check_images(row, where, result)
        if unit_counts != manifest["counts"]:
            result.fail(
                f"unit {unit}: rows by status {unit_counts} differ from the manifest {manifest['counts']}"
            )
        inputs = manifest.get("inputs", end - start)  # a tar unit says how many images it held
        if sum(unit_counts.values()) != inputs:
            result.fail(
                f"unit {unit}: {sum(unit_counts.values())} rows for {inputs} inputs (kept + rejected + error must equal inputs)"
            )
    return result
