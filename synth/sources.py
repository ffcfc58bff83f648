"""Pools of input photos: a folder, a Parquet file with an image column, or scikit-image's bundled
photos (the offline default for demos and tests). Entries are sorted so a seeded pick is stable."""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass

import numpy as np
import pyarrow.parquet as pq

from synth.imageio import DecodeError, decode_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")

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


class SourceError(ValueError):
    pass


@dataclass(frozen=True)
class Photo:
    ref: str  # a stable reference: "skimage:coffee", a path below the folder, or "file.parquet#row"
    digest: str  # sha256 of the encoded bytes (or of the pixels for bundled photos), first 16 hex
    caption_en: str | None
    caption_zh: str | None


class PhotoPool:
    """Photos to draw text on. ``load(i)`` returns the pixels; ``photos`` describe them."""

    def __init__(self, source: str | None, image_column: str = "image", caption_column: str = "caption"):
        self.source, self.image_column, self.caption_column = source, image_column, caption_column
        self._parquet_rows: dict[str, tuple[bytes, str | None]] = {}
        if source is None:
            self.photos = [self._skimage_photo(n) for n in sorted(SKIMAGE_PHOTOS) if self._skimage_ok(n)]
        elif source.endswith(".parquet") or "*" in source:
            self.photos = self._scan_parquet(source)
        elif os.path.isdir(source):
            self.photos = self._scan_dir(source)
        else:
            raise SourceError(f"--images {source}: not a folder, a .parquet file or a glob of them")
        self.by_ref = {p.ref: p for p in self.photos}
        if not self.photos:
            raise SourceError(f"--images {source}: no decodable photos found ({', '.join(IMAGE_SUFFIXES)})")

    @staticmethod
    def _skimage_ok(name: str) -> bool:
        from skimage import data

        return hasattr(data, name)

    def _skimage_photo(self, name: str) -> Photo:
        pixels = self._skimage_pixels(name)
        en, zh = SKIMAGE_PHOTOS[name]
        return Photo(f"skimage:{name}", hashlib.sha256(pixels.tobytes()).hexdigest()[:16], en, zh)

    @staticmethod
    def _skimage_pixels(name: str) -> np.ndarray:
        from skimage import data

        arr = getattr(data, name)()
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, -1)
        if arr.dtype != np.uint8:
            arr = (np.clip(arr / max(float(arr.max()), 1e-9), 0, 1) * 255).astype(np.uint8)
        return np.ascontiguousarray(arr[..., :3])

    def _scan_dir(self, folder: str) -> list[Photo]:
        photos = []
        for root, _, files in sorted(os.walk(folder)):
            for f in sorted(files):
                if f.lower().endswith(IMAGE_SUFFIXES):
                    path = os.path.join(root, f)
                    with open(path, "rb") as fh:
                        digest = hashlib.sha256(fh.read()).hexdigest()[:16]
                    photos.append(Photo(os.path.relpath(path, folder), digest, None, None))
        return photos

    def _scan_parquet(self, pattern: str) -> list[Photo]:
        photos = []
        for path in sorted(glob.glob(pattern)):
            table = pq.read_table(path)
            if self.image_column not in table.column_names:
                raise SourceError(f"{path} has no column {self.image_column!r}; set sources.image_column")
            captions = (
                table.column(self.caption_column).to_pylist()
                if self.caption_column in table.column_names
                else None
            )
            for i, cell in enumerate(table.column(self.image_column).to_pylist()):
                data = cell.get("bytes") if isinstance(cell, dict) else cell
                if not data:
                    continue
                ref = f"{os.path.basename(path)}#{i}"
                caption = captions[i] if captions else None
                self._parquet_rows[ref] = (data, caption)
                photos.append(Photo(ref, hashlib.sha256(data).hexdigest()[:16], caption, None))
        return photos

    def load(self, photo: Photo) -> np.ndarray:
        """Decode a photo; raises :class:`DecodeError` for a bad file (the row is rejected)."""
        if photo.ref.startswith("skimage:"):
            return self._skimage_pixels(photo.ref.split(":", 1)[1])
        try:
            if photo.ref in self._parquet_rows:
                return decode_image(self._parquet_rows[photo.ref][0])
            with open(os.path.join(self.source, photo.ref), "rb") as f:
                return decode_image(f.read())
        except DecodeError as e:
            raise DecodeError(e.reason, f"photo {photo.ref}: {e}") from None
        except OSError as e:
            raise DecodeError("io_error", f"photo {photo.ref}: {e}") from None
