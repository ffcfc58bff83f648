"""The keep/reject decision of curation: filter order, representatives, anchors; a pure function."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from filters.phash import near_duplicate_groups
from pipelines.curate.config import CurateConfig
from pipelines.curate.decide import MEASURE_COLUMNS, Anchors, decide
from pipelines.curate.finalize import WORK_SCHEMA, group_on_ray


def table(rows: list[dict]) -> pa.Table:
    full = []
    for i, r in enumerate(rows):
        row = {"sample_id": f"id{i:02d}", "status": "kept", "width": 800, "height": 600, "phash": i * 0x0F0F0F0F0F0F0F,
               "pixel_digest": f"d{i}", "scores": []}  # fmt: skip
        row.update(r)
        if isinstance(row["scores"], dict):
            row["scores"] = list(row["scores"].items())
        full.append(row)
    return pa.Table.from_pylist(full, schema=pa.schema([WORK_SCHEMA.field(c) for c in MEASURE_COLUMNS]))


def filters(**sets):
    cfg = CurateConfig()
    for key, value in sets.items():
        section, name = key.split("__")
        setattr(getattr(cfg.filters, section), name, value)
    return cfg.filters


def test_resolution_then_exact_then_scores_in_order():
    t = table(
        [
            {"width": 100},  # too small, though also an exact duplicate of id01
            {"pixel_digest": "same", "scores": {"nsfw": 0.9, "aesthetic": 1.0}},  # nsfw before aesthetic
            {"pixel_digest": "same"},  # exact duplicate of id01 (the smaller id is kept)
            {"scores": {"watermark": 0.8, "aesthetic": 1.0}},
            {"scores": {"aesthetic": 4.0}},
            {"scores": {"aesthetic": 6.0}},
            {"status": "rejected", "reason": "decode_error", "detail": "bad", "width": None, "phash": None},
        ]
    )
    d = decide(t, filters(aesthetic__min=5.0))
    assert d.reason == [
        "too_small",
        "nsfw",
        "duplicate_exact",
        "watermark",
        "low_aesthetic",
        None,
        "decode_error",
    ]
    assert d.dup_of[2] == "id01" and d.status[5] == "kept" and d.status[6] == "rejected"
    assert d.detail[1] == "nsfw 0.900 > 0.5"


def test_nothing_left_for_near_duplicates():
    d = decide(table([{"scores": {"aesthetic": 1.0}}, {"width": 10}]), filters(aesthetic__min=5.0))
    assert d.reason == ["low_aesthetic", "too_small"] and d.stats["near_duplicate_groups"] == 0


def test_missing_scores_never_reject():
    d = decide(table([{}, {"scores": {"aesthetic": 9.0}}]), filters(aesthetic__min=5.0))
    assert d.status == ["kept", "kept"]


def test_near_duplicates_keep_the_most_aesthetic_then_smallest_id():
    base = 0x1234_5678_9ABC_DEF0
    rows = [
        {"phash": base, "scores": {"aesthetic": 5.5}},
        {"phash": base ^ 0b111, "scores": {"aesthetic": 7.0}},  # 3 bits away, best score
        {"phash": base ^ 0b1, "scores": {"aesthetic": 5.5}},
        {"phash": base ^ 0xFF00, "scores": {"aesthetic": 9.0, "nsfw": 0.99}},  # rejected first by nsfw
        {"phash": ~base & 0x7FFF_FFFF_FFFF_FFFF},
    ]
    d = decide(table(rows), filters(aesthetic__min=0.0))
    assert d.status == ["rejected", "kept", "rejected", "rejected", "kept"]
    assert d.reason[3] == "nsfw"  # a rejected image never represents a group
    assert d.dup_of[0] == d.dup_of[2] == "id01"
    assert d.detail[0] == "pHash 3 bits from id01"
    assert d.stats["near_duplicate_groups"] == 1
    # radius 0 separates them; phash off keeps all but the nsfw one
    assert decide(table(rows), filters(aesthetic__min=0.0, phash__max_distance=0)).status.count("kept") == 4
    assert decide(table(rows), filters(aesthetic__min=0.0, phash__enabled=False)).status.count("kept") == 4


def test_without_scores_the_smallest_id_represents():
    d = decide(table([{"phash": 7}, {"phash": 7}, {"phash": 6}]), filters())
    assert d.status == ["kept", "rejected", "rejected"] and d.dup_of[1:] == ["id00", "id00"]


def test_anchors_from_earlier_outputs_always_win():
    anchors = Anchors(["earlier"], np.array([0x55], np.int64))
    d = decide(
        table([{"phash": 0x55 ^ 0b11, "scores": {"aesthetic": 9}}, {"phash": 0x7F00_0000_0000_0000}]),
        filters(),
        anchors,
    )
    assert d.reason == ["duplicate_near", None] and d.dup_of[0] == "earlier"
    assert "(an earlier output)" in d.detail[0]


def test_exact_dedup_can_be_switched_off():
    t = table([{"pixel_digest": "x", "phash": 1}, {"pixel_digest": "x", "phash": 1}])
    assert decide(t, filters(exact_dedup__enabled=False)).reason == [None, "duplicate_near"]


def test_grouping_on_ray_equals_one_process(ray_session):
    rng = np.random.default_rng(3)
    centres = rng.integers(0, 2**63, 300, dtype=np.int64).view(np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, 300).astype(np.uint64)
    hashes = np.concatenate(
        [centres, centres ^ flips, rng.integers(0, 2**63, 400, dtype=np.int64).view(np.uint64)]
    )
    for radius in (1, 4, 9):
        local = near_duplicate_groups(hashes, radius)
        on_ray = group_on_ray(hashes, radius, min_size=0)
        # the same partition (labels may be numbered differently)
        assert len(set(zip(local.tolist(), on_ray.tolist(), strict=True))) == len(set(local.tolist()))
        assert len(set(on_ray.tolist())) == len(set(local.tolist()))


def test_exact_copies_point_at_the_keeper_of_their_near_group():
    t = table([{"pixel_digest": "x", "phash": 9, "scores": {"aesthetic": 1}}, {"pixel_digest": "x", "phash": 9},
               {"phash": 8, "scores": {"aesthetic": 2}}])  # fmt: skip
    d = decide(t, filters(aesthetic__min=0.0))
    assert d.reason == ["duplicate_near", "duplicate_exact", None]
    assert d.dup_of == ["id02", "id02", None]


def test_decode_stage_survives_a_row_by_row_retry():
    """run_stages retries a failed batch row by row: the decode stage must be idempotent per row."""
    from pipelines.curate.stages import Decode
    from synth.imageio import encode_png
    from synth.stage import run_stages

    class Boom(Decode):
        calls = 0

        def process_batch(self, rows):
            Boom.calls += 1
            out = super().process_batch(rows)
            if Boom.calls == 1:
                raise RuntimeError("the whole batch failed once")
            return out

    good = encode_png(np.full((300, 300, 3), 90, np.uint8))
    rows = [{"sample_id": f"s{i}", "target_image": {"bytes": None, "path": f"p{i}"}, "meta": {}, "_bytes": good}
            for i in range(3)]  # fmt: skip
    run_stages([Boom(CurateConfig())], rows, batch_size=3)
    assert [r["status"] for r in rows] == ["kept"] * 3 and all(r["width"] == 300 for r in rows)


def test_decode_stage_keeps_pixels_only_for_model_stages():
    """Without a model filter nothing reads the decoded array, so the stage never makes it; with
    one, the model stages get it. The measurements are the same either way."""
    from filters.exact_dedup import pixel_digest
    from filters.phash import phash
    from pipelines.curate.stages import Decode
    from synth.imageio import decode_image, encode_png

    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    data = encode_png(pixels)

    def decoded(cfg):
        row = {"sample_id": "s", "target_image": {"bytes": None, "path": "p"}, "meta": {}, "_bytes": data}
        return Decode(cfg).process_row(row)

    plain = decoded(CurateConfig())
    modelled = decoded(CurateConfig(filters={"watermark": {"weights": "/models/wm.pt"}}))
    assert "_image" not in plain
    np.testing.assert_array_equal(modelled["_image"], decode_image(data))
    measures = ("width", "height", "phash", "pixel_digest")
    assert (
        [plain[k] for k in measures]
        == [modelled[k] for k in measures]
        == [400, 300, phash(pixels), pixel_digest(pixels)]
    )
