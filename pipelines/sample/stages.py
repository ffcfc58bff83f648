"""The stages of ``synth sample``: what each row asks for (CPU), the model (a GPU share each
actor), the images encoded (CPU). On a node with GPUs the three run as pools of their own, so
decoding and PNG encoding never hold up the model."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from PIL import Image

from pipelines.sample.config import SampleConfig
from synth.imageio import DecodeError, decode_image, encode_png
from synth.internvlu.processor import smart_size
from synth.schema import image_value, meta_of
from synth.stage import Resources, Row, Stage, mark

#: The mode ``auto`` gives a row of each task.
MODE_OF_TASK = {"t2i": "image", "edit": "edit", "und": "text"}


class Missing(ValueError):
    """The row lacks what its mode needs (the row is rejected ``missing_input``)."""


def noise_seed_of(row: Row, cfg: SampleConfig) -> int:
    """The row's noise seed: ``noise_seed`` for every row, or the ``noise_seed_column`` value, or
    derived from the run seed and the sample id (so it follows the row, not its place in a batch)."""
    if cfg.noise_seed is not None:
        return cfg.noise_seed
    if cfg.noise_seed_column:
        value = row.get(cfg.noise_seed_column)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise Missing(f"column {cfg.noise_seed_column!r} holds no seed (0 <= int < 2^64): {value!r}")
        return value
    h = hashlib.blake2b(f"noise:{cfg.seed}:{row['sample_id']}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") >> 1


def row_mode(row: Row, cfg: SampleConfig) -> str:
    if cfg.mode != "auto":
        return cfg.mode
    task = row.get("task")
    if task not in MODE_OF_TASK:
        raise Missing(f"mode auto samples t2i, edit and und rows; this one is {task!r} (give --mode)")
    return MODE_OF_TASK[task]


def draw_size(row: Row, cfg: SampleConfig, source: Any) -> tuple[int, int]:
    """(height, width) to return the image at: WxH as given; ``default`` the checkpoint's; ``auto``
    the source image's (edits) or the row's own, brought into the checkpoint's pixel range."""
    defaults = (cfg.pinned or {}).get("defaults") or {}
    explicit = cfg.explicit_size()
    if explicit:
        return explicit
    default = (int(defaults.get("height", 512)), int(defaults.get("width", 512)))
    if cfg.size == "default":
        return default
    if source is not None:
        h, w = source.shape[:2]
    elif row.get("width") and row.get("height"):
        h, w = int(row["height"]), int(row["width"])
    else:
        return default
    factor = int(defaults.get("factor", 16))
    try:
        return smart_size(h, w, factor, int(defaults.get("min_pixels", 4096 * 64)),
                          int(defaults.get("max_pixels", 16384 * 64)))  # fmt: skip
    except ValueError as e:
        raise Missing(f"cannot size an image of {w}x{h}: {e}") from None


class Prepare(Stage):
    """What each row asks the model for: its mode, prompt, source image, size and noise seed."""

    name = "prepare"
    resources: ClassVar = Resources(cpus=1.0)
    error_reason = "io_error"
    reads = ("sample_id", "task", "source_image", "width", "height")
    writes = ("_request", "_source")

    def __init__(self, cfg: SampleConfig):
        self.cfg = cfg

    def process_row(self, row: Row) -> Row:
        cfg = self.cfg
        try:
            mode = row_mode(row, cfg)
            prompt = row.get(cfg.prompt_column)
            if not isinstance(prompt, str) or not prompt.strip():
                raise Missing(f"no prompt in column {cfg.prompt_column!r}")
            source = None
            data = (row.get("source_image") or {}).get("bytes")
            if mode == "edit" and data is None:
                raise Missing("an edit needs a source image, and this row has none")
            if data is not None and mode != "image":
                source = decode_image(data)
            height, width = draw_size(row, cfg, source) if mode != "text" else (0, 0)
            seed = noise_seed_of(row, cfg)
        except Missing as e:
            return mark(row, "missing_input", str(e))
        except DecodeError as e:
            return mark(row, e.reason, f"source image: {e}")
        row["_source"] = source
        row["_request"] = {
            "prompt": prompt,
            "mode": mode,
            "height": height,
            "width": width,
            "steps": cfg.steps,
            "all_cfg_scale": cfg.guidance.all,
            "part_cfg_scale": cfg.guidance.part,
            "noise_seed": seed,
            "max_new_tokens": cfg.max_new_tokens,
        }
        return row


class Generate(Stage):
    """InternVL-U on the batch: one model per actor, rows bucketed by drawing size inside."""

    name = "generate"
    keeps_model = True
    error_reason = "model_error"
    reads = ("_request", "_source")
    writes = ("_image", "response", "cot", "meta", "generator")

    def __init__(self, cfg: SampleConfig):
        self.cfg = cfg
        self.resources = Resources(cpus=1.0, gpus=cfg.runtime.gpus_per_worker)

    def setup(self) -> None:
        import torch

        from synth.internvlu.fetch import local_checkpoint
        from synth.internvlu.model import InternVLU
        from synth.internvlu.sample import Sampler

        digest = (self.cfg.pinned or {}).get("digest")
        path = local_checkpoint(self.cfg.checkpoint, digest, self.cfg.checkpoint_cache)
        cuda = torch.cuda.is_available()
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}.get(
            self.cfg.dtype, torch.bfloat16 if cuda else torch.float32
        )
        self.model = InternVLU.from_pretrained(path, dtype=dtype, device="cuda" if cuda else "cpu")
        self.sampler = Sampler(self.model)
        self.dtype_name = str(dtype).removeprefix("torch.")
        self.tag = f"internvlu@sha256:{(digest or '')[:16]}"

    def process_batch(self, rows: list[Row]) -> list[Row]:
        from synth.internvlu.sample import Request

        requests = [
            Request(**r["_request"], image=None if r["_source"] is None else Image.fromarray(r["_source"]))
            for r in rows
        ]
        for row, req, res in zip(rows, requests, self.sampler(requests), strict=True):
            row["_image"] = res.image
            if req.mode == "text":
                record = {"reference_response": row.get("response"), "tokens_out": len(res.ids or [])}
                row["response"] = res.text
            else:
                all_scale, part_scale = req.scales
                record = {"steps": req.steps, "height": req.height, "width": req.width,
                          "all_cfg_scale": all_scale, "part_cfg_scale": part_scale, "noise_seed": req.noise_seed}  # fmt: skip
                if req.mode == "text_image":
                    row["cot"] = res.text
                    record["tokens_out"] = len(res.ids or [])
            meta = dict(meta_of(row))
            meta["sample"] = {"mode": req.mode, "checkpoint": self.tag, "dtype": self.dtype_name, **record}
            if req.mode in ("text", "text_image"):
                meta["sample"]["max_new_tokens"] = req.tokens
            row["meta"] = meta
            if not str(row.get("generator") or "").endswith(self.tag):  # a retried row is tagged once
                row["generator"] = f"{row.get('generator') or 'unisynth'} / sample {self.tag}"
        return rows


class Encode(Stage):
    """The drawn image as PNG in ``target_image`` (an edit keeps its ``source_image``)."""

    name = "encode"
    resources: ClassVar = Resources(cpus=1.0)
    reads = ("_image",)
    writes = ("target_image", "width", "height")

    def __init__(self, cfg: SampleConfig):
        self.cfg = cfg

    def process_row(self, row: Row) -> Row:
        image = row.get("_image")
        if image is not None:
            row["target_image"] = image_value(encode_png(image))
            row["height"], row["width"] = int(image.shape[0]), int(image.shape[1])
        return row


def build_stages(cfg: SampleConfig) -> list[Stage]:
    return [Prepare(cfg), Generate(cfg), Encode(cfg)]
