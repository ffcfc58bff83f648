"""Output folders and the atomic unit commit."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from synth.schema import SCHEMA
from synth.writer import OutputDir, commit_unit, read_manifest, read_table, shard_name, unit_done


def make_rows() -> list[dict]:
    return [
        {"sample_id": "s0", "status": "kept", "width": 4, "height": 2, "_pixels": object()},
        {"sample_id": "s1", "status": "rejected", "reason": "ocr_mismatch", "detail": "ned 0.5"},
        {"sample_id": "s2", "status": "kept", "scores": {"b": 1.0, "a": 2.0}},
        {"sample_id": "s3", "status": "error", "reason": "io_error", "detail": "boom"},
        {"sample_id": "s4", "status": "rejected", "reason": "ocr_mismatch"},
    ]


@pytest.fixture
def out(tmp_path) -> OutputDir:
    return OutputDir(str(tmp_path / "run"))


def test_shard_name():
    assert shard_name(0) == "part-000000"
    assert shard_name(123) == "part-000123"


def test_commit_unit_writes_shards_and_manifest(out):
    assert not unit_done(out, 0)
    commit = commit_unit(out, 0, make_rows(), {"inputs": [0, 5]})
    assert unit_done(out, 0)
    assert unit_done(out, 0, verify_checksums=False)
    assert not unit_done(out, 1)
    assert commit.counts == {"kept": 2, "rejected": 2, "error": 1}
    assert commit.reasons == {"io_error": 1, "ocr_mismatch": 2}

    manifest = read_manifest(out, 0)
    assert manifest == commit.manifest
    assert manifest["unit"] == 0 and manifest["inputs"] == [0, 5]
    assert manifest["data"]["path"] == "data/part-000000.parquet"
    assert manifest["rejected"]["path"] == "rejected/part-000000.parquet"
    assert manifest["data"]["rows"] == 2 and manifest["rejected"]["rows"] == 3
    for folder in ("data", "rejected"):
        blob = out.read_bytes(manifest[folder]["path"])
        assert len(blob) == manifest[folder]["bytes"]
        assert hashlib.sha256(blob).hexdigest() == manifest[folder]["sha256"]

    data = read_table(out, "data/part-000000.parquet")
    assert data.schema.equals(SCHEMA)
    assert data.column("sample_id").to_pylist() == ["s0", "s2"]
    assert "_pixels" not in data.column_names
    rejected = read_table(out, "rejected/part-000000.parquet")
    assert rejected.column("sample_id").to_pylist() == ["s1", "s3", "s4"]
    assert set(rejected.column("status").to_pylist()) == {"rejected", "error"}


def test_commit_unit_with_no_rows(out):
    commit = commit_unit(out, 3, [], {})
    assert commit.counts == {"kept": 0, "rejected": 0, "error": 0}
    assert unit_done(out, 3)
    assert read_table(out, "data/part-000003.parquet").num_rows == 0


def test_truncated_shard_is_not_done(out):
    commit_unit(out, 0, make_rows(), {})
    path = Path(out.path("data/part-000000.parquet"))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    assert not unit_done(out, 0)
    assert not unit_done(out, 0, verify_checksums=False)


def test_same_size_corruption_needs_checksum(out):
    commit_unit(out, 0, make_rows(), {})
    path = Path(out.path("rejected/part-000000.parquet"))
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert unit_done(out, 0, verify_checksums=False)  # sizes still match
    assert not unit_done(out, 0)


def test_missing_shard_is_not_done(out):
    commit_unit(out, 0, make_rows(), {})
    os.remove(out.path("rejected/part-000000.parquet"))
    assert not unit_done(out, 0)


def test_missing_or_broken_manifest_is_not_done(out):
    commit_unit(out, 0, make_rows(), {})
    manifest = out.path("_units/part-000000.json")
    with open(manifest, "w") as f:
        f.write("{not json")
    assert read_manifest(out, 0) is None
    assert not unit_done(out, 0)
    os.remove(manifest)
    assert read_manifest(out, 0) is None
    assert not unit_done(out, 0)


def test_list_ignores_temporary_files(out):
    out.write_bytes("data/a.parquet", b"a")
    out.write_bytes("data/b.parquet", b"b")
    out.write_bytes("data/c.json", b"c")
    with open(out.path("data/d.parquet.tmp-0123456789ab"), "wb") as f:
        f.write(b"half")
    assert out.list("data") == ["data/a.parquet", "data/b.parquet", "data/c.json"]
    assert out.list("data", ".parquet") == ["data/a.parquet", "data/b.parquet"]
    assert out.list("nowhere") == []


def test_write_bytes_leaves_no_temporary_file(out):
    out.write_bytes("x/y.bin", b"payload")
    assert os.listdir(out.path("x")) == ["y.bin"]
    assert out.read_bytes("x/y.bin") == b"payload"
    assert out.size("x/y.bin") == 7
    assert out.size("x/missing") is None
    assert out.exists("x/y.bin") and not out.exists("x/missing")


def test_json_round_trip(out):
    out.write_json("run.json", {"b": 1, "a": ["é", 2]})
    assert out.read_json("run.json") == {"b": 1, "a": ["é", 2]}
    assert out.read_json("absent.json") is None


def test_same_rows_give_identical_bytes(tmp_path):
    a, b = OutputDir(str(tmp_path / "a")), OutputDir(str(tmp_path / "b"))
    ca = commit_unit(a, 0, make_rows(), {"x": 1})
    cb = commit_unit(b, 0, make_rows(), {"x": 1})
    for folder in ("data", "rejected"):
        rel = f"{folder}/part-000000.parquet"
        assert a.read_bytes(rel) == b.read_bytes(rel)
    assert ca.manifest == cb.manifest
    assert a.read_bytes("_units/part-000000.json") == b.read_bytes("_units/part-000000.json")


def test_recommit_overwrites(out):
    commit_unit(out, 0, make_rows(), {})
    first = out.read_bytes("data/part-000000.parquet")
    commit_unit(out, 0, make_rows()[:1], {})
    assert unit_done(out, 0)
    assert out.read_bytes("data/part-000000.parquet") != first
    assert read_manifest(out, 0)["counts"] == {"kept": 1, "rejected": 0, "error": 0}


def test_delete_contents(out):
    commit_unit(out, 0, make_rows(), {})
    out.delete_contents()
    assert out.exists()
    assert not unit_done(out, 0)
    assert out.list("data") == []


def test_pickles_by_uri(out):
    import pickle

    clone = pickle.loads(pickle.dumps(out))
    assert clone.uri == out.uri and clone.root == out.root
