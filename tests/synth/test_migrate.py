"""``synth migrate``: a schema 1.x output (scores as a map) validates as it is and is rewritten in
the current schema unit by unit, losing nothing; a second run and a resumed run are safe."""

from __future__ import annotations

import hashlib
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth.migrate import migrate
from synth.schema import SCHEMA, SCORES_V1, version_of
from synth.validate import validate
from synth.writer import OutputDir, table_bytes
from tests.cli_runner import invoke

V1 = pa.schema([pa.field("scores", SCORES_V1) if f.name == "scores" else f for f in SCHEMA],
               metadata={"schema_version": "1.0"})  # fmt: skip


def downgrade(out_dir) -> None:
    """Rewrite a current output as the 1.0 writer wrote it: scores as a map, manifests to match."""
    out = OutputDir(str(out_dir))
    for rel in out.list("_units", ".json"):
        manifest = out.read_json(rel)
        for part in ("data", "rejected"):
            rows = pq.read_table(io.BytesIO(out.read_bytes(manifest[part]["path"]))).to_pylist()
            for r in rows:
                r["scores"] = None if r["scores"] is None else [(s["name"], s["value"]) for s in r["scores"]]
            blob = table_bytes(pa.Table.from_pylist(rows, schema=V1) if rows else V1.empty_table())
            out.write_bytes(manifest[part]["path"], blob)
            manifest[part].update(bytes=len(blob), sha256=hashlib.sha256(blob).hexdigest())
        out.write_json(rel, manifest)


@pytest.fixture
def old_output(tmp_path, ray_session, text_cfg_sets):
    out = tmp_path / "old"
    sets = [a for s in ["runtime.unit_size=3", *text_cfg_sets[1:]] for a in ("--set", s)]
    result = invoke("text-render", "--num", "6", "--out", str(out), "--quiet", "--no-preview", *sets)
    assert result.exit_code == 0, result.output
    current = {p.name: pq.read_table(p).to_pylist() for p in sorted((out / "data").glob("*.parquet"))}
    downgrade(out)
    return out, current


def test_a_1x_output_validates_and_migrates_to_the_current_schema(old_output):
    out, current = old_output
    assert version_of(pq.read_schema(next((out / "data").glob("*.parquet")))) == (1, 0)
    assert validate(str(out)).ok, validate(str(out)).problems  # 1.x shards are still valid
    result = invoke("migrate", str(out))
    assert result.exit_code == 0, result.output
    assert "2 units rewritten (4 shards)" in result.output
    v = validate(str(out))
    assert v.ok, v.problems
    for path in sorted((out / "data").glob("*.parquet")):
        table = pq.read_table(path)
        assert version_of(table.schema) == version_of(SCHEMA)
        assert [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in SCHEMA]
        assert table.to_pylist() == current[path.name]  # every row and value kept, in order
    before = {p: p.read_bytes() for p in out.rglob("*.parquet")}
    again = migrate(str(out))
    assert (again.units_rewritten, again.units_current) == (0, 2)
    assert {p: p.read_bytes() for p in out.rglob("*.parquet")} == before


def test_a_migrate_stopped_between_a_shard_and_its_manifest_finishes_next_time(old_output):
    out, current = old_output
    shard = sorted((out / "data").glob("*.parquet"))[0]
    table = pq.read_table(shard)
    from synth.schema import upgrade_table

    shard.write_bytes(table_bytes(upgrade_table(table)))  # the shard renamed in, the manifest not yet
    result = migrate(str(out))
    assert result.units_rewritten == 2 and not result.skipped
    assert validate(str(out)).ok
    assert pq.read_table(shard).to_pylist() == current[shard.name]


def test_a_unit_whose_shard_is_corrupt_is_left_alone_and_named(old_output):
    out, _ = old_output
    shard = sorted((out / "rejected").glob("*.parquet"))[0]
    table = pq.read_table(shard)
    shard.write_bytes(table_bytes(table.slice(0, 0)))  # truncated: a row lost
    result = migrate(str(out))
    assert result.units_rewritten == 1 and len(result.skipped) == 1 and shard.name in result.skipped[0]
