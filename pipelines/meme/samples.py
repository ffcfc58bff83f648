"""A folder of memes with known captions, made from bundled photos: what ``synth meme samples``
writes so a user (and the tests) can try ``synth meme --input`` without a meme collection."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.meme import plan as plans
from pipelines.meme.common import Drawer, drawn_captions
from pipelines.meme.config import MemeConfig
from synth.identity import sample_rng
from synth.imageio import encode_png
from synth.sampling import choice
from synth.sources import PhotoPool


def write_memes(folder: str, num: int, seed: int = 0, cfg: MemeConfig | None = None) -> list[dict]:
    """``num`` memes (``meme_000.png``...): pool photos captioned with bundled plans, classic style,
    and ``captions.json`` holding each file's captions as drawn (the truth detection is checked against)."""
    cfg = cfg or MemeConfig()
    drawer = Drawer(cfg)
    pool = PhotoPool(cfg.sources.images, cfg.sources.image_column, cfg.sources.caption_column)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    truth = []
    for i in range(num):
        rng = sample_rng(seed * 1_000_003 + i)
        photo = pool.load(pool[i % len(pool)])
        plan = plans.bundled_plan(rng, list(plans.EDGES))
        meme = drawer.draw(photo.pixels, plan, choice(rng, cfg.joke.languages), "classic", {})
        name = f"meme_{i:03d}.png"
        (out / name).write_bytes(encode_png(meme.image))
        truth.append({"file": name, "photo": photo.ref, "captions": drawn_captions(meme, plan)})
    (out / "captions.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth
