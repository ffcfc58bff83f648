"""Keep or reject every scored image, in the fixed filter order of DESIGN.md: decode, resolution,
exact duplicate, nsfw, watermark, aesthetic, then near duplicate among the images that passed all
of those (so a group's representative is always a keeper). A pure function of the stored
measurements and the decision keys: ``--rethreshold`` reruns only this and the final write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters import aesthetic, nsfw, watermark
from filters.phash import near_duplicate_groups, popcount, representatives
from filters.resolution import check_resolution
from pipelines.curate.config import FiltersConfig
from synth.reasons import Status, status_of
from synth.schema import score_column

MEASURE_COLUMNS = [
    "sample_id",
    "status",
    "reason",
    "detail",
    "width",
    "height",
    "phash",
    "pixel_digest",
    "scores",
]

Grouper = Callable[[np.ndarray, int], np.ndarray]  # uint64 hashes, radius -> group label per hash


@dataclass
class Anchors:
    """Images of earlier curated outputs (``--against``): they always win their group."""

    ids: list[str] = field(default_factory=list)
    phash: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


@dataclass
class Decisions:
    status: list[str]
    reason: list[str | None]
    detail: list[str | None]
    dup_of: list[str | None]
    stats: dict


def decide(
    table: pa.Table, f: FiltersConfig, anchors: Anchors | None = None, group: Grouper = near_duplicate_groups
) -> Decisions:
    ids = table.column("sample_id").to_pylist()
    status = table.column("status").to_pylist()
    reason = table.column("reason").to_pylist()
    detail = table.column("detail").to_pylist()
    dup_of: list[str | None] = [None] * len(ids)
    width, height = table.column("width").to_pylist(), table.column("height").to_pylist()
    scores = table.column("scores")
    aes = score_column(scores, "aesthetic")
    nsfw_p, wm_p = score_column(scores, "nsfw"), score_column(scores, "watermark")
    stats: dict = {}

    def reject(i: int, why: tuple[str, str] | None, dup: str | None = None) -> None:
        if why is not None:
            status[i], reason[i], detail[i], dup_of[i] = str(status_of(why[0])), why[0], why[1], dup
        else:
            status[i], reason[i], detail[i] = Status.KEPT.value, None, None

    def open_rows() -> np.ndarray:
        return np.flatnonzero(np.array([s == Status.KEPT for s in status], bool))

    for i in open_rows():
        reject(i, check_resolution(width[i], height[i], f.resolution))

    if f.exact_dedup.enabled:
        digests = table.column("pixel_digest").to_pylist()
        first_of: dict[str, int] = {}
        for i in sorted(open_rows(), key=lambda k: ids[k]):  # the smallest sample id is the original
            rep = first_of.setdefault(digests[i], i)
            if rep != i:
                reject(i, ("duplicate_exact", f"same pixels as {ids[rep]}"), ids[rep])
        stats["exact_duplicates"] = sum(r == "duplicate_exact" for r in reason)

    for check, values, cfg in (
        (nsfw.check, nsfw_p, f.nsfw),
        (watermark.check, wm_p, f.watermark),
        (aesthetic.check, aes, f.aesthetic),
    ):
        for i in open_rows():
            if not np.isnan(values[i]):
                reject(i, check(float(values[i]), cfg))

    if f.phash.enabled:
        _near_duplicates(table, f, anchors or Anchors(), group, ids, aes, open_rows(), reject, stats)
        # an exact copy whose twin lost its near-duplicate group points at the group's keeper
        index = {sid: i for i, sid in enumerate(ids)}
        for i, why in enumerate(reason):
            twin = index.get(dup_of[i]) if why == "duplicate_exact" else None
            if twin is not None and reason[twin] == "duplicate_near":
                dup_of[i] = dup_of[twin]
    return Decisions(status, reason, detail, dup_of, stats)


def _near_duplicates(table, f, anchors, group, ids, aes, rows, reject, stats) -> None:
    # nulls (undecodable rows) filled first: a nullable int64 column would come back as float64
    hashes = pc.fill_null(table.column("phash"), 0).to_numpy()[rows]
    n = len(rows)
    all_hashes = np.concatenate([hashes, anchors.phash.astype(np.int64)]).view(np.uint64)
    all_ids = np.array([ids[i] for i in rows] + list(anchors.ids), dtype=object)
    all_aes = np.concatenate([aes[rows], np.full(len(anchors.ids), np.nan)])
    is_anchor = np.r_[np.zeros(n, bool), np.ones(len(anchors.ids), bool)]
    labels = group(all_hashes, f.phash.max_distance)
    reps = representatives(labels, all_ids, all_aes, first=is_anchor)
    sizes = np.bincount(labels)
    stats["near_duplicate_groups"] = int((sizes > 1).sum())
    for k in np.flatnonzero(reps[:n] != np.arange(n)):
        r = reps[k]
        bits = int(popcount(np.array([all_hashes[k] ^ all_hashes[r]], np.uint64))[0])
        where = " (an earlier output)" if is_anchor[r] else ""
        reject(rows[k], ("duplicate_near", f"pHash {bits} bits from {all_ids[r]}{where}"), str(all_ids[r]))
