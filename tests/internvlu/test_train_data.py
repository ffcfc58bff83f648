"""The training data loader on real inputs: the tiny checkpoint's processor, and shards of our
schema written by the real pipelines (text-render: t2i; text-edit: edit; physics and cs-diagram:
edit, und, t2i), plus chain-of-thought rows and broken rows written with the schema's own helpers."""

from __future__ import annotations

import io
import json
import logging
import math
from collections import Counter

import numpy as np
import pytest
import torch
from PIL import Image

from synth.internvlu.processor import Processor
from synth.internvlu.train.batch import IGNORE, collate
from synth.internvlu.train.data import DataConfig, DataError, Position, TrainData
from synth.internvlu.train.rows import (
    DROP_ROW,
    Skip,
    buckets,
    build_example,
    cover,
    pick_bucket,
    row_rng,
    target_size,
)
from synth.schema import image_value
from tests.internvlu.train_inputs import png, rows_of
from tests.test_s3 import s3_endpoint  # noqa: F401 - the moto server fixture

ALL = {"t2i": 1, "edit": 1, "und": 1, "cot": 1}


def config(**kw) -> DataConfig:
    return DataConfig.from_dict({"global_batch": 8, "mix": ALL, "sizes": [64, 96], "workers": 0, **kw})


@pytest.fixture(scope="module")
def processor(tiny_ckpt) -> Processor:
    return Processor.from_folder(tiny_ckpt / "processor")


@pytest.fixture(scope="module")
def everything(runs) -> list[str]:
    return [str(runs[k]) for k in ("text", "edit", "physics", "cs", "cot")]


def unpadded(batch: dict, row: int) -> list[int]:
    return batch["input_ids"][row][batch["attention_mask"][row].bool()].tolist()


def image(row: dict, column: str) -> Image.Image:
    return Image.open(io.BytesIO(row[column]["bytes"])).convert("RGB")


# -- the index ---------------------------------------------------------------------------------


def test_index_classifies_rows_by_kind(runs, everything, processor, caplog):
    rows = [r for k in ("text", "edit", "physics", "cs") for r in rows_of(runs[k])]
    tasks = Counter(r["task"] for r in rows)
    data = TrainData(everything, config(), processor, seed=0)
    assert data.kinds == {"t2i": tasks["t2i"], "edit": tasks["edit"], "und": tasks["und"], "cot": 5}
    assert tasks["und"] > 0 and tasks["edit"] > 0 and tasks["t2i"] > 0
    # cot weight 0: the cot rows count as their own task (3 t2i, 2 edit)
    plain = TrainData(everything, config(mix={"t2i": 1, "edit": 1}), processor, seed=0)
    assert plain.kinds == {"t2i": tasks["t2i"] + 3, "edit": tasks["edit"] + 2, "und": tasks["und"]}
    assert plain.weights == {"t2i": 0.5, "edit": 0.5}
    # a weighted kind without rows: dropped, the others renormalised, a warning
    with caplog.at_level(logging.WARNING):
        only = TrainData([str(runs["text"])], config(mix={"t2i": 3, "und": 1}), processor, seed=0)
    assert only.weights == {"t2i": 1.0} and "no und rows" in caplog.text
    bad = TrainData([str(runs["bad"])], config(mix={"t2i": 1}), processor, seed=0)
    assert bad.kinds == {"t2i": 4} and bad.excluded == {"unsupported_task": 1, "not_kept": 1}


def test_sources_without_rows_are_refused(runs, processor, tmp_path):
    with pytest.raises(DataError, match="expected run folders"):
        TrainData([str(runs["text"])], config(mix={"und": 1}), processor, seed=0)
    with pytest.raises(DataError, match="expected run folders"):
        TrainData([str(tmp_path / "nothing-*.parquet")], config(), processor, seed=0)
    with pytest.raises(DataError, match="does not divide"):
        TrainData([str(runs["text"])], config(global_batch=6), processor, seed=0, rank=0, world=4)


def test_config_from_dict():
    cfg = DataConfig.from_dict(
        {"global_batch": 4, "mix": {"t2i": 4, "edit": 1}, "dropout": {"t2i": {"all": 0.2}}}
    )
    assert cfg.dropout == {"t2i": {"all": 0.2}, "edit": {"all": 0.05, "text": 0.05}}
    assert cfg.sizes == [512] and cfg.aspect == (0.5, 2.0) and cfg.workers == 2
    with pytest.raises(DataError, match="'batch'"):
        DataConfig.from_dict({"global_batch": 4, "mix": {"t2i": 1}, "batch": 3})
    for bad in ({"mix": {"video": 1}}, {"mix": {"t2i": -1}}, {"sizes": []}, {"aspect": [2, 1]},
                {"dropout": {"und": {"all": 0.1}}}, {"dropout": {"edit": {"all": 0.6, "text": 0.6}}}):  # fmt: skip
        with pytest.raises(DataError):
            DataConfig.from_dict({"global_batch": 4, "mix": {"t2i": 1}, **bad})
    pos = Position(7, {"t2i": 30, "und": 4})
    assert Position.from_dict(json.loads(json.dumps(pos.to_dict()))) == pos
    assert Position.start() == Position(0, {})


# -- one row, one example ----------------------------------------------------------------------


def check_prompt(ex, row, kind, processor):
    """The prompt part of ``ex`` is the processor's own row for the same prompt, image and mode."""
    text = row["instruction"]
    if kind == "und":
        img = image(row, "source_image") if row["source_image"] else None
        batch, k = processor([text], [img], mode="text"), 0
    elif kind == "cot":
        img = image(row, "source_image") if row["task"] == "edit" else None
        batch, k = processor([text], [img], mode="text_image"), 0
    else:
        img = image(row, "source_image") if kind == "edit" else None
        batch, k = processor([text], [img], mode="image", height=64, width=64), DROP_ROW[ex.drop]
    want = unpadded(batch, k)
    assert ex.input_ids[: len(want)] == want
    return len(want)


@pytest.mark.parametrize("kind", ["t2i", "edit", "und", "cot"])
def test_each_kind_builds_the_processors_rows(everything, processor, kind):
    data = TrainData(everything, config(), processor, seed=0)
    img_id, end_id = processor.tokenizer.convert_tokens_to_ids(["<img>", "<|im_end|>"])
    drops = ["none", "text", "all"] if kind in ("t2i", "edit") else ["none"]
    seen = 0
    for item in range(len(data.rows[kind])):
        row, epoch = data.row(kind, item)
        row["instructions"] = None  # one variant: the instruction
        for drop in drops:
            p = {"all": 1.0} if drop == "all" else {"text": 1.0} if drop == "text" else {}
            cfg = config(dropout={kind: p} if kind in ("t2i", "edit") else {})
            ex = build_example(row, kind, cfg, processor, row_rng(row, epoch))
            assert not isinstance(ex, Skip), ex
            assert ex.kind == kind and ex.drop == drop and ex.sample_id == row["sample_id"]
            n = check_prompt(ex, row, kind, processor)
            assert len(ex.labels) == len(ex.input_ids)
            assert all(x == IGNORE for x in ex.labels[:n])
            tail = processor.tokenizer(row.get("response") or row.get("cot") or "", add_special_tokens=False)
            if kind == "und":
                assert ex.labels[n:] == ex.input_ids[n:] == tail["input_ids"] + [end_id]
                assert ex.target is None and ex.reference is None
                assert (ex.tiles is not None) == (row["source_image"] is not None)
            elif kind == "cot":
                assert ex.labels[n:] == ex.input_ids[n:] == tail["input_ids"] + [img_id]
                keeps = row["task"] == "edit"
                assert (ex.tiles is not None) == keeps and (ex.reference is not None) == keeps
            else:
                assert len(ex.input_ids) == n and ex.input_ids[-1] == img_id
                assert all(x == IGNORE for x in ex.labels)
                keeps = kind == "edit" and drop != "all"
                assert (ex.tiles is not None) == keeps and (ex.reference is not None) == keeps
            if ex.tiles is not None:
                assert ex.tiles.shape == (1, 3, processor.vit_size, processor.vit_size)
                assert torch.equal(ex.tiles[0], processor.vit_tile(image(row, "source_image")))
            if ex.reference is not None:
                assert torch.equal(ex.reference, processor.vae_pixels(image(row, "source_image")))
            if kind != "und":
                _, h, w = ex.target.shape
                assert h % processor.gen_factor == 0 and w % processor.gen_factor == 0
                assert 0.5 <= w / h <= 2.0 and ex.target.abs().max() <= 1
                tgt = image(row, "target_image")
                assert (h, w) == pick_bucket(tgt.width, tgt.height, cfg, processor.gen_factor)
            seen += 1
    assert seen >= len(drops) * 4


def test_instruction_variants_are_drawn_per_row_and_epoch(runs, processor):
    row = rows_of(runs["text"])[0]
    texts = {row["instruction"]} | {v["text"] for v in row["instructions"]}
    cfg, got = config(dropout={"t2i": {}}), set()
    batch = processor(sorted(texts), mode="image", height=64, width=64)
    wanted = {tuple(unpadded(batch, i)) for i in range(len(texts))}  # the cond rows
    for epoch in range(24):
        ex = build_example(row, "t2i", cfg, processor, row_rng(row, epoch))
        assert tuple(ex.input_ids) in wanted
        got.add(tuple(ex.input_ids))
        again = build_example(row, "t2i", cfg, processor, row_rng(row, epoch))
        assert again.input_ids == ex.input_ids and torch.equal(again.target, ex.target)
    assert len(got) == len(wanted) > 1


def test_dropout_frequencies(processor):
    """Over many rows, the dropped rows come as often as configured (the paper's defaults)."""
    cfg, n = config(sizes=[32]), 1500
    src, tgt = image_value(png(32, 32, 1)), image_value(png(32, 32, 2))
    for kind, want in (("t2i", {"all": 0.1, "text": 0.0}), ("edit", {"all": 0.05, "text": 0.05})):
        counts = Counter()
        for i in range(n):
            row = {"sample_id": str(i), "seed": 1000 + i, "task": kind, "instruction": "a red cube",
                   "source_image": src if kind == "edit" else None, "target_image": tgt}  # fmt: skip
            counts[build_example(row, kind, cfg, processor, row_rng(row, 3)).drop] += 1
        for what, p in want.items():
            assert abs(counts[what] / n - p) <= 4 * math.sqrt(p * (1 - p) / n) + 1e-9, (kind, counts)


def test_buckets():
    for aspect in ((0.5, 2.0), (0.75, 1.34), (1.0, 1.0)):
        for size in (256, 512, 768, 1024):
            got = buckets(size, 16, aspect)
            assert got and (size // 16 * 16, size // 16 * 16) in got
            for h, w in got:
                assert h % 16 == 0 and w % 16 == 0
                assert aspect[0] - 0.02 <= w / h <= aspect[1] + 0.02
                assert abs(h * w / size**2 - 1) <= 2 * 16 / size
    assert len(buckets(512, 16, (0.5, 2.0))) == 9 and len(buckets(512, 16, (1.0, 1.0))) == 1
    assert target_size(1000, 1000, [512, 768, 1024]) == 768
    assert target_size(1024, 1024, [512, 768, 1024]) == 1024
    assert target_size(300, 200, [512, 768]) == 512  # smaller than all: the smallest
    cfg = config(sizes=[512, 1024])
    assert pick_bucket(1920, 1080, cfg, 16) == (768, 1360)  # 16:9 at 1024
    assert pick_bucket(600, 1300, cfg, 16) == (720, 368)  # 1:2 (nearest to 0.46) at 512
    assert pick_bucket(400, 2000, cfg, 16) == (720, 368)  # beyond 1:2: still the 1:2 bucket, cropped
    img = Image.fromarray(np.arange(200 * 100 * 3, dtype=np.uint8).reshape(100, 200, 3))
    assert cover(img, (64, 64)).size == (64, 64) and cover(img, (32, 128)).size == (128, 32)
    # the centre is kept: a vertical stripe in the middle survives the crop of a wide image
    striped = np.zeros((100, 300, 3), dtype=np.uint8)
    striped[:, 140:160] = 255
    out = np.asarray(cover(Image.fromarray(striped), (50, 50)))
    assert out[:, 25].min() > 200 and out[:, 2].max() < 30


# -- skipping ----------------------------------------------------------------------------------


def test_unusable_rows_are_skipped_with_reasons(runs, processor):
    cfg = config(max_tokens=1500, mix={"t2i": 1}, global_batch=6)
    data = TrainData([str(runs["bad"])], cfg, processor, seed=0)
    totals, used = Counter(), Counter()
    for step in take(data, Position.start(), 4):
        assert len(step.examples) + sum(step.skipped.values()) == 6  # a skipped slot stays empty
        totals.update(step.skipped)
        used.update(e.sample_id for e in step.examples)
    # 24 slots: 6 epochs of the 4 indexed rows (the image row and the rejected one are left out)
    assert totals == {"decode_error": 6, "no_image": 6, "too_long": 6} and used == {"fine": 6}
    good = rows_of(runs["text"])[0]
    rng = np.random.default_rng(0)
    cases = {
        "no_text": ({**good, "instruction": "  ", "instructions": []}, "t2i"),
        "unsupported_task": ({**good, "task": "image"}, "cot"),
        "no_image": ({**good, "source_image": None}, "edit"),
        "decode_error": ({**good, "target_image": image_value(png(64, 64)[:100])}, "t2i"),
    }
    for reason, (row, kind) in cases.items():
        got = build_example(row, kind, cfg, processor, rng)
        assert isinstance(got, Skip) and got.reason == reason, (reason, got)
    bomb = config(max_pixels=1000)
    assert build_example(good, "t2i", bomb, processor, rng).reason == "decode_error"
    und = {**good, "task": "und", "response": None}
    assert build_example(und, "und", cfg, processor, rng).reason == "no_text"


# -- order, resume, sharding -------------------------------------------------------------------


def fingerprint(step) -> list[tuple]:
    return [
        (e.sample_id, e.kind, e.drop, tuple(e.input_ids), tuple(e.labels), tensors(e)) for e in step.examples
    ]


def tensors(e) -> tuple:
    return tuple(
        None if t is None else (tuple(t.shape), float(t.double().sum()))
        for t in (e.tiles, e.target, e.reference)
    )


def take(data: TrainData, start: Position, n: int) -> list:
    return [s for _, s in zip(range(n), data.steps(start), strict=False)]


def test_same_seed_same_rows_and_resume_continues_exactly(everything, processor):
    a = take(TrainData(everything, config(), processor, seed=5), Position.start(), 5)
    b = take(TrainData(everything, config(), processor, seed=5), Position.start(), 5)
    assert [fingerprint(s) for s in a] == [fingerprint(s) for s in b]
    for x, y in zip(a[0].examples, b[0].examples, strict=True):
        assert torch.equal(x.target, y.target) if x.target is not None else y.target is None
    other = take(TrainData(everything, config(), processor, seed=6), Position.start(), 2)
    assert [e.sample_id for s in other for e in s.examples] != [
        e.sample_id for s in a[:2] for e in s.examples
    ]
    assert [s.position.step for s in a] == [1, 2, 3, 4, 5]
    assert sum(a[-1].position.consumed.values()) == 5 * 8
    # resume from the saved position of step 2 (through JSON, as a checkpoint stores it)
    saved = Position.from_dict(json.loads(json.dumps(a[1].position.to_dict())))
    resumed = take(TrainData(everything, config(), processor, seed=5), saved, 3)
    assert [fingerprint(s) for s in resumed] == [fingerprint(s) for s in a[2:]]
    assert [s.position for s in resumed] == [s.position for s in a[2:]]
    # a kind's stream: each epoch a permutation of its rows, row groups kept together
    data = TrainData(everything, config(), processor, seed=5)
    n = len(data.rows["t2i"])
    epochs = [[data.locate("t2i", c)[1:] for c in range(e * n, (e + 1) * n)] for e in range(3)]
    assert all(sorted(ep) == sorted(epochs[0]) for ep in epochs) and len(set(epochs[0])) == n
    assert epochs[0] != epochs[1]
    groups = [(s, g) for s, g, _ in epochs[0]]
    assert sum(x != y for x, y in zip(groups, groups[1:], strict=False)) == len(set(groups)) - 1


def test_ranks_and_workers_cover_the_same_global_batch(everything, processor):
    start = Position(3, {"t2i": 5, "edit": 2, "und": 0, "cot": 11})
    one = take(TrainData(everything, config(workers=0), processor, seed=1), start, 4)
    ranks = [
        take(TrainData(everything, config(workers=2), processor, seed=1, rank=r, world=2), start, 4)
        for r in (0, 1)
    ]
    for k, whole in enumerate(one):
        parts = [ranks[0][k], ranks[1][k]]
        assert parts[0].position == parts[1].position == whole.position
        assert fingerprint(parts[0]) + fingerprint(parts[1]) == fingerprint(whole)
        assert Counter(parts[0].skipped) + Counter(parts[1].skipped) == Counter(whole.skipped)
        assert len(parts[0].examples) + len(parts[1].examples) + sum(whole.skipped.values()) == 8
    batch = collate(one[0].examples, processor.tokenizer.pad_token_id)
    assert len(batch) == len(one[0].examples) and batch.input_ids.shape[0] == len(batch)


def test_each_worker_builds_only_its_own_steps(everything, processor):
    data = TrainData(everything, config(), processor, seed=2)
    start = Position(4, {"t2i": 3})
    whole = take(data, start, 6)
    for j in range(3):
        mine = [s for _, s in zip(range(2), data.iterate(start, j, 3), strict=False)]
        assert [s.position for s in mine] == [whole[j].position, whole[j + 3].position]
        assert [fingerprint(s) for s in mine] == [fingerprint(whole[j]), fingerprint(whole[j + 3])]


def test_und_row_without_source_shows_its_target(runs, processor):
    row = {**rows_of(runs["text"])[0], "task": "und", "response": "A list page.", "instructions": None}
    ex = build_example(row, "und", config(), processor, row_rng(row, 0))
    assert torch.equal(ex.tiles[0], processor.vit_tile(image(row, "target_image")))
    assert ex.target is None and ex.reference is None
    check_prompt(ex, {**row, "source_image": row["target_image"]}, "und", processor)


def test_sources_on_s3_give_the_same_steps(runs, processor, s3_endpoint):  # noqa: F811
    """Run folders on S3 (the endpoint in the URI's query) read as the local ones, by two workers."""
    import pyarrow.fs as pafs

    fs = pafs.S3FileSystem(endpoint_override=f"127.0.0.1:{s3_endpoint}", scheme="http", region="us-east-1")
    for name in ("text", "cs"):
        for f in [runs[name] / "run.json", *sorted((runs[name] / "data").glob("*.parquet"))]:
            with fs.open_output_stream(f"synth-test/train/{name}/{f.relative_to(runs[name])}") as out:
                out.write(f.read_bytes())
    query = f"?endpoint_override=127.0.0.1:{s3_endpoint}&scheme=http&region=us-east-1"
    remote = [f"s3://synth-test/train/{name}{query}" for name in ("text", "cs")]
    local = [str(runs[name]) for name in ("text", "cs")]
    cfg = {"mix": {"t2i": 1, "edit": 1, "und": 1}}
    on_s3 = TrainData(remote, config(workers=2, **cfg), processor, seed=3)
    here = TrainData(local, config(**cfg), processor, seed=3)
    assert on_s3.kinds == here.kinds and on_s3.shards[0].startswith("s3://synth-test/train/text/data/")
    got, want = take(on_s3, Position.start(), 3), take(here, Position.start(), 3)
    assert [fingerprint(s) for s in got] == [fingerprint(s) for s in want]
