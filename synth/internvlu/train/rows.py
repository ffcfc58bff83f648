"""From one Parquet row of our schema to one training :class:`Example`: a pure function of the
row, its kind, the data config, the processor and the row's own RNG.

    rng = row_rng(row, epoch)                       # default_rng([row seed, epoch])
    ex = build_example(row, "t2i", cfg, processor, rng)
    if isinstance(ex, Skip): counts[ex.reason] += 1

The RNG picks the instruction variant and the condition dropout, so a row seen again in the same
epoch of its stream becomes the same example. The prompt is the processor's own row (the one
``Processor.__call__`` makes for the same prompt, image and mode), tokenised as it tokenises; an
answer or a chain of thought is tokenised on its own and appended, with labels on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from synth.identity import digest
from synth.imageio import DecodeError, decode
from synth.internvlu.processor import Processor, generation_pixels, prompt_rows
from synth.internvlu.train.batch import IGNORE, Example

if TYPE_CHECKING:
    from synth.internvlu.train.data import DataConfig

#: Why a drawn row gave no example (each step counts them).
SKIP_REASONS = ("no_image", "decode_error", "too_long", "no_text", "unsupported_task")
#: Bucket aspect ratios (width:height), kept where they fall within ``DataConfig.aspect``.
RATIOS = ((1, 2), (9, 16), (2, 3), (3, 4), (1, 1), (4, 3), (3, 2), (16, 9), (2, 1))
#: Condition dropout: which of the processor's three generation rows (cond, text drop, all drop).
DROP_ROW = {"none": 0, "text": 1, "all": 2}


@dataclass(frozen=True)
class Skip:
    """A row that cannot be used: a reason of :data:`SKIP_REASONS` and a short detail."""

    reason: str
    detail: str = ""


def buckets(size: int, factor: int, aspect: tuple[float, float]) -> list[tuple[int, int]]:
    """(h, w) of each ratio of :data:`RATIOS` within ``aspect`` (w/h): both multiples of
    ``factor``, the rounding (down or up, each side) that stays within ``aspect`` and strays least
    from the ratio and from the area ``size**2`` (log errors added)."""
    lo, hi = aspect
    out = []
    for rw, rh in RATIOS:
        r = rw / rh
        if not lo - 1e-9 <= r <= hi + 1e-9:
            continue
        h, w = size / math.sqrt(r) / factor, size * math.sqrt(r) / factor
        options = [
            (hh * factor, ww * factor)
            for hh in {max(1, math.floor(h)), max(1, math.ceil(h))}
            for ww in {max(1, math.floor(w)), max(1, math.ceil(w))}
            if lo - 1e-9 <= ww / hh <= hi + 1e-9
        ]
        if options:
            out.append(
                min(
                    options,
                    key=lambda o: (abs(math.log(o[1] / o[0] / r)) + abs(math.log(o[0] * o[1] / size**2)), o),
                )
            )
    return out


def target_size(width: int, height: int, sizes: list[int]) -> int:
    """The largest configured size not larger than sqrt(width * height), at least the smallest."""
    side = math.sqrt(width * height)
    fitting = [s for s in sizes if s <= side]
    return max(fitting) if fitting else min(sizes)


def pick_bucket(width: int, height: int, cfg: DataConfig, factor: int) -> tuple[int, int]:
    """(h, w) of the image's target: its size (:func:`target_size`), the bucket nearest in log-aspect."""
    options = buckets(target_size(width, height, cfg.sizes), factor, cfg.aspect)
    want = math.log(width / height)
    return min(options, key=lambda hw: abs(math.log(hw[1] / hw[0]) - want))


def cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The image resized to cover (h, w) and centre-cropped to it, in one bicubic resampling."""
    h, w = size
    width, height = image.size
    if (width, height) == (w, h):
        return image
    if width / height > w / h:  # wider than the bucket: crop the sides
        cw = height * w / h
        box = ((width - cw) / 2, 0.0, (width + cw) / 2, float(height))
    else:
        ch = width * h / w
        box = (0.0, (height - ch) / 2, float(width), (height + ch) / 2)
    return image.resize((w, h), Image.BICUBIC, box=box)


def candidates(row: Mapping[str, Any]) -> list[str]:
    """The row's instruction and its variants' texts, stripped, empty ones out, first occurrence kept."""
    texts = [row.get("instruction")] + [v.get("text") for v in row.get("instructions") or [] if v]
    out: list[str] = []
    for t in texts:
        t = (t or "").strip()
        if t and t not in out:
            out.append(t)
    return out


def row_rng(row: Mapping[str, Any], epoch: int) -> np.random.Generator:
    """``default_rng([row seed, epoch])``; a row without a seed uses one derived from its sample id."""
    seed = row.get("seed")
    if seed is None:
        seed = int(digest("train-row", row.get("sample_id"))[:16], 16)
    return np.random.default_rng([int(seed) % 2**64, epoch])


def draw_drop(rng: np.random.Generator, probs: Mapping[str, float]) -> str:
    """``all`` with p(all), else ``text`` with p(text), else ``none``: one uniform draw."""
    u = rng.random()
    p_all = probs.get("all", 0.0)
    if u < p_all:
        return "all"
    if u < p_all + probs.get("text", 0.0):
        return "text"
    return "none"


def image_bytes(cell: Mapping[str, Any] | None) -> bytes | None:
    return cell.get("bytes") if cell else None


def tokenize(processor: Processor, text: str, prompt: bool) -> list[int]:
    """A prompt as ``Processor.__call__`` tokenises it (special tokens as it adds them); a target
    without any, as it continues a row."""
    return list(processor.tokenizer(text, add_special_tokens=prompt)["input_ids"])


def build_example(
    row: Mapping[str, Any], kind: str, cfg: DataConfig, processor: Processor, rng: np.random.Generator
) -> Example | Skip:
    """One training example of ``kind`` from ``row``, or why not (:class:`Skip`, never an exception).

    t2i and edit: the processor's generation row chosen by the dropout draw (cond, text drop, all
    drop), ending in ``<img>``, labels all IGNORE, the target cropped to its bucket; an edit keeps
    its source image (ViT tile + VAE reference) unless everything is dropped. cot: the text-then-
    image condition row, the chain of thought, ``<img>``, labels on the last two; no dropout. und:
    the text row, the response and ``<|im_end|>`` labelled, the image as a ViT tile."""
    if kind not in ("t2i", "edit", "und", "cot"):
        return Skip("unsupported_task", f"kind {kind!r}")
    task = row.get("task")
    if kind == "cot" and task not in ("t2i", "edit"):
        return Skip("unsupported_task", f"chain of thought on a {task!r} row")
    source, target = image_bytes(row.get("source_image")), image_bytes(row.get("target_image"))
    n_images = int(kind == "edit" or (kind == "cot" and task == "edit"))
    if kind == "und":
        source = source or target
        n_images, target = int(source is not None), None
    texts = [t for t in candidates(row) if t.count("<image>") <= n_images]
    if not texts:
        return Skip("no_text", "no instruction")
    text = texts[int(rng.integers(len(texts)))]
    drop = draw_drop(rng, cfg.dropout.get(kind, {})) if kind in ("t2i", "edit") else "none"
    answer = (row.get("response") if kind == "und" else row.get("cot") if kind == "cot" else None) or ""
    if kind in ("und", "cot") and not answer.strip():
        return Skip("no_text", "no response" if kind == "und" else "no chain of thought")
    if kind != "und" and target is None:
        return Skip("no_image", "no target image")
    if n_images and source is None:
        return Skip("no_image", "no source image")

    if kind == "und":
        prompt = prompt_rows(text, n_images, "text", processor.template)[0]
        tail = tokenize(processor, answer.strip() + "<|im_end|>", prompt=False)
    elif kind == "cot":
        prompt = prompt_rows(text, n_images, "text_image", processor.template)[0]
        img = processor.tokenizer.convert_tokens_to_ids("<img>")
        tail = tokenize(processor, answer.strip(), prompt=False) + [img]
    else:
        prompt = prompt_rows(text, n_images, "image", processor.template)[DROP_ROW[drop]]
        tail = []
    ids = tokenize(processor, processor.expand_images(prompt), prompt=True)
    if len(ids) + len(tail) > cfg.max_tokens:
        return Skip("too_long", f"{len(ids) + len(tail)} tokens > max_tokens={cfg.max_tokens}")

    try:
        src = decode(source, cfg.max_pixels).image if source is not None else None
        tgt = decode(target, cfg.max_pixels).image if target is not None else None
    except DecodeError as e:
        return Skip("decode_error", f"{e.reason}: {e}")
    tiles = reference = pixels = None
    if src is not None and "<image>" in prompt:
        tiles = processor.vit_tile(src)[None]  # [1, 3, S, S]
        if kind != "und":
            reference = processor.vae_pixels(src)  # [3, h, w]
    if tgt is not None:
        hw = pick_bucket(tgt.width, tgt.height, cfg, processor.gen_factor)
        pixels = generation_pixels(cover(tgt, hw), hw, processor.gen_mean, processor.gen_std)  # [3, h, w]
    return Example(
        kind=kind,
        sample_id=str(row.get("sample_id")),
        input_ids=ids + tail,
        labels=[IGNORE] * len(ids) + tail,
        tiles=tiles,
        target=pixels,
        reference=reference,
        drop=drop,
    )
