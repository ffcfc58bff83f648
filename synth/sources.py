"""Pools of background photos (``--images``), a thin random-access layer over ``synth.inputs``: a
folder, Parquet shards or WebDataset tars (local paths or any ``pyarrow.fs`` URI, with globs and
braces as for ``--input``), or scikit-image's bundled photos, the offline default.

A pool is read by a seeded pick. Every worker lists the pool (file names, Parquet footers, tar
headers; never the photos) and reads only the photos its samples pick: a Parquet photo by its row
group, a tar member by its byte range. The order and refs are those of earlier releases (a folder
directory by directory, shards in path order, a shard's rows in order), so a seed picks the same
photo as before.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synth.imageio import DecodeError, decode_image
from synth.inputs import (
    DEFAULT_MAX_BYTES,
    IMAGE_SUFFIXES,
    InputEntry,
    InputError,
    TarSample,
    cell_bytes,
    list_inputs,
    open_file,
    read_file,
    read_range,
    tar_index,
)

# scikit-image's bundled photos, with what they show (en, zh) for prompts.
SKIMAGE_PHOTOS = {
    "astronaut": (
        "a portrait of an astronaut in a spacesuit in front of a flag",
        "一张宇航员身穿宇航服站在旗帜前的肖像照",
    ),
    "coffee": ("a cup of coffee on a saucer, seen from above", "一张从上方拍摄的咖啡杯和碟子的照片"),
    "chelsea": ("a close-up of a tabby cat", "一张虎斑猫的特写照片"),
    "rocket": ("a rocket on its launch pad under a blue sky", "一张蓝天下发射台上的火箭照片"),
    "immunohistochemistry": ("a microscope image of stained tissue", "一张染色组织的显微镜图像"),
    "hubble_deep_field": ("a deep-space photo full of distant galaxies", "一张布满遥远星系的深空照片"),
}
#: Its photos of ground an object can stand on (a table, pavement, grass), for Background-First
#: scenes; the textures are not in SKIMAGE_PHOTOS, so other pools stay as they were.
GROUND_PHOTOS = {
    "coffee": SKIMAGE_PHOTOS["coffee"],
    "grass": ("a close-up of grass, seen from above", "一张从上方拍摄的草地特写"),
    "gravel": ("gravel on the ground, seen from above", "一张从上方拍摄的地面碎石"),
    "brick": ("a brick pavement, seen from above", "一张从上方拍摄的砖铺地面"),
}
#: Their licences, as scikit-image's data module documents them.
SKIMAGE_LICENSES = {
    "astronaut": "public domain (NASA)",
    "coffee": "CC0 (Rachel Michetti)",
    "chelsea": "CC0 (Stefan van der Walt)",
    "rocket": "public domain (SpaceX)",
    "immunohistochemistry": "no known copyright restrictions",
    "hubble_deep_field": "public domain (NASA)",
    "grass": "CC0 (Lav Varshney)",
    "gravel": "CC0 (CC0Textures, Gravel04)",
    "brick": "CC0 (CC0Textures, Bricks25)",
}
OPEN_SHARDS = 8  # Parquet footers kept open per pool


@dataclass(frozen=True)
class Photo:
    """A picked photo: pixels, the digest of its encoded bytes (of the pixels for bundled photos,
    first 16 hex of sha256) and its caption where the pool has one."""

    ref: str  # "skimage:coffee", a path below the folder, "shard.parquet#row" or "shard.tar#key"
    pixels: np.ndarray
    digest: str
    caption_en: str | None = None
    caption_zh: str | None = None
    license: str | None = None  # known for the bundled photos only


@dataclass(frozen=True)
class _Shard:
    """A Parquet shard or tar of the pool: the pool index of its first photo and how to find the
    k-th: the rows holding an image (None: every row) or the tar's samples that have an image."""

    entry: InputEntry
    start: int
    count: int
    rows: np.ndarray | None = None
    samples: list[TarSample] | None = None

    def ref(self, k: int) -> str:
        if self.samples is not None:
            return f"{self.entry.rel}#{self.samples[k].key}"
        return f"{self.entry.rel}#{k if self.rows is None else int(self.rows[k])}"


def skimage_pixels(name: str) -> np.ndarray:
    """One of scikit-image's bundled photos as (H, W, 3) uint8."""
    from skimage import data

    arr = getattr(data, name)()
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, -1)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr / max(float(arr.max()), 1e-9), 0, 1) * 255).astype(np.uint8)
    return np.ascontiguousarray(arr[..., :3])


def _image_rows(pf: pq.ParquetFile, image_column: str) -> np.ndarray | None:
    """Rows whose image cell holds bytes, as earlier releases skipped empty cells; None when the
    footer's null counts vouch for every row. Only row groups with nulls (or without statistics) are
    read, image column only; an empty non-null cell stays and is a ``decode_error`` when picked."""
    md = pf.metadata
    names = (f"{image_column}.bytes", image_column)
    leaf = next((j for j in range(md.num_columns) if md.schema.column(j).path in names), None)
    parts, offset, partial = [], 0, False
    for g in range(md.num_row_groups):
        n = md.row_group(g).num_rows
        stats = md.row_group(g).column(leaf).statistics if leaf is not None else None
        if stats is not None and stats.has_null_count and stats.null_count == 0:
            parts.append(np.arange(offset, offset + n))
        else:
            partial = True
            cells = pf.read_row_group(g, columns=[image_column]).column(0).to_pylist()
            parts.append(np.array([offset + i for i, c in enumerate(cells) if cell_bytes(c)[0]], np.int64))
        offset += n
    return np.concatenate(parts) if partial else None


class PhotoPool(Sequence[str]):
    """The refs of a pool in pick order (``pool[i]``, ``len(pool)``); ``load(ref)`` reads one photo
    and raises :class:`DecodeError` when it cannot be decoded (the row is rejected)."""

    _skimage_pixels = staticmethod(skimage_pixels)  # the name curation's samples and tests call

    def __init__(
        self,
        source: str | None,
        image_column: str = "image",
        caption_column: str = "caption",
        max_bytes: int = DEFAULT_MAX_BYTES,
        bundled: Mapping[str, tuple[str, str]] = SKIMAGE_PHOTOS,
    ):
        """`bundled`: scikit-image's photos to use when there is no source, with their captions."""
        self.source, self.image_column, self.caption_column = source, image_column, caption_column
        self.bundled = bundled
        self.max_bytes = max_bytes
        self._files: dict[str, str] = {}  # ref -> uri of single image files
        self._file_refs: list[str] = []
        self._shards: list[_Shard] = []  # in pool order, after the single files
        self._by_name: dict[str, _Shard] = {}
        self._open: dict[str, pq.ParquetFile] = {}
        self._group: tuple[str, int, pa.Table] | None = None  # the last row group read
        if source is None:
            from skimage import data

            self._file_refs = [f"skimage:{n}" for n in sorted(bundled) if hasattr(data, n)]
        else:
            self._index(list_inputs([source], image_column))
        self._starts = [s.start for s in self._shards]
        if not len(self):
            raise InputError(f"--images {source}: no photos found ({', '.join(IMAGE_SUFFIXES)})")

    def _index(self, entries: list[InputEntry]) -> None:
        # A folder's photos in the order of a sorted os.walk, directory by directory.
        files = sorted(
            (e for e in entries if e.kind == "file"), key=lambda e: (os.path.dirname(e.rel), e.rel)
        )
        for e in files:
            if e.rel in self._files:
                raise InputError(
                    f"--images {self.source}: two photos are named {e.rel} (refs name photos by path); give their folder"
                )
            self._files[e.rel] = e.uri
        self._file_refs = list(self._files)
        start = len(self._file_refs)
        names = set()
        for e in entries:
            if e.kind not in ("parquet", "tar"):
                continue
            if e.rel in names:
                raise InputError(
                    f"--images {self.source}: two shards are named {e.rel} (refs name shards by file name)"
                )
            names.add(e.rel)
            if e.kind == "parquet":
                rows = _image_rows(self._parquet(e.uri), self.image_column)
                shard = _Shard(e, start, e.rows if rows is None else len(rows), rows=rows)
            else:
                try:
                    samples = [
                        s for s in tar_index(e.uri) if any("." + x in IMAGE_SUFFIXES for x in s.members)
                    ]
                except (OSError, EOFError, ValueError, tarfile.TarError) as err:
                    raise InputError(f"--images {e.uri}: not a readable tar ({err})") from None
                shard = _Shard(e, start, len(samples), samples=samples)
            self._shards.append(shard)
            start += shard.count
        self._by_name = {s.entry.rel: s for s in self._shards}

    def __len__(self) -> int:
        last = self._shards[-1] if self._shards else None
        return last.start + last.count if last else len(self._file_refs)

    def __getitem__(self, i: int) -> str:  # type: ignore[override] - refs by position only
        if not 0 <= i < len(self):
            raise IndexError(f"photo {i} of a pool of {len(self)}")
        if i < len(self._file_refs):
            return self._file_refs[i]
        shard = self._shards[bisect.bisect_right(self._starts, i) - 1]
        return shard.ref(i - shard.start)

    def load(self, ref: str) -> Photo:
        """Read and decode the photo ``ref`` names (reading nothing else of the pool)."""
        if ref.startswith("skimage:") and self.source is None:
            pixels = skimage_pixels(ref.split(":", 1)[1])
            en, zh = self.bundled[ref.split(":", 1)[1]]
            name = ref.split(":", 1)[1]
            digest = hashlib.sha256(pixels.tobytes()).hexdigest()[:16]
            return Photo(ref, pixels, digest, en, zh, SKIMAGE_LICENSES[name])
        try:
            data, caption = self._read(ref)
            return Photo(ref, decode_image(data), hashlib.sha256(data).hexdigest()[:16], caption)
        except DecodeError as e:
            raise DecodeError(e.reason, f"photo {ref}: {e}") from None
        except ValueError as e:
            raise DecodeError("decode_error", f"photo {ref}: {e}") from None
        except OSError as e:
            raise DecodeError("io_error", f"photo {ref}: {e}") from None

    def _read(self, ref: str) -> tuple[bytes, str | None]:
        """(encoded bytes, caption) of a ref; ValueError for an empty or oversized cell."""
        if ref in self._files:
            return read_file(self._files[ref], self.max_bytes), None
        name, _, key = ref.rpartition("#")
        shard = self._by_name.get(name)
        if shard is None:
            raise KeyError(f"{ref} is not in the pool {self.source}")
        if shard.samples is not None:
            sample = next(s for s in shard.samples if s.key == key)
            ext = next(x for x in sample.members if "." + x in IMAGE_SUFFIXES)
            offset, size = sample.members[ext]
            if size > self.max_bytes:
                raise ValueError(f"{size} bytes exceeds decode.max_bytes={self.max_bytes}")
            caption = None
            if "txt" in sample.members:
                text = read_range(shard.entry.uri, *sample.members["txt"]).decode("utf-8", "replace")
                caption = text.strip() or None
            return read_range(shard.entry.uri, offset, size), caption
        return self._parquet_cell(shard.entry.uri, int(key))

    def _parquet(self, uri: str) -> pq.ParquetFile:
        pf = self._open.get(uri)
        if pf is None:
            if len(self._open) >= OPEN_SHARDS:
                self._open.pop(next(iter(self._open))).close()
            pf = self._open[uri] = pq.ParquetFile(open_file(uri))
        return pf

    def _parquet_cell(self, uri: str, row: int) -> tuple[bytes, str | None]:
        """One row's image and caption, reading only its row group (the last one read is kept:
        neighbouring picks of a small pool share it)."""
        pf = self._parquet(uri)
        md, first = pf.metadata, 0
        for g in range(md.num_row_groups):
            n = md.row_group(g).num_rows
            if row < first + n:
                break
            first += n
        else:
            raise ValueError(f"row {row} is past the end of {uri}")
        if self._group is None or self._group[:2] != (uri, g):
            columns = [self.image_column] + [self.caption_column] * (
                self.caption_column in pf.schema_arrow.names
            )
            self._group = (uri, g, pf.read_row_group(g, columns=columns))
        cells = self._group[2].slice(row - first, 1).to_pylist()[0]
        data, problem = cell_bytes(cells[self.image_column])
        if data is None:
            raise ValueError(problem)
        if len(data) > self.max_bytes:
            raise ValueError(f"{len(data)} bytes exceeds decode.max_bytes={self.max_bytes}")
        caption = cells.get(self.caption_column)
        return data, caption if isinstance(caption, str) else None
