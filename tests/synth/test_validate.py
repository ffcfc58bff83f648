"""``synth validate`` on hand-built output folders: a valid one passes, each kind of damage is named."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from synth.imageio import encode_png
from synth.schema import image_value
from synth.validate import validate
from synth.writer import OutputDir, commit_unit, read_manifest, read_table, table_bytes

DATA = "data/part-000000.parquet"
REJECTED = "rejected/part-000000.parquet"


def png(w: int, h: int, value: int) -> bytes:
    img = np.full((h, w, 3), value, np.uint8)
    img[0, 0] = (255 - value, 0, 0)
    return encode_png(img)


def rows(n: int = 2, prefix: str = "id") -> list[dict]:
    return [
        {
            "sample_id": f"{prefix}{i}",
            "domain": "text",
            "task": "t2i",
            "status": "kept",
            "target_image": image_value(png(6 + i, 4, 40 * i)),
            "width": 6 + i,
            "height": 4,
        }
        for i in range(n)
    ]


def build(tmp_path, plan=((0, 2),), unit_rows=None, run_extra=None) -> OutputDir:
    out = OutputDir(str(tmp_path / "out"))
    out.write_json("run.json", {"pipeline": "x", "plan": [list(p) for p in plan], **(run_extra or {})})
    for unit, (start, end) in enumerate(plan):
        r = unit_rows[unit] if unit_rows is not None else rows(end - start, prefix=f"u{unit}-")
        commit_unit(out, unit, r, {"start": start, "end": end})
    return out


def rewrite_shard(out: OutputDir, rel: str, table, folder: str = "data") -> None:
    """Replace a shard and update its manifest entry so only the content is wrong."""
    blob = table_bytes(table)
    out.write_bytes(rel, blob)
    manifest = read_manifest(out, 0)
    manifest[folder].update(bytes=len(blob), sha256=hashlib.sha256(blob).hexdigest(), rows=table.num_rows)
    out.write_json("_units/part-000000.json", manifest)


def problems(out: OutputDir, **kw) -> str:
    result = validate(out.uri, **kw)
    assert not result.ok
    assert result.problems
    return "\n".join(result.problems)


def test_valid_folder(tmp_path):
    out = build(tmp_path)
    result = validate(out.uri)
    assert result.ok, result.problems
    assert result.problems == []
    assert result.rows == 2
    assert result.counts == {"kept": 2, "rejected": 0, "error": 0}
    assert result.images_checked == 2
    assert result.as_dict()["ok"] is True


def test_valid_folder_with_rejected_rows_and_two_units(tmp_path):
    unit0 = rows(2, "a")
    unit1 = [
        *rows(1, "b"),
        {"sample_id": "b-r", "status": "rejected", "reason": "render_error", "detail": "no fit"},
        {"sample_id": "b-e", "status": "error", "reason": "io_error"},
    ]
    out = build(tmp_path, plan=((0, 2), (2, 5)), unit_rows=[unit0, unit1])
    result = validate(out.uri)
    assert result.ok, result.problems
    assert result.rows == 5
    assert result.counts == {"kept": 3, "rejected": 1, "error": 1}


def test_no_run_json(tmp_path):
    out = OutputDir(str(tmp_path / "empty"))
    assert "run.json" in problems(out)


def test_uncommitted_unit(tmp_path):
    out = build(tmp_path)
    out.write_json("run.json", {"pipeline": "x", "plan": [[0, 2], [2, 4]]})
    assert "not committed" in problems(out)


def test_truncated_data_shard(tmp_path):
    out = build(tmp_path)
    blob = out.read_bytes(DATA)
    with open(out.path(DATA), "wb") as f:
        f.write(blob[: len(blob) // 2])
    text = problems(out)
    assert "checksum" in text or "Parquet" in text
    assert DATA in text


def test_shard_without_texts_column(tmp_path):
    out = build(tmp_path)
    table = read_table(out, DATA).drop_columns(["texts"])
    rewrite_shard(out, DATA, table)
    text = problems(out)
    assert "missing columns" in text
    assert "texts" in text
    assert "checksum" not in text  # the manifest matches: only the schema is wrong


def test_shard_with_extra_column(tmp_path):
    import pyarrow as pa

    out = build(tmp_path)
    table = read_table(out, DATA)
    table = table.append_column("surprise", pa.array([1, 2]))
    rewrite_shard(out, DATA, table)
    text = problems(out)
    assert "unknown columns" in text and "surprise" in text


def test_shard_with_wrong_column_type(tmp_path):
    import pyarrow as pa

    out = build(tmp_path)
    table = read_table(out, DATA)
    i = table.column_names.index("width")
    table = table.set_column(i, pa.field("width", pa.int64()), table.column("width").cast(pa.int64()))
    rewrite_shard(out, DATA, table)
    text = problems(out)
    assert "width" in text and "type" in text


def test_shard_without_schema_version(tmp_path):
    out = build(tmp_path)
    table = read_table(out, DATA).replace_schema_metadata(None)
    rewrite_shard(out, DATA, table)
    assert "schema_version" in problems(out)


def test_duplicate_sample_id(tmp_path):
    r = rows(2)
    r[1]["sample_id"] = r[0]["sample_id"]
    out = build(tmp_path, unit_rows=[r])
    text = problems(out)
    assert "duplicate" in text and r[0]["sample_id"] in text


def test_duplicate_sample_id_across_units(tmp_path):
    out = build(tmp_path, plan=((0, 2), (2, 4)), unit_rows=[rows(2, "same"), rows(2, "same")])
    assert "duplicate" in problems(out)


def test_counts_do_not_add_up_to_inputs(tmp_path):
    out = build(tmp_path, plan=((0, 3),), unit_rows=[rows(2)])
    text = problems(out)
    assert "2 rows for 3 inputs" in text


def test_a_unit_that_counts_its_own_inputs(tmp_path):
    """A WebDataset unit is planned as one shard; its manifest says how many images it held."""
    out = build(tmp_path, plan=((0, 3),), unit_rows=[rows(2)])
    assert "2 rows for 3 inputs" in problems(out)
    manifest = read_manifest(out, 0)
    manifest["inputs"] = 2
    out.write_json("_units/part-000000.json", manifest)
    assert validate(out.uri).ok


def test_manifest_counts_differ(tmp_path):
    out = build(tmp_path)
    manifest = read_manifest(out, 0)
    manifest["counts"] = {"kept": 1, "rejected": 1, "error": 0}
    out.write_json("_units/part-000000.json", manifest)
    text = problems(out)
    assert "differ from the manifest" in text


def test_manifest_row_count_differs(tmp_path):
    out = build(tmp_path)
    manifest = read_manifest(out, 0)
    manifest["data"]["rows"] = 5
    out.write_json("_units/part-000000.json", manifest)
    assert "manifest says 5" in problems(out)


def test_image_size_mismatch(tmp_path):
    r = rows(2)
    r[0]["width"] = 99
    out = build(tmp_path, unit_rows=[r])
    assert "99x4" in problems(out)


def test_image_that_does_not_decode(tmp_path):
    r = rows(2)
    r[1]["target_image"] = image_value(b"not an image at all")
    out = build(tmp_path, unit_rows=[r])
    assert "does not decode" in problems(out)
    assert validate(out.uri, check_images=False).ok


def test_kept_row_without_image(tmp_path):
    r = rows(2)
    r[0]["target_image"] = None
    out = build(tmp_path, unit_rows=[r])
    assert "no target_image" in problems(out)


@pytest.mark.parametrize(
    ("status", "reason", "needle"),
    [
        ("rejected", "io_error", "implies status"),
        ("rejected", "made_up", "not a known reason"),
    ],
)
def test_incoherent_status_and_reason(tmp_path, status, reason, needle):
    r = rows(2)
    r[1].update(status=status, reason=reason)
    out = build(tmp_path, unit_rows=[r])
    assert needle in problems(out)


def test_kept_row_in_rejected_folder(tmp_path):
    out = build(tmp_path)
    table = read_table(out, DATA)
    rewrite_shard(out, REJECTED, table, folder="rejected")
    manifest = read_manifest(out, 0)
    # keep counts truthful so only the misplaced status is reported (besides the row total)
    manifest["counts"] = {"kept": 4, "rejected": 0, "error": 0}
    out.write_json("_units/part-000000.json", manifest)
    text = problems(out)
    assert "in rejected/" in text
