"""``synth migrate``: rewrite the shards of an older schema version in the current one.

Unit by unit, and each unit as the writer commits it: shards under temporary names renamed into
place, then the manifest with their new sizes and checksums, written last. A unit whose manifest
no longer matches its shards is left alone (it is redone by rerunning its pipeline), except for a
shard that this command already rewrote before it was stopped, which it recognises (current
version, the manifest's row count) and finishes.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from synth.schema import SCHEMA_VERSION, upgrade_table, version_of
from synth.writer import OutputDir, table_bytes

CURRENT = version_of(pa.schema([], metadata={"schema_version": SCHEMA_VERSION}))


class MigrateError(RuntimeError):
    """The folder cannot be migrated; the message says why."""


@dataclass
class Migration:
    units_rewritten: int = 0
    units_current: int = 0
    shards_rewritten: int = 0
    skipped: list[str] = field(default_factory=list)  # units left alone, with why

    def as_dict(self) -> dict:
        return {
            "units_rewritten": self.units_rewritten,
            "units_current": self.units_current,
            "shards_rewritten": self.shards_rewritten,
            "skipped": self.skipped,
        }


def _unit_folders(out: OutputDir) -> list[OutputDir]:
    """The run folder and the intermediate folders under ``_work/`` that commit units of their own."""
    folders = [out]
    if out.exists("_work"):
        for info in out.fs.get_file_info(pa.fs.FileSelector(out.path("_work"))):
            if info.type == pa.fs.FileType.Directory and out.exists(f"_work/{info.base_name}/_units"):
                folders.append(out.sub(f"_work/{info.base_name}"))
    return folders


def _entry(entry: dict, blob: bytes) -> dict:
    return {**entry, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}


def _migrate_unit(folder: OutputDir, manifest_rel: str, result: Migration) -> None:
    manifest = folder.read_json(manifest_rel)
    new: dict[str, tuple[bytes | None, dict]] = {}
    for part in ("data", "rejected"):
        entry = manifest[part]
        blob = folder.read_bytes(entry["path"])
        table = pq.read_table(io.BytesIO(blob))
        version = version_of(table.schema)
        matches = hashlib.sha256(blob).hexdigest() == entry["sha256"]
        if not matches and not (version == CURRENT and table.num_rows == entry["rows"]):
            result.skipped.append(f"{folder.uri}/{entry['path']}: differs from its manifest")
            return
        if version is None or version[0] > CURRENT[0]:
            raise MigrateError(
                f"{folder.uri}/{entry['path']}: schema_version {version} is not one this toolkit reads"
            )
        if version != CURRENT:
            rewritten = table_bytes(upgrade_table(table))
            new[part] = (rewritten, _entry(entry, rewritten))
        elif not matches:  # rewritten by a migrate that stopped before the manifest
            new[part] = (None, _entry(entry, blob))
    if not new:
        result.units_current += 1
        return
    for part, (blob, entry) in new.items():
        if blob is not None:
            folder.write_bytes(entry["path"], blob)
        manifest[part] = entry
    folder.write_json(manifest_rel, manifest)
    result.units_rewritten += 1
    result.shards_rewritten += len(new)


def migrate(out_uri: str, progress: Callable[[int, int], None] | None = None) -> Migration:
    """Rewrite every committed shard of ``out_uri`` (and of its ``_work/`` folders) in the current
    schema; shards already current are not touched, so a second call does nothing."""
    out = OutputDir(out_uri)
    if out.read_json("run.json") is None:
        raise MigrateError(f"{out.uri}: no run.json (not a synth output folder)")
    result = Migration()
    manifests = [(f, rel) for f in _unit_folders(out) for rel in f.list("_units", ".json")]
    for i, (folder, rel) in enumerate(manifests):
        _migrate_unit(folder, rel, result)
        if progress:
            progress(i + 1, len(manifests))
    return result
