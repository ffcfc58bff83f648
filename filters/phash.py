"""Near-duplicate grouping of 64-bit perceptual hashes within a Hamming radius, exact and sub-quadratic.

Multi-index tables in the manner of Manku, Jain and Das Sarma (WWW 2007): split the 64 bits into
``b`` blocks; two hashes within ``r`` differing bits agree exactly on at least ``b - r`` blocks
(pigeonhole), so one table per choice of ``b - r`` blocks, keyed by those blocks' bits, finds
every pair within the radius. Candidates that share a key are verified by popcount, and groups are
the connected components of the verified pairs. Wide keys (b=8, 4 blocks = 32 bits at the default
r=4: 70 tables) keep chance candidates near linear in N; every radius up to 10 stays exact.

Each table is independent, so a dataset-wide pass runs one Ray task per batch of tables over the
shared hash array (:func:`candidate_pairs_for_tables`), then :func:`components` on the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import imagehash
import numpy as np
from PIL import Image
from pydantic import Field
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from synth.config import Strict

MAX_RADIUS = 10


class PhashConfig(Strict):
    enabled: bool = True
    max_distance: int = Field(4, ge=0, le=MAX_RADIUS, description="Hamming radius of a near duplicate")


def phash(image: np.ndarray) -> int:
    """64-bit perceptual hash (imagehash's DCT pHash) as a signed int64, the Parquet ``phash`` column."""
    bits = imagehash.phash(Image.fromarray(image)).hash.flatten()
    value = int("".join("1" if b else "0" for b in bits), 2)
    return value - (1 << 64) if value >= 1 << 63 else value


def blocks_for(radius: int) -> int:
    """Blocks to split the hash into: 8 up to r=7 (keys of (8-r)*8 bits), 12 above."""
    if not 0 <= radius <= MAX_RADIUS:
        raise ValueError(f"near-duplicate radius must be in 0..{MAX_RADIUS}, got {radius}")
    return 8 if radius < 8 else 12


def table_masks(radius: int) -> list[np.uint64]:
    """One bit mask per table: the union of ``b - r`` of the ``b`` blocks."""
    b = blocks_for(radius)
    edges = np.linspace(0, 64, b + 1).astype(int)
    block_masks = [sum(1 << i for i in range(lo, hi)) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [np.uint64(sum(block_masks[i] for i in combo)) for combo in combinations(range(b), b - radius)]


def popcount(x: np.ndarray) -> np.ndarray:
    """Bits set in each uint64 (SWAR, vectorised)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


SMALL_GROUP = 16


def _pairs_sharing_key(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs whose keys are equal. Vectorised: pairs (p, p + d) of sorted positions for
    each offset d below the small-group size; only groups larger than that loop in Python."""
    n = len(keys)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, n])
    group_end = np.repeat(starts + sizes, sizes)  # per sorted position: the end of its group
    size_of = np.repeat(sizes, sizes)
    left, right = [], []
    small = np.flatnonzero((size_of > 1) & (size_of <= SMALL_GROUP))
    for d in range(1, min(int(sizes.max(initial=1)), SMALL_GROUP)):
        small = small[small + d < group_end[small]]
        if not len(small):
            break
        left.append(order[small])
        right.append(order[small + d])
    for start, size in zip(starts[sizes > SMALL_GROUP], sizes[sizes > SMALL_GROUP], strict=True):
        members = order[start : start + size]
        i, j = np.triu_indices(size, k=1)
        left.append(members[i])
        right.append(members[j])
    if not left:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(left), np.concatenate(right)


def candidate_pairs_for_tables(hashes: np.ndarray, masks: list[np.uint64], radius: int) -> np.ndarray:
    """Verified pairs (k, 2) of indices within ``radius``, from the given tables (deduplicated)."""
    hashes = hashes.astype(np.uint64, copy=False)
    n = np.int64(len(hashes))
    found = []
    for mask in masks:
        i, j = _pairs_sharing_key(hashes & mask)
        if len(i):
            close = popcount(hashes[i] ^ hashes[j]) <= radius
            lo, hi = np.minimum(i, j)[close], np.maximum(i, j)[close]
            found.append(lo.astype(np.int64) * n + hi)  # one int64 per pair: a cheap 1-D unique
    if not found:
        return np.empty((0, 2), np.int64)
    codes = np.unique(np.concatenate(found))
    return np.stack([codes // n, codes % n], axis=1)


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Group label per index: connected components of the pair graph."""
    if len(pairs) == 0:
        return np.arange(n)
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


PairFinder = Callable[[np.ndarray, list[np.uint64], int], np.ndarray]


def near_duplicate_groups(
    hashes: np.ndarray, radius: int = 4, find_pairs: PairFinder | None = None
) -> np.ndarray:
    """Group labels for 64-bit hashes (int64 two's complement or uint64) within ``radius`` bits.
    Equal hashes are merged first (a crawl's thousand copies of one placeholder cost one entry),
    then ``find_pairs`` (default: :func:`candidate_pairs_for_tables` here; the curate pass fans
    the tables out over Ray) checks the tables over the distinct hashes."""
    hashes = np.asarray(hashes)
    hashes = hashes.view(np.uint64) if hashes.dtype == np.int64 else hashes.astype(np.uint64)
    distinct, inverse = np.unique(hashes, return_inverse=True)
    pairs = (find_pairs or candidate_pairs_for_tables)(distinct, table_masks(radius), radius)
    return components(len(distinct), pairs)[inverse.reshape(-1)]


def representatives(
    labels: np.ndarray,
    ids: np.ndarray | list[str],
    scores: np.ndarray | None = None,
    first: np.ndarray | None = None,
) -> np.ndarray:
    """Index of each row's group representative, the same on every run: rows marked ``first``
    (earlier outputs under --against) win, then the highest score (NaN counts as lowest), then the
    smallest sample id."""
    n = len(labels)
    if n == 0:
        return np.empty(0, np.int64)
    ids = np.asarray(ids, dtype=object).astype(str)
    score = np.zeros(n) if scores is None else np.nan_to_num(np.asarray(scores, float), nan=-np.inf)
    not_first = np.ones(n, bool) if first is None else ~np.asarray(first, bool)
    order = np.lexsort((ids, -score, not_first, labels))  # last key sorts first
    sorted_labels = labels[order]
    heads = order[np.r_[True, sorted_labels[1:] != sorted_labels[:-1]]]
    rep_of_label = dict(zip(labels[heads].tolist(), heads.tolist(), strict=True))
    return np.array([rep_of_label[x] for x in labels.tolist()], dtype=np.int64)
