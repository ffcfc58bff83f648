"""The scoring pass of ``synth curate``: read, decode and measure every image, then score it.

Nothing here decides keep or reject by a threshold: that happens once every image is scored
(``decide.py``), so a new threshold never needs a model again. Only what the bytes themselves
say (not an image, a bomb, unreadable) is final here.
"""

from __future__ import annotations

import numpy as np

from filters.exact_dedup import pixel_digest
from filters.phash import phash
from pipelines.curate.config import CurateConfig
from synth.imageio import DecodeError, decode, encode_png
from synth.inputs import read_unit
from synth.pipeline import RunIdentity, Unit
from synth.schema import image_value
from synth.stage import Resources, Row, Stage, mark


def source_rows(cfg: CurateConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    """One row per input image of the unit; inputs without bytes are already marked."""
    rows = []
    for raw in read_unit(unit, cfg.image_column, cfg.caption_column, cfg.decode.max_bytes):
        row: Row = {
            "sample_id": raw.sample_id,
            "domain": "image",
            "subdomain": raw.kind,
            "task": "image",
            "target_image": image_value(None, raw.ref),
            "captions": [{"style": "original", "language": None, "text": raw.caption}]
            if raw.caption
            else None,
            "generator": ident.generator,
            "meta": {"input": raw.root, "key": raw.key},
            "_bytes": raw.data,
        }
        if raw.error:
            mark(row, *raw.error)
        rows.append(row)
    return rows


class Decode(Stage):
    """Bytes -> pixels (EXIF applied, RGB), size, pixel digest and pHash. The original bytes are
    kept when any reader shows the same pixels; otherwise (CMYK, 16-bit, EXIF-turned, TIFF...) the
    converted pixels are stored as PNG."""

    name = "decode"
    error_reason = "decode_error"
    writes = ("width", "height", "phash", "pixel_digest", "target_image", "_image")

    def __init__(self, cfg: CurateConfig):
        self.max_pixels = cfg.decode.max_pixels
        # the pixels as an array only for the model stages: hashing reads the PIL image itself
        self.keep_pixels = bool(cfg.weight_files())

    def process_row(self, row: Row) -> Row:
        data = row["_bytes"]  # kept until Release: a batch that fails is retried row by row
        try:
            img = decode(data, self.max_pixels)
        except DecodeError as e:
            return mark(row, e.reason, str(e))
        w, h = img.image.size
        row.update(width=w, height=h, phash=phash(img.image), pixel_digest=pixel_digest(img.image))
        if self.keep_pixels:
            row["_image"] = img.pixels
        stored = data if img.portable else encode_png(img.pixels)
        row["target_image"] = image_value(stored, row["target_image"]["path"])
        row["meta"].update(format=img.format, mode=img.mode, converted=not img.portable, bytes=len(data))
        return row


class ModelStage(Stage):
    """A stage that keeps a model loaded (on an actor, with a GPU share where there are GPUs) and
    adds scores to rows."""

    keeps_model = True
    error_reason = "model_error"
    reads = ("_image",)
    writes = ("scores",)

    def __init__(self, cfg: CurateConfig):
        self.cfg = cfg.filters
        self.resources = Resources(cpus=1.0, gpus=cfg.runtime.gpus_per_worker)

    @staticmethod
    def add_scores(rows: list[Row], scores: dict[str, np.ndarray]) -> list[Row]:
        for i, row in enumerate(rows):
            row["scores"] = {**(row.get("scores") or {}), **{k: float(v[i]) for k, v in scores.items()}}
        return rows


class ClipScores(ModelStage):
    """One CLIP forward per image; the aesthetic and NSFW heads both read that embedding."""

    name = "clip"

    def setup(self) -> None:
        from filters.clip import load_encoder
        from synth.models.heads import load_aesthetic_head, load_nsfw_head

        self.encoder = load_encoder(self.cfg.clip)
        dev = self.encoder.device
        self.heads = {}
        if self.cfg.aesthetic.head:
            self.heads["aesthetic"] = load_aesthetic_head(self.cfg.aesthetic.head, self.encoder.dim).to(dev)
        if self.cfg.nsfw.head:
            self.heads["nsfw"] = load_nsfw_head(self.cfg.nsfw.head, self.encoder.dim).to(dev)

    def process_batch(self, rows: list[Row]) -> list[Row]:
        import torch

        emb = torch.from_numpy(self.encoder.embed([r["_image"] for r in rows])).to(self.encoder.device)
        with torch.inference_mode():
            scores = {name: head(emb).float().cpu().numpy() for name, head in self.heads.items()}
        return self.add_scores(rows, scores)


class WatermarkScore(ModelStage):
    name = "watermark"

    def setup(self) -> None:
        from synth.models.watermark import WatermarkDetector

        wm = self.cfg.watermark
        self.detector = WatermarkDetector(wm.weights, wm.arch, wm.device)

    def process_batch(self, rows: list[Row]) -> list[Row]:
        return self.add_scores(rows, {"watermark": self.detector.predict([r["_image"] for r in rows])})


class Release(Stage):
    """Drop the decoded pixels and the input bytes once scored, so a unit holds only what it writes."""

    name = "release"
    light = True

    def process_batch(self, rows: list[Row]) -> list[Row]:
        for row in rows:
            row.pop("_image", None)
            row.pop("_bytes", None)
        return rows


def build_stages(cfg: CurateConfig) -> list[Stage]:
    f = cfg.filters
    stages: list[Stage] = [Decode(cfg)]
    if f.aesthetic.head or f.nsfw.head:
        stages.append(ClipScores(cfg))
    if f.watermark.weights:
        stages.append(WatermarkScore(cfg))
    return [*stages, Release()]
