"""Listing and reading curation inputs: folders, Parquet shards, WebDataset tars, bad inputs."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth.imageio import encode_png
from synth.inputs import (
    InputError,
    expand_braces,
    inputs_digest,
    list_inputs,
    plan_input_units,
    read_range,
    read_unit,
    tar_index,
)


def png(value: int) -> bytes:
    return encode_png(np.full((8, 8, 3), value, np.uint8))


def write_tar(path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_expand_braces():
    assert expand_braces("a/{000..002}.tar") == ["a/000.tar", "a/001.tar", "a/002.tar"]
    assert expand_braces("{x,y}-{1..2}") == ["x-1", "x-2", "y-1", "y-2"]
    assert expand_braces("plain.tar") == ["plain.tar"]


def test_folder_is_listed_recursively_and_sorted(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("z.png", "a.JPG", "b/c.webp", "notes.txt", "b/d.tiff"):
        (tmp_path / name).write_bytes(b"x")
    entries = list_inputs([str(tmp_path)])
    assert [e.rel for e in entries] == ["a.JPG", "b/c.webp", "b/d.tiff", "z.png"]
    assert {e.kind for e in entries} == {"file"} and entries[0].root == str(tmp_path)
    assert inputs_digest(entries) == inputs_digest(list_inputs([str(tmp_path)]))


def test_missing_and_empty_inputs_are_clear(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        list_inputs([str(tmp_path / "nope")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images found"):
        list_inputs([str(tmp_path / "empty")])
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(InputError, match="expected a folder"):
        list_inputs([str(tmp_path / "x.csv")])
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="not a readable Parquet"):
        list_inputs([str(tmp_path / "bad.parquet")])


def test_units_split_parquet_rows_and_give_each_tar_its_own_unit(tmp_path):
    for i, n in enumerate((5, 3)):
        pq.write_table(
            pa.table({"image": [png(k) for k in range(n)]}), tmp_path / f"s{i}.parquet", row_group_size=2
        )
    write_tar(tmp_path / "t.tar", [("a.png", png(1))])
    entries = list_inputs([str(tmp_path / "*.parquet"), str(tmp_path / "t.tar")])
    assert [(e.kind, e.rows) for e in entries] == [("parquet", 5), ("parquet", 3), ("tar", 1)]
    units = plan_input_units(entries, unit_size=3)
    assert [(u.start, u.end) for u in units] == [(0, 3), (3, 6), (6, 8), (8, 9)]
    assert [(s.entry.rel, s.start, s.stop) for s in units[1].inputs] == [
        ("s0.parquet", 3, 5),
        ("s1.parquet", 0, 1),
    ]
    assert [r.key for r in read_unit(units[1])] == ["s0.parquet#3", "s0.parquet#4", "s1.parquet#0"]
    assert [r.data for r in read_unit(units[1])] == [png(3), png(4), png(0)]
    assert units[3].inputs[0].entry.kind == "tar"


def test_parquet_cells_hf_struct_raw_bytes_and_unreadable_rows(tmp_path):
    hf = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    images = pa.array([{"bytes": png(1), "path": "a.png"}, {"bytes": None, "path": "b.png"}, None], hf)
    pq.write_table(pa.table({"img": images, "caption": ["a cat", None, "x"]}), tmp_path / "hf.parquet")
    pq.write_table(pa.table({"img": pa.array([png(2), b""], pa.binary())}), tmp_path / "raw.parquet")
    entries = list_inputs([str(tmp_path / "hf.parquet"), str(tmp_path / "raw.parquet")], image_column="img")
    raws = [r for u in plan_input_units(entries, 10) for r in read_unit(u, image_column="img")]
    assert [r.data is not None for r in raws] == [True, False, False, True, False]
    assert raws[0].caption == "a cat" and raws[0].kind == "parquet"
    assert all(r.error[0] == "decode_error" for r in raws if r.data is None)
    assert "path-only" in raws[1].error[1]
    assert len({r.sample_id for r in raws}) == 5
    capped = [
        r for u in plan_input_units(entries, 10) for r in read_unit(u, image_column="img", max_bytes=10)
    ]
    assert capped[0].data is None and "exceeds decode.max_bytes=10" in capped[0].error[1]
    # a missing image column fails the listing, before any work
    with pytest.raises(InputError, match="pass --image-column"):
        list_inputs([str(tmp_path / "hf.parquet")], image_column="picture")
    # and a shard that changed after listing gives reasoned rows, not a crash
    rows = list(read_unit(plan_input_units(entries, 10)[0], image_column="picture"))
    assert len(rows) == 5 and all("pass --image-column" in r.error[1] for r in rows)


def test_webdataset_tar_groups_members_by_key(tmp_path):
    members = [
        ("000/0001.jpg", png(1)),
        ("000/0001.txt", b"an alt text"),
        ("000/0001.json", b"{}"),
        ("000/0002.png", png(2)),
        ("000/0003.txt", b"caption without image"),
        ("000/0004.webp", b"not really webp"),
    ]
    write_tar(tmp_path / "00000.tar", members)
    write_tar(tmp_path / "00001.tar", [("0005.jpg", png(5))])
    entries = list_inputs([str(tmp_path / "{00000..00002}.tar")])  # 00002 does not exist: skipped
    assert [e.rel for e in entries] == ["00000.tar", "00001.tar"]
    units = plan_input_units(entries, 100)
    raws = list(read_unit(units[0]))
    assert [r.key for r in raws] == [
        "00000.tar#000/0001",
        "00000.tar#000/0002",
        "00000.tar#000/0003",
        "00000.tar#000/0004",
    ]
    assert raws[0].caption == "an alt text" and raws[0].data == png(1)
    assert raws[2].error[0] == "decode_error" and "no image member" in raws[2].error[1]
    assert raws[3].data == b"not really webp"  # decoding decides later
    # the random-access index (photo pools) groups the same way, from the headers alone
    index = tar_index(str(tmp_path / "00000.tar"))
    assert [f"00000.tar#{s.key}" for s in index] == [r.key for r in raws]
    offset, size = index[0].members["jpg"]
    assert read_range(str(tmp_path / "00000.tar"), offset, size) == png(1)
    assert sorted(index[0].members) == ["jpg", "txt"]  # .json is no member a reader takes


def test_truncated_tar_keeps_what_was_read(tmp_path):
    write_tar(tmp_path / "t.tar", [(f"{i:04d}.png", png(i) * 50) for i in range(4)])
    blob = (tmp_path / "t.tar").read_bytes()
    (tmp_path / "t.tar").write_bytes(blob[: len(blob) // 2])
    raws = list(read_unit(plan_input_units(list_inputs([str(tmp_path / "t.tar")]), 10)[0]))
    assert raws[0].data is not None
    assert raws[-1].error is not None and "unreadable after" in raws[-1].error[1]


def test_sample_id_depends_on_root_key_and_bytes(tmp_path):
    (tmp_path / "a.png").write_bytes(png(1))
    first = next(read_unit(plan_input_units(list_inputs([str(tmp_path)]), 4)[0]))
    (tmp_path / "a.png").write_bytes(png(2))
    second = next(read_unit(plan_input_units(list_inputs([str(tmp_path)]), 4)[0]))
    assert first.sample_id != second.sample_id and first.key == second.key == "a.png"


def test_tar_member_paths_are_never_extracted(tmp_path):
    """Members are read as bytes; a name like ../../x.png writes nothing anywhere."""
    write_tar(tmp_path / "evil.tar", [("../../escaped.png", png(3)), ("/abs/path.png", png(4))])
    before = set(tmp_path.parent.parent.iterdir())
    raws = list(read_unit(plan_input_units(list_inputs([str(tmp_path / "evil.tar")]), 10)[0]))
    assert [r.data for r in raws] == [png(3), png(4)]
    assert set(tmp_path.parent.parent.iterdir()) == before and not (tmp_path / "escaped.png").exists()
