"""Photo pools: listed in the order earlier releases used, read one photo at a time (a Parquet photo
by its row group, a tar member by its byte range), never whole."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from synth.imageio import DecodeError
from synth.inputs import InputError
from synth.sources import SKIMAGE_PHOTOS, PhotoPool


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def test_folder_pool_walks_directory_by_directory(tmp_path):
    names = ["b.jpg", "a/x.png", "a-b/y.png", "a/b/z.PNG", "notes.txt", "A.jpg"]
    for i, name in enumerate(names):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(_png(i))
    pool = PhotoPool(str(tmp_path))
    walk = [
        os.path.relpath(os.path.join(root, f), tmp_path)
        for root, _, files in sorted(os.walk(tmp_path))
        for f in sorted(files)
        if not f.endswith(".txt")
    ]
    assert list(pool) == walk == ["A.jpg", "b.jpg", "a/x.png", "a-b/y.png", "a/b/z.PNG"]  # not path order
    photo = pool.load("a-b/y.png")
    assert photo.digest == _sha(_png(2)) and photo.pixels.shape == (8, 8, 3) and photo.caption_en is None
    (tmp_path / "A.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(DecodeError, match="photo A.jpg"):
        pool.load("A.jpg")


def test_parquet_pool_skips_empty_cells_and_reads_only_the_picked_row_group(tmp_path):
    cells = [{"bytes": _png(i), "path": None} for i in range(6)]
    cells[1] = None  # no image: not in the pool, as before
    table = pa.table({"image": cells, "caption": [f"photo {i}" for i in range(6)]})
    path = tmp_path / "pool.parquet"
    pq.write_table(table, path, row_group_size=2, compression="none")
    pool = PhotoPool(str(path))
    assert list(pool) == [
        "pool.parquet#0",
        "pool.parquet#2",
        "pool.parquet#3",
        "pool.parquet#4",
        "pool.parquet#5",
    ]
    # spoil the middle row group's image bytes on disk: photos of the other groups still load
    chunk = pq.ParquetFile(path).metadata.row_group(1).column(0)
    blob = bytearray(path.read_bytes())
    start = chunk.data_page_offset + chunk.total_compressed_size // 2
    blob[start : start + 64] = b"\x00" * 64
    path.write_bytes(bytes(blob))
    pool = PhotoPool(str(path))  # listing reads the footer alone (this group has no nulls)
    assert len(pool) == 5
    for row in (0, 4, 5):
        photo = pool.load(f"pool.parquet#{row}")
        assert photo.digest == _sha(_png(row)) and photo.caption_en == f"photo {row}"
    with pytest.raises(DecodeError, match=r"photo pool.parquet#3"):
        pool.load("pool.parquet#3")


def test_parquet_glob_pool_and_path_only_cells(tmp_path):
    pq.write_table(pa.table({"image": [_png(0), _png(1)]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"image": [{"bytes": b"", "path": "elsewhere.png"}]}), tmp_path / "b.parquet")
    pool = PhotoPool(str(tmp_path / "*.parquet"))
    assert list(pool) == ["a.parquet#0", "a.parquet#1", "b.parquet#0"]
    assert pool.load("a.parquet#1").digest == _sha(_png(1))
    with pytest.raises(DecodeError, match="path-only cells are not read"):
        pool.load("b.parquet#0")
    pq.write_table(pa.table({"img": [_png(0)]}), tmp_path / "other.parquet")
    with pytest.raises(InputError, match="no column 'image'"):
        PhotoPool(str(tmp_path / "other.parquet"))


def test_tar_pool_reads_members_by_byte_range(tmp_path):
    path = tmp_path / "shard.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in [
            ("0001.jpg", _png(1)),
            ("0001.txt", b"a red square\n"),
            ("0002.json", b"{}"),  # a sample without an image: not in the pool
            ("sub/0003.png", _png(3)),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    pool = PhotoPool(str(path))
    assert list(pool) == ["shard.tar#0001", "shard.tar#sub/0003"]
    first, third = pool.load("shard.tar#0001"), pool.load("shard.tar#sub/0003")
    assert first.digest == _sha(_png(1)) and first.caption_en == "a red square"
    assert third.digest == _sha(_png(3)) and third.caption_en is None


def test_bundled_pool_and_errors(tmp_path):
    pool = PhotoPool(None)
    assert list(pool) == [f"skimage:{n}" for n in sorted(SKIMAGE_PHOTOS)]
    coffee = pool.load("skimage:coffee")
    assert coffee.digest == _sha(coffee.pixels.tobytes()) and coffee.caption_zh == SKIMAGE_PHOTOS["coffee"][1]
    with pytest.raises(IndexError):
        pool[len(pool)]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images found"):
        PhotoPool(str(tmp_path / "empty"))
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same.png").write_bytes(_png(0))
    with pytest.raises(InputError, match="two photos are named same.png"):
        PhotoPool(str(tmp_path / "[xy]" / "*.png"))
